"""JWT verification (and minting, for development and tests) with PyJWT."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import jwt
from jwt.types import Options

from app.auth.caller import USER_ROLES, Caller, Role
from app.auth.jwks import InvalidKey, JwksKeySource, JwksUnavailable, verify_with_jwks
from app.config import Settings
from app.problems import ServiceUnavailable, Unauthorized
from app.schemas import is_name

ALLOWED_ALGORITHMS = ["HS256"]
# A token's `typ` header, when it has one, must say it is an access token (RFC 9068's
# `at+jwt`, or plain `JWT`): not a refresh, logout or event token the provider also signs.
ACCESS_TOKEN_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
MAX_ORG_LENGTH = 64
MAX_SUBJECT_LENGTH = 255


class ExpiredToken(Unauthorized):
    """A token that was valid: its signature checks, its time is up."""


class VerifiedTokens:
    """Tokens already verified, until they expire: a client sends the same token on every
    request, and checking its signature each time is the costliest part of authenticating."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()

    def get(self, token: str) -> Caller | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        caller, expires = entry
        if time.time() >= expires:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return caller

    def put(self, token: str, caller: Caller, expires: float) -> None:
        self._entries[token] = (caller, expires)
        self._entries.move_to_end(token)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


async def verify_token(
    token: str,
    settings: Settings,
    jwks: JwksKeySource | None,
    verified: VerifiedTokens | None = None,
) -> Caller:
    """Check signature, expiry and (when configured) issuer and audience; return the Caller.

    With JWT_JWKS_URL the identity provider's RS256/ES256 keys are the only ones accepted;
    otherwise only HS256 with JWT_SECRET. The two are never mixed.
    """
    cached = verified.get(token) if verified is not None else None
    if cached is not None:
        return cached
    claims = await _verified_claims(token, settings, jwks)
    caller = _caller_from_claims(claims)
    if verified is not None:
        verified.put(token, caller, float(claims["exp"]))
    return caller


def _check_type(token: str) -> None:
    """Before the signature, which covers the header: a wrong `typ` fails either way."""
    try:
        typ = jwt.get_unverified_header(token).get("typ")
    except jwt.PyJWTError:
        raise Unauthorized("The token is not valid.") from None
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES):
        raise Unauthorized("The token is not an access token (see its `typ` header).")


async def _verified_claims(
    token: str, settings: Settings, jwks: JwksKeySource | None
) -> dict[str, Any]:
    _check_type(token)
    if jwks is not None:
        try:
            claims = await verify_with_jwks(
                token, jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience
            )
        except JwksUnavailable:
            raise ServiceUnavailable(
                "The identity provider's keys cannot be fetched; retry shortly.",
                headers={"Retry-After": "5"},
            ) from None
        except jwt.ExpiredSignatureError:
            raise ExpiredToken("The token has expired.") from None
        except (InvalidKey, jwt.PyJWTError):
            raise Unauthorized("The token is not valid.") from None
        return claims
    return _shared_secret_claims(token, settings)


def verify_shared_secret_token(token: str, settings: Settings) -> Caller:
    return _caller_from_claims(_shared_secret_claims(token, settings))


def _shared_secret_claims(token: str, settings: Settings) -> dict[str, Any]:
    required = ["exp", "sub"]
    if settings.jwt_issuer:
        required.append("iss")
    if settings.jwt_audience:
        required.append("aud")
    options: Options = {"require": required, "verify_aud": settings.jwt_audience is not None}
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=ALLOWED_ALGORITHMS,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options=options,
            leeway=30,
        )
    except jwt.ExpiredSignatureError:
        raise ExpiredToken("The token has expired.") from None
    except jwt.PyJWTError:
        raise Unauthorized("The token is not valid.") from None
    return claims


def _caller_from_claims(claims: dict[str, Any]) -> Caller:
    subject, org, role = claims.get("sub"), claims.get("org"), claims.get("role")
    if not _identifier(subject, MAX_SUBJECT_LENGTH):
        raise Unauthorized("The token's `sub` claim is missing or invalid.")
    if not _identifier(org, MAX_ORG_LENGTH):
        raise Unauthorized("The token's `org` claim is missing or invalid.")
    if role not in {r.value for r in USER_ROLES}:
        raise Unauthorized("The token's `role` claim must be admin, clinician or client.")
    return Caller(org_id=org, subject=subject, role=Role(role))


def _identifier(claim: object, max_length: int) -> TypeGuard[str]:
    """Any string the identity provider vouches for, up to `max_length` characters, that can
    name someone (`app.schemas.is_name`, the rule ids in bodies and paths follow too)."""
    return isinstance(claim, str) and 0 < len(claim) <= max_length and is_name(claim)


def mint_token(
    settings: Settings,
    *,
    role: Role,
    org: str,
    subject: str,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """A signed development token, as the identity provider would issue it."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": subject, "org": org, "role": role.value, "iat": now}
    claims["exp"] = now + ttl
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
