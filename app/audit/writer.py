"""Group commit for the audit rows of reads.

A read changes nothing, so its audit row has nothing to commit together with: it only has to be
durable before the response leaves. Rows of concurrent reads queue here and are written as one
atomic batch (asyncpg pipelines an executemany: every row, or none, in a single round trip), so
under load a read costs a share of one statement instead of an INSERT and a COMMIT of its own.
Each read still waits for its own row's commit: a failed batch fails its reads (503 when the
database is the problem), and nothing is sent unaudited.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.driver import execute_many

Row = tuple[Any, ...]
Sessions = Callable[[], async_sessionmaker[AsyncSession]]

# A batch bigger than this waits for the next round trip: PostgreSQL works through a batch's
# rows one by one, and the readers of the first row should not wait for the thousandth.
MAX_BATCH = 256


class AuditWriter:
    """Queues read audit rows and writes them in batches, one batch at a time."""

    def __init__(self, sessions: Sessions, insert_sql: str) -> None:
        """`sessions` gives the sessionmaker to write with when a batch goes out (read at
        that moment, so that tests can bind it to their own connection)."""
        self._sessions = sessions
        self._insert_sql = insert_sql
        self._queue: list[tuple[Row, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, row: Row) -> None:
        """Return once `row` is committed; raise what the batch's write raised."""
        written = asyncio.get_running_loop().create_future()
        self._queue.append((row, written))
        if self._flusher is None:
            # A task of its own, so that a reader who disconnects (and is cancelled) does not
            # cancel the write the other readers in its batch wait for; in a context of its
            # own, so that what it logs is not bound to the first reader's request.
            self._flusher = asyncio.create_task(self._flush(), context=contextvars.Context())
        await written

    async def drain(self) -> None:
        """Wait for the rows already queued (at shutdown, before the engine is disposed)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        batch: list[tuple[Row, asyncio.Future[None]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    await self._insert([row for row, _ in batch])
                except Exception as exc:  # every reader of the batch learns why
                    _settle(batch, exc)
                else:
                    _settle(batch, None)
        except BaseException:  # cancelled (loop shutting down): nobody may wait forever
            _settle(batch + self._queue, RuntimeError("The audit writer stopped."))
            self._queue = []
            raise
        finally:
            self._flusher = None

    async def _insert(self, rows: list[Row]) -> None:
        """On a connection borrowed from the pool for the batch, on the driver (no session,
        no COMMIT: asyncpg's executemany is atomic on its own), or on the connection the
        read sessions are bound to (in tests). Through SQLAlchemy's Connection, a batch cost
        a GET 9 % of its instructions (callgrind): three greenlet calls and an execution
        context, for one statement it runs as it is."""
        bind: AsyncEngine | AsyncConnection = self._sessions().kw["bind"]
        if isinstance(bind, AsyncConnection):
            await bind.exec_driver_sql(self._insert_sql, rows)
            return
        await execute_many(bind, self._insert_sql, rows)


def _settle(batch: list[tuple[Row, asyncio.Future[None]]], error: Exception | None) -> None:
    for _, written in batch:
        if written.done():  # its reader went away
            continue
        if error is None:
            written.set_result(None)
        else:
            written.set_exception(error)
