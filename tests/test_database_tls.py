"""TLS to PostgreSQL: production refuses clear text to another host, and the mode a URL or
DB_SSLMODE names is the one the connections use (a server that refuses TLS is seen refusing
it, through a fake server that records what reaches it)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.db import create_engine
from tests.api import production_app

STRONG = "p" * 48
SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # what a client sends to ask for TLS


def production(database_url: str, **changes: Any) -> Settings:
    return Settings(
        app_env="production",
        jwt_secret=STRONG,
        api_key_pepper=STRONG,
        database_url=database_url,
        **changes,
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://app@db.example.com/goals",
        "postgresql+asyncpg://app@db.example.com/goals?sslmode=prefer",
        "postgresql+asyncpg://app@10.0.0.5/goals?ssl=allow",
    ],
)
def test_production_refuses_a_remote_database_without_tls(url: str) -> None:
    with pytest.raises(ValidationError, match="DB_SSLMODE=verify-full"):
        production(url)


@pytest.mark.parametrize(
    ("url", "changes"),
    [
        ("postgresql+asyncpg://app@db.example.com/goals?sslmode=require", {}),
        ("postgresql+asyncpg://app@db.example.com/goals?ssl=verify-full", {}),
        ("postgresql+asyncpg://app@db.example.com/goals", {"db_sslmode": "verify-ca"}),
        ("postgresql+asyncpg://app@db.example.com/goals", {"db_sslmode": "disable"}),
        ("postgresql+asyncpg://app@127.0.0.1:5432/goals", {}),
        ("postgresql+asyncpg://app@localhost/goals", {}),
        ("postgresql+asyncpg://app@[::1]:5432/goals", {}),
        ("postgresql+asyncpg://app@/goals?host=/var/run/postgresql", {}),
    ],
)
def test_production_accepts_tls_a_local_server_or_clear_text_on_purpose(
    url: str, changes: dict[str, Any]
) -> None:
    assert production(url, **changes).app_env == "production"


def test_a_contradictory_or_unreadable_url_stops_the_start() -> None:
    with pytest.raises(ValidationError, match="contradicts"):
        Settings(database_url="postgresql+asyncpg://a@h/d?sslmode=require", db_sslmode="disable")
    with pytest.raises(ValidationError, match="more than one TLS mode"):
        Settings(database_url="postgresql+asyncpg://a@h/d?sslmode=require&ssl=disable")
    with pytest.raises(ValidationError, match="sslmode must be one of"):
        Settings(database_url="postgresql+asyncpg://a@h/d?sslmode=sometimes")
    with pytest.raises(ValidationError, match="DATABASE_URL is not a URL"):
        production("db.example.com:5432")


class FakeServer:
    """Answers a TLS request with "no", as a server without TLS does, and keeps what the
    client sent: the request, and the clear-text start-up message if one followed."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.read(8192)
            self.received.append(first)
            if first == SSL_REQUEST:
                writer.write(b"N")
                await writer.drain()
                following = await asyncio.wait_for(reader.read(8192), timeout=2)
                if following:
                    self.received.append(following)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def fake_server() -> AsyncIterator[tuple[FakeServer, int]]:
    fake = FakeServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake, port


async def connect_once(settings: Settings, url: str) -> None:
    engine = create_engine(settings, url)
    try:
        async with engine.connect():
            pass
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url_mode", "configured", "sent", "error"),
    [
        ("?sslmode=require", None, [SSL_REQUEST], "rejected SSL upgrade"),
        ("", "require", [SSL_REQUEST], "rejected SSL upgrade"),
        # Without the CA to check the server against (no PGSSLROOTCERT here), not even that.
        ("?ssl=verify-full", None, [], "root certificate file"),
    ],
)
async def test_a_required_tls_mode_sends_nothing_in_clear_text(
    settings: Settings, url_mode: str, configured: Any, sent: list[bytes], error: str
) -> None:
    async with fake_server() as (fake, port):
        url = f"postgresql+asyncpg://canary-user@127.0.0.1:{port}/goals{url_mode}"
        with pytest.raises(Exception, match=error):
            await connect_once(settings.model_copy(update={"db_sslmode": configured}), url)
    assert fake.received == sent  # no start-up message, which names the user, in clear text


async def test_prefer_falls_back_to_clear_text_and_disable_never_asks(settings: Settings) -> None:
    """The other side of the test above: the same client, told it may, does send clear text,
    so the refusal there is the mode's doing."""
    for mode, first in (("prefer", SSL_REQUEST), ("disable", None)):
        async with fake_server() as (fake, port):
            url = f"postgresql+asyncpg://canary-user@127.0.0.1:{port}/goals?sslmode={mode}"
            with pytest.raises(Exception):  # noqa: B017, PT011 - the fake server hangs up
                await connect_once(settings, url)
        if first is not None:
            assert fake.received[0] == first
        assert b"canary-user" in fake.received[-1]
        assert (SSL_REQUEST in fake.received) == (mode == "prefer")


async def test_the_service_runs_on_a_url_with_libpq_sslmode(settings: Settings) -> None:
    """asyncpg alone fails the first connect on `sslmode=` (not one of its arguments)."""
    assert settings.database_url is not None
    separator = "&" if "?" in settings.database_url else "?"
    url = f"{settings.database_url}{separator}sslmode=prefer"
    async with production_app(settings, database_url=url) as (_, api):
        response = await api.http.get("/readyz")
    assert response.status_code == 200, response.text
