"""Connections borrowed from SQLAlchemy's pool for one statement (or one batch), with no
SQLAlchemy Connection or session around them: what app/driver.py runs its statements on when
the request holds no connection of its own."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.util import greenlet_spawn


async def on_pooled_connection(engine: AsyncEngine, run: Callable[..., Awaitable[Any]]) -> Any:
    """`run(pooled, lost=...)` on a connection borrowed from the pool for it alone, with no
    Connection around it: 5.5 µs to borrow and give back (see `_borrow`), where
    `engine.connect()` took 78 µs (its start and close are greenlet calls of their own, and
    nothing here needs what they set up). `run` calls `lost` when the connection cannot be
    trusted again."""
    pooled = await _borrow(engine)
    try:
        return await run(pooled, lost=partial(greenlet_spawn, pooled.invalidate))
    except asyncio.CancelledError:
        # Cut off mid-statement: what the server sends next would confuse the next borrower.
        await greenlet_spawn(pooled.invalidate)
        raise
    finally:
        await _give_back(engine, pooled)


# SQLAlchemy's pool is synchronous code that may wait (for a free connection, to connect, to
# roll back, to close), through a greenlet: `engine.raw_connection()` and `close` run it in a
# new one each, in case it waits. Taking an idle connection, or giving one back with nothing to
# roll back and room in the pool, waits for nothing: done directly, a borrow and its return
# cost 5.5 µs instead of 26, and a GET of one goal (1.3 borrows, its audit batch's share
# included) 425 µs of CPU instead of 497 (median of 9 runs in-process; a greenlet switch
# copies the stack of every frame a request has, so it costs more there than alone).
#
# Should the idle connection need connecting again (after it was lost), SQLAlchemy refuses to
# wait outside a greenlet: `_borrow` then takes the greenlet way. The refusal leaves the
# coroutine SQLAlchemy made for asyncpg's connect unawaited, which Python would warn of: a
# fallback, not a bug, so not reported. (Any other refusal still raises MissingGreenlet.)
QUIET_RECONNECT: dict[str, Any] = {  # no `module`: Python may warn as it collects it, later
    "action": "ignore",
    "message": "coroutine 'connect' was never awaited",
    "category": RuntimeWarning,
}
warnings.filterwarnings(**QUIET_RECONNECT)


async def _borrow(engine: AsyncEngine) -> PoolProxiedConnection:
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool) and pool.checkedin():
        try:
            return pool.connect()
        except MissingGreenlet:
            # The idle connection must be opened again first (it was lost since), which
            # waits. The failed checkout gave it back to the pool, as any failed one does.
            pass
    return await engine.raw_connection()


async def _give_back(engine: AsyncEngine, pooled: PoolProxiedConnection) -> None:
    pool = engine.sync_engine.pool
    adapted = pooled.dbapi_connection  # None once invalidated
    if (
        isinstance(pool, QueuePool)
        and (adapted is None or adapted._transaction is None)  # no rollback to wait for
        and pool.checkedin() < pool.size()  # kept, not closed as an overflow would be
    ):
        pooled.close()
    else:
        await greenlet_spawn(pooled.close)
