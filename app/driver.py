"""Hot statements, compiled once by SQLAlchemy and run by asyncpg on SQLAlchemy's pool.

SQLAlchemy builds and compiles these statements (scoping clauses and all, see
app/clients/scope.py); what it skips is its per-execution machinery: cache key, execution
context, result wrapping. On `GET /v1/goals/{id}` that machinery, with the ORM session around
it, was a third of the request's instructions (callgrind, 3,124k → 2,089k per request with
the changes beside it); the query itself runs the same either way. Connections still come
from SQLAlchemy's pool, which owns their life: a connection that failed here is invalidated
there.

In a change's transaction a statement runs on the session's connection, inside its
transaction (which asking for the connection begins). The sessions do not autoflush, so
nothing pending in the unit of work is skipped that SQLAlchemy would have written first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, cast

import asyncpg
from sqlalchemy import ARRAY, ClauseElement, String, Uuid
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from app.db import DRIVER_ENGINE, ReadOnlyViolation, ReadSession

Row = Mapping[str, Any]
Lost = Callable[[BaseException], Awaitable[Any]]
# Errors after which the connection cannot be trusted again: the pool must drop it. (On a
# connection whose server process was terminated, asyncpg may report a protocol state error.)
_LOST = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
_DRIVER_ERRORS = (*_LOST, asyncpg.PostgresError)


class DriverQuery:
    """A Core statement with its asyncpg SQL and the names of its positional parameters.

    Values are passed to asyncpg as they are, so a statement's parameters must be types
    asyncpg encodes itself (str, numbers, UUID, datetime, lists of those); statements whose
    parameters SQLAlchemy would have to convert are refused here, when the query is built.
    """

    __slots__ = ("defaults", "names", "sql")

    def __init__(self, statement: ClauseElement) -> None:
        dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        # Only a parameter with a value of its own (a literal in the statement) may be left
        # out: a bare parameter, or a column whose value SQLAlchemy would compute in Python
        # (a default, an `onupdate`), has none here, and `arguments` refuses to send NULL.
        computed = {column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)}
        self.defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name not in computed
        }
        converting = set(compiled._bind_processors) - _copied_lists(compiled)
        if converting:
            raise ValueError(f"Parameters SQLAlchemy must convert: {sorted(converting)}")

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        try:
            return [values[name] if name in values else self.defaults[name] for name in self.names]
        except KeyError as missing:
            raise TypeError(f"No value for {missing.args[0]!r} in: {self.sql}") from None


def _copied_lists(compiled: SQLCompiler) -> set[str]:
    """ARRAY parameters of strings or UUIDs: SQLAlchemy's processor only copies the list."""
    return {
        name
        for name, bind in compiled.binds.items()
        if isinstance(bind.type, ARRAY) and isinstance(bind.type.item_type, String | Uuid)
    }


async def fetch(session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]) -> list[Row]:
    """The rows of `query`, as mappings of column name to value."""
    return cast(list[Row], await _on_session(session, query, values, rows=True))


async def execute(session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]) -> None:
    """Run `query` for its effect: a write, so only in a change's transaction (a read's would
    commit at once, on its own; see `ReadSession`)."""
    if isinstance(session.sync_session, ReadSession):
        raise ReadOnlyViolation("A read request tried to run a write statement.")
    await _on_session(session, query, values, rows=False)


async def _on_session(
    session: AsyncSession, query: DriverQuery, values: Mapping[str, Any], *, rows: bool
) -> Any:
    """Where `query` runs. In a change: on the session's connection, inside its transaction.
    In a read, which never holds two connections at once (requests holding one while waiting
    for a second can take the whole pool and wait on each other): on the session's connection
    when it has one, else on one borrowed for this statement alone."""
    change = not isinstance(session.sync_session, ReadSession)
    if change or session.in_transaction():
        connection = await session.connection()
        return await _run_on(connection, query, values, rows=rows, begin=change)
    engine: AsyncEngine | None = session.info.get(DRIVER_ENGINE)
    if engine is None:  # bound to a connection, as in tests
        return await _run_on(cast(AsyncConnection, session.bind), query, values, rows=rows)
    run = partial(_run, query=query, values=values, rows=rows)
    return await on_pooled_connection(engine, run)


