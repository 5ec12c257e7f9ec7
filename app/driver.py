"""Hot read statements, compiled once by SQLAlchemy and run by asyncpg on SQLAlchemy's pool.

SQLAlchemy builds and compiles these statements (scoping clauses and all, see
app/clients/scope.py); what it skips is its per-execution machinery: cache key, execution
context, result wrapping. On `GET /v1/goals/{id}` that machinery, with the ORM session around
it, was a third of the request's instructions (callgrind, 3,124k → 2,125k per request); the
query itself runs the same either way. Connections still come from SQLAlchemy's pool, which
owns their life: a connection that failed here is invalidated there.

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
_CONNECTION = "driver_connection"  # the request's checked-out connection, in `session.info`
_CANCELLED = "driver_connection_cancelled"
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
    parameters SQLAlchemy would have to convert are refused here, when the module loads.
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
    """The rows of `query`, as mappings of column name to value."""
    connection = await _read_connection(session)
    if connection is None:  # in a transaction: through the session, inside it
        result = await session.execute(query.statement, dict(values))
        return cast(list[Row], result.mappings().all())
    raw = await connection.get_raw_connection()
    driver = cast(asyncpg.Connection, raw.driver_connection)
    try:
        return cast(list[Row], await driver.fetch(query.sql, *query.arguments(values)))
    except _DRIVER_ERRORS as exc:
        lost = isinstance(exc, _LOST)
        if lost and not isinstance(session.bind, AsyncConnection):  # ours, not a test's
            await connection.invalidate(exc)
        raise DBAPIError(
            query.sql, None, exc, hide_parameters=True, connection_invalidated=lost
        ) from exc
    except asyncio.CancelledError:
        # Cut off mid-statement: what the server sends next would confuse the next borrower.
        session.info[_CANCELLED] = True
        raise


async def fetch_one(
    session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]
) -> Row | None:
    rows = await fetch(session, query, values)
    return rows[0] if rows else None


async def _read_connection(session: AsyncSession) -> AsyncConnection | None:
    """The connection a read request's driver statements run on: one per request, from the
    engine the read sessions were made for; or the connection they are bound to, as in tests."""
    if not isinstance(session.sync_session, ReadSession):
        return None
    engine: AsyncEngine | None = session.info.get(DRIVER_ENGINE)
    if engine is None:  # bound to a connection
        return cast(AsyncConnection, session.bind)
    connection: AsyncConnection | None = session.info.get(_CONNECTION)
    if connection is None:
        connection = await engine.connect()
        session.info[_CONNECTION] = connection
    return connection


async def release(session: AsyncSession) -> None:
    """Return the request's driver connection to the pool (the route calls this at the end)."""
    connection: AsyncConnection | None = session.info.pop(_CONNECTION, None)
    if connection is None:
        return
    if session.info.pop(_CANCELLED, False):
        await connection.invalidate()
    await connection.close()
