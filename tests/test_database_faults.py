"""A slow or saturated database answers 503 with Retry-After in bounded time: no hang, no 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from app.config import Settings
from tests.api import Api, production_app


@asynccontextmanager
async def app_with(settings: Settings, **changes: Any) -> AsyncIterator[Api]:
    async with production_app(settings, **changes) as (_, api):
        yield api


@asynccontextmanager
async def clients_locked(app: FastAPI) -> AsyncIterator[None]:
    """Someone else holds the clients table: every read of it waits."""
    async with app.state.engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await transaction.rollback()


async def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = await call()
    return result, time.monotonic() - started


async def test_a_statement_timeout_is_a_503(app: FastAPI, settings: Settings) -> None:
    async with app_with(settings, db_statement_timeout_ms=300) as api, clients_locked(app):
        response, seconds = await timed(lambda: api.actor().get("/v1/clients"))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert seconds < 3


async def test_an_exhausted_pool_is_a_503_and_recovers(app: FastAPI, settings: Settings) -> None:
    saturated: AbstractAsyncContextManager[Api] = app_with(
        settings, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=1.0
    )
    async with saturated as api:
        alice = api.actor()
        async with clients_locked(app):
            holder = asyncio.create_task(alice.get("/v1/clients"))  # takes the only connection
            await asyncio.sleep(0.2)
            waiter, seconds = await timed(lambda: alice.get("/v1/clients"))
        assert waiter.status_code == 503
        assert 0.8 < seconds < 2  # the pool timeout (1 s), not twice it
        assert (await holder).status_code == 200
        assert (await alice.get("/v1/clients")).status_code == 200