async def on_pooled_connection(engine: AsyncEngine, run: Callable[..., Awaitable[Any]]) -> Any:
    """`run(pooled, lost=...)` on a connection borrowed from the pool for it alone, with no
    Connection around it: 29 µs to borrow and give back, where `engine.connect()` took 78 µs
    (its start and close are greenlet calls of their own, and nothing here needs what they
    set up). `run` calls `lost` when the connection cannot be trusted again."""
    pooled = await engine.raw_connection()
    try:
        return await run(pooled, lost=partial(greenlet_spawn, pooled.invalidate))
    except asyncio.CancelledError:
        # Cut off mid-statement: what the server sends next would confuse the next borrower.
        await greenlet_spawn(pooled.invalidate)
        raise
    finally:
        await greenlet_spawn(pooled.close)


async def execute_many(engine: AsyncEngine, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for each of `rows`, pipelined by asyncpg in one round trip and atomic:
    every row is written, or none (the statements run in one implicit transaction)."""

    async def run(pooled: PoolProxiedConnection, lost: Lost) -> None:
        driver = cast(asyncpg.Connection, pooled.driver_connection)
        try:
            await driver.executemany(sql, rows)
        except _DRIVER_ERRORS as exc:
            raise await _translated(exc, sql, lost) from exc

    await on_pooled_connection(engine, run)


async def _run_on(
    connection: AsyncConnection,
    query: DriverQuery,
    values: Mapping[str, Any],
    *,
    rows: bool,
    begin: bool = False,
) -> Any:
    """On a connection SQLAlchemy holds for the session (or a test): it is invalidated
    through that connection, so SQLAlchemy knows."""
    pooled = await connection.get_raw_connection()
    return await _run(pooled, query, values, rows=rows, begin=begin, lost=connection.invalidate)


async def _run(
    pooled: PoolProxiedConnection,
    query: DriverQuery,
    values: Mapping[str, Any],
    *,
    rows: bool,
    lost: Lost,
    begin: bool = False,
) -> Any:
    driver = cast(asyncpg.Connection, pooled.driver_connection)
    run = driver.fetch if rows else driver.execute
    try:
        if begin:
            await _begin(pooled.dbapi_connection)
        return await run(query.sql, *query.arguments(values))
    except _DRIVER_ERRORS as exc:
        raise await _translated(exc, query.sql, lost) from exc


async def _translated(exc: BaseException, sql: str, lost: Lost) -> DBAPIError:
    """asyncpg's error as SQLAlchemy's (which the problem handlers know), parameters hidden;
    after one that leaves the connection untrustworthy, `lost` has the pool drop it."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, exc, hide_parameters=True)
    connection_lost = isinstance(exc, _LOST)
    if connection_lost:
        await lost(exc)
    return DBAPIError(
        sql,
        None,
        exc,
        hide_parameters=True,
        connection_invalidated=connection_lost,
    )


# `_begin` relies on the adapter's own transaction state; a SQLAlchemy that renamed it must
# fail here, at start-up, not on every write.
if not hasattr(AsyncAdapt_asyncpg_connection, "_start_transaction"):
    raise ImportError("SQLAlchemy's asyncpg adapter no longer has _start_transaction")


async def _begin(adapted: Any) -> None:
    """Begin the transaction on the server if it has not begun. SQLAlchemy's asyncpg adapter
    sends BEGIN only before its own first statement: a statement run here first would
    otherwise commit on its own, outside the request's transaction. (`_transaction` is the
    adapter's own state; tests fail if it is renamed.)"""
    if adapted._transaction is not None:
        return
    try:
        await adapted._start_transaction()
    except Exception as exc:  # the adapter wraps asyncpg's error: handle asyncpg's own
        if isinstance(exc.__cause__, _DRIVER_ERRORS):
            raise exc.__cause__ from None
        raise


async def fetch_one(
    session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]
) -> Row | None:
    rows = await fetch(session, query, values)
    return rows[0] if rows else None
