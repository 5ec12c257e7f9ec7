"""Hot read statements, compiled once by SQLAlchemy and run by asyncpg on SQLAlchemy's pool.

SQLAlchemy builds and compiles these statements (scoping clauses and all, see
app/clients/scope.py); what it skips is its per-execution machinery: cache key, execution
context, result wrapping. On `GET /v1/goals/{id}` that machinery, with the ORM session around
it, was a third of the request's instructions (callgrind, 3,124k → 2,089k per request with
the changes beside it); the query itself runs the same either way. Connections still come
from SQLAlchemy's pool, which owns their life: a connection that failed here is invalidated
there.

Only reads of read requests take this path. In a transaction a statement must run inside the
session's transaction, which SQLAlchemy begins lazily on its own first statement, so there
`fetch` executes the same statement through the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import asyncpg
from sqlalchemy import ARRAY, Select, String, Uuid
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from app.db import DRIVER_ENGINE, ReadSession

Row = Mapping[str, Any]
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
    """A Core SELECT with its asyncpg SQL and the names of its positional parameters.

    Values are passed to asyncpg as they are, so a statement's parameters must be types
    asyncpg encodes itself (str, numbers, UUID, datetime, lists of those); statements whose
    parameters SQLAlchemy would have to convert are refused here, when the query is built.
    """

    __slots__ = ("defaults", "names", "sql", "statement")

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
        compiled = statement.compile(dialect=dialect)
        self.statement = statement
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
        converting = set(compiled._bind_processors) - _copied_lists(compiled)
        if converting:
            raise ValueError(f"Parameters SQLAlchemy must convert: {sorted(converting)}")

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.defaults[name] for name in self.names]


def _copied_lists(compiled: SQLCompiler) -> set[str]:
    """ARRAY parameters of strings or UUIDs: SQLAlchemy's processor only copies the list."""
    return {
        name
        for name, bind in compiled.binds.items()
        if isinstance(bind.type, ARRAY) and isinstance(bind.type.item_type, String | Uuid)
    }


async def fetch(session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]) -> list[Row]:
    """The rows of `query`, as mappings of column name to value.

    A read request never holds two connections at once (requests holding one while waiting
    for a second can take the whole pool and wait on each other): the statement runs on the
    session's connection when it has one, else on one borrowed for this statement alone.
    """
    if not isinstance(session.sync_session, ReadSession):  # in a transaction: inside it
        result = await session.execute(query.statement, dict(values))
        return cast(list[Row], result.mappings().all())
    engine: AsyncEngine | None = session.info.get(DRIVER_ENGINE)
    if engine is None:  # bound to a connection, as in tests
        return await _run(cast(AsyncConnection, session.bind), query, values, owned=False)
    if session.in_transaction():  # the session has its connection already
        return await _run(await session.connection(), query, values, owned=False)
    async with engine.connect() as connection:
        return await _run(connection, query, values, owned=True)


async def _run(
    connection: AsyncConnection, query: DriverQuery, values: Mapping[str, Any], *, owned: bool
) -> list[Row]:
    raw = await connection.get_raw_connection()
    driver = cast(asyncpg.Connection, raw.driver_connection)
    try:
        return cast(list[Row], await driver.fetch(query.sql, *query.arguments(values)))
    except _DRIVER_ERRORS as exc:
        lost = isinstance(exc, _LOST)
        if lost:
            await connection.invalidate(exc)
        raise DBAPIError(
            query.sql, None, exc, hide_parameters=True, connection_invalidated=lost
        ) from exc
    except asyncio.CancelledError:
        # Cut off mid-statement: what the server sends next would confuse the next borrower.
        if owned:
            await connection.invalidate()
        raise


async def fetch_one(
    session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]
) -> Row | None:
    rows = await fetch(session, query, values)
    return rows[0] if rows else None
