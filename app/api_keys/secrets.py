"""API key material: a recognisable format with a checksum, stored only as a keyed hash.

A key looks like `tgk_` + 32 random base62 characters + a 6-character checksum (like GitHub's
tokens): secret scanners can spot a leaked one, and a mistyped key is refused without touching
the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib

PREFIX = "tgk_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LENGTH = 32  # about 190 bits
_CHECKSUM_LENGTH = 6
KEY_LENGTH = len(PREFIX) + _RANDOM_LENGTH + _CHECKSUM_LENGTH


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode()), _CHECKSUM_LENGTH)


def generate_key() -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return PREFIX + random_part + _checksum(random_part)


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def is_well_formed(key: str) -> bool:
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX):
        return False
    body = key[len(PREFIX) :]
    if any(ch not in _ALPHABET for ch in body):
        return False
    random_part, checksum = body[:_RANDOM_LENGTH], body[_RANDOM_LENGTH:]
    return hmac.compare_digest(checksum, _checksum(random_part))


def hash_key(key: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """Enough to recognise a key in a list, far too little to use it."""
    return key[: len(PREFIX) + 6]
