"""TLS to PostgreSQL, named as libpq names it (`sslmode`), however it is given.

Managed PostgreSQL providers hand out URLs ending in `?sslmode=require`; asyncpg does not
know `sslmode` (it takes `ssl=<mode>`) and would fail the first connect with a TypeError. So
the mode is read from the URL under either name, or from `DB_SSLMODE`, taken out of the URL
and given to asyncpg as its `ssl` argument. With `verify-ca` or `verify-full`, asyncpg checks
the server's certificate against `PGSSLROOTCERT` (or `~/.postgresql/root.crt`).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, cast, get_args

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: frozenset[str] = frozenset(get_args(SslMode))
# The modes that never send a byte in clear text: the others fall back to it, or use it.
ENCRYPTED: frozenset[str] = frozenset({"require", "verify-ca", "verify-full"})
_URL_NAMES = ("sslmode", "ssl")


def split_ssl_mode(url: str) -> tuple[URL, SslMode | None]:
    """The URL without its TLS parameter, and the mode it named (None if it named none)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("DATABASE_URL is not a URL (postgresql+asyncpg://user@host/db)") from None
    named = {value for name in _URL_NAMES for value in _values(parsed.query.get(name))}
    if len(named) > 1:
        raise ValueError(f"DATABASE_URL names more than one TLS mode: {sorted(named)}")
    mode = named.pop() if named else None
    if mode is not None and mode not in SSL_MODES:
        raise ValueError(f"DATABASE_URL's sslmode must be one of {sorted(SSL_MODES)}")
    return parsed.difference_update_query(_URL_NAMES), cast(SslMode | None, mode)


def _values(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def is_local(url: URL) -> bool:
    """Whether the server is on this machine (a Unix socket or a loopback address), where
    nothing crosses a network."""
    socket_dir = _values(url.query.get("host"))
    if socket_dir:
        return all(part.startswith("/") for part in socket_dir)
    host = url.host or ""
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def connect_options(url: str, configured: SslMode | None) -> tuple[URL, SslMode | None]:
    """The URL to connect to and the TLS mode to connect with: `configured` (DB_SSLMODE) or
    the URL's, which may not contradict each other; None leaves asyncpg's default (prefer)."""
    bare, from_url = split_ssl_mode(url)
    if configured is not None and from_url is not None and configured != from_url:
        raise ValueError(f"DB_SSLMODE={configured} contradicts sslmode={from_url} in DATABASE_URL")
    return bare, configured or from_url


def ssl_argument(mode: SslMode | None) -> dict[str, Any]:
    """asyncpg's connect argument for `mode`."""
    return {"ssl": mode} if mode is not None else {}
