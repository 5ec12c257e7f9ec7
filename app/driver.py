"""Hot statements, compiled once by SQLAlchemy and run by asyncpg on SQLAlchemy's pool.

SQLAlchemy builds and compiles these statements (scoping clauses and all, see
app/clients/scope.py); what it skips is its per-execution machinery: cache key, execution
context, result wrapping. On `GET /v1/goals/{id}` that machinery, with the ORM session around
it, was a third of the request's instructions (callgrind, 3,124k → 2,089k per request with
the changes beside it); the query itself runs the same either way. Connections still come
from SQLAlchemy's pool, which owns their life: a connection that failed here is invalidated
there.

In a change, a write (`execute`) is held back until the change's next statement or its
commit, and the writes held back go to the server together: as one statement when they are
independent (app/write_batches.py), where each used to be a round trip of its own. A read
declared standalone (a plain read that locks nothing) runs without BEGIN before the change's
first write, as a read request's statements do (under READ COMMITTED every statement takes a
snapshot of its own, in a transaction or not); so a change that reads, then writes, then
commits, as recording progress does, is its reads and one statement, atomic on its own: no
BEGIN, no COMMIT. Anything else begins the transaction first: a read after a write, any other
read, any statement through the session (the hooks at the end of this module send what is
held back before it). The order of the statements never changes, only when they are sent.
The sessions do not autoflush, so nothing pending in the unit of work is skipped that
SQLAlchemy would have written first.

Until a change holds a connection of its own (its transaction has begun on one), there is
nothing for its statements to run inside of: its standalone reads run on a connection
borrowed for each, as a read request's do, and if the change is nothing but those reads and
writes held back, `commit_held_back` sends the writes on one borrowed for them. Such a change
never takes a connection through its session, nor waits in a greenlet.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, cast

import asyncpg
from sqlalchemy import ARRAY, ClauseElement, Connection, String, Uuid, event
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import TableClause
from sqlalchemy.util import await_only, greenlet_spawn

from app.db import DRIVER_ENGINE, ReadOnlyViolation, ReadSession
from app.pool import on_pooled_connection
from app.write_batches import Write, batches

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
PENDING = "pending_writes"  # in a change session's `info`: writes not yet sent, in order


class DriverQuery:
    """A Core statement with its asyncpg SQL and the names of its positional parameters.

    Values are passed to asyncpg as they are, so a statement's parameters must be types
    asyncpg encodes itself (str, numbers, UUID, datetime, lists of those); statements whose
    parameters SQLAlchemy would have to convert are refused here, when the query is built.
    """

    __slots__ = ("defaults", "names", "sql", "standalone", "table")

    def __init__(self, statement: ClauseElement, *, standalone: bool = False) -> None:
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
        # Declared, not guessed: only a plain read that locks nothing, takes no advisory lock
        # and calls nothing with an effect may run before the change's transaction begins.
        self.standalone = standalone
        # The table a write changes, if it may join other writes in one statement: a plain
        # INSERT or UPDATE (no WITH of its own), with no literal in which a `$` could be
        # mistaken for a parameter (see app/write_batches.py).
        plain = not (
            "'" in self.sql or re.search(r"\$(?!\d)", self.sql) or self.sql.startswith("WITH")
        )
        written = statement.table if isinstance(statement, Insert | Update) else None
        self.table = written.name if isinstance(written, TableClause) and plain else None

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
    return cast(list[Row], await _on_session(session, query, values))


async def execute(session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]) -> None:
    """Run `query` for its effect: a write, so only in a change (a read's would commit at
    once, on its own; see `ReadSession`). It is held back until the change's next statement
    or its commit (see the module's docstring): its errors are raised there."""
    if isinstance(session.sync_session, ReadSession):
        raise ReadOnlyViolation("A read request tried to run a write statement.")
    if not session.in_transaction():  # so that a rollback, which then ends it, forgets this
        session.sync_session.begin()  # no connection yet, so no greenlet to wait in
    session.info.setdefault(PENDING, []).append((query, query.arguments(values)))


async def _on_session(session: AsyncSession, query: DriverQuery, values: Mapping[str, Any]) -> Any:
    """Where `query` runs. In a change: on the session's connection, inside its transaction
    unless it is a read that may stand alone (see the module's docstring); such a read, while
    the change holds no connection yet, on one borrowed for it. In a read, which
    never holds two connections at once (requests holding one while waiting for a second can
    take the whole pool and wait on each other): on the session's connection when it has
    one, else on one borrowed for this statement alone."""
    change = not isinstance(session.sync_session, ReadSession)
    engine: AsyncEngine | None = session.info.get(DRIVER_ENGINE)
    if change:  # nothing to run inside of yet: a standalone read borrows, as reads do
        on_its_own = (
            query.standalone
            and PENDING not in session.info
            and engine is not None
            and not _holds_a_connection(session)
        )
    else:
        on_its_own = not session.in_transaction()
    if not on_its_own:
        connection = await session.connection()
        pooled = await connection.get_raw_connection()
        if change and (PENDING in session.info or not query.standalone):
            await _send_pending(session, pooled, connection.invalidate, alone=False)
        return await _run(pooled, query, values, lost=connection.invalidate)
    if engine is None:  # bound to a connection, as in tests
        return await _run_on(cast(AsyncConnection, session.bind), query, values)
    return await on_pooled_connection(engine, partial(_run, query=query, values=values))


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
    connection: AsyncConnection, query: DriverQuery, values: Mapping[str, Any]
) -> Any:
    """On a connection SQLAlchemy holds for the session (or a test): it is invalidated
    through that connection, so SQLAlchemy knows."""
    pooled = await connection.get_raw_connection()
    return await _run(pooled, query, values, lost=connection.invalidate)


async def _run(
    pooled: PoolProxiedConnection, query: DriverQuery, values: Mapping[str, Any], *, lost: Lost
) -> Any:
    driver = cast(asyncpg.Connection, pooled.driver_connection)
    try:
        return await driver.fetch(query.sql, *query.arguments(values))
    except _DRIVER_ERRORS as exc:
        raise await _translated(exc, query.sql, lost) from exc


async def commit_held_back(session: AsyncSession) -> bool:
    """Commits a change that is nothing but the writes it held back: on a connection
    borrowed for them, without the session's connection, its transaction or their greenlets
    (a greenlet each to take a connection, to commit, and to close: 887 -> 708 µs of CPU per
    progress event recorded, median of 9 in-process runs). False, having done nothing, for a
    change that did anything else: its session commits it."""
    engine: AsyncEngine | None = session.info.get(DRIVER_ENGINE)
    sync = session.sync_session
    if engine is None or _holds_a_connection(session) or _has_objects_to_flush(sync):
        return False
    writes: list[Write] = session.info.pop(PENDING, [])
    if sync.in_transaction():
        # Begun by `execute`, on no connection: nothing to wait for. Ended first, so that
        # whatever could fail in it fails before anything is written.
        sync.commit()
    if writes:
        await on_pooled_connection(engine, partial(_commit_writes, writes=writes))
    return True


async def _commit_writes(pooled: PoolProxiedConnection, lost: Lost, writes: list[Write]) -> None:
    """`writes` in as few statements as may be: one commits or fails whole by itself; more
    go inside a transaction of their own."""
    driver = cast(asyncpg.Connection, pooled.driver_connection)
    statements = list(batches(writes))
    sql = statements[0][0]
    try:
        if len(statements) == 1:  # atomic by itself
            await driver.execute(sql, *statements[0][1])
            return
        transaction = driver.transaction()
        await transaction.start()
        try:
            for sql, arguments in statements:
                await driver.execute(sql, *arguments)
        except _DRIVER_ERRORS as exc:
            if not isinstance(exc, _LOST):  # else `_translated` has the pool drop it
                try:
                    await transaction.rollback()
                except _DRIVER_ERRORS:
                    await lost(exc)  # still in the transaction: never to be handed out again
            raise
        await transaction.commit()
    except _DRIVER_ERRORS as exc:
        raise await _translated(exc, sql, lost) from exc


async def _send_pending(
    session: AsyncSession | Session, pooled: PoolProxiedConnection, lost: Lost, *, alone: bool
) -> None:
    """Send the writes held back, in order, in as few statements as may be (see
    app/write_batches.py). The transaction begins
    first, so that they commit with what follows, unless they are `alone` (the change
    commits next, with nothing else to write) and one statement: that one commits or fails
    whole by itself."""
    writes: list[Write] = session.info.pop(PENDING, [])
    statements = list(batches(writes))
    if not alone or len(statements) > 1:
        await _begin(pooled.dbapi_connection)
    driver = cast(asyncpg.Connection, pooled.driver_connection)
    for sql, arguments in statements:
        try:
            await driver.execute(sql, *arguments)
        except _DRIVER_ERRORS as exc:
            raise await _translated(exc, sql, lost) from exc


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


# Every statement through a session, and its commit, first sends the writes held back. These
# run inside SQLAlchemy's greenlet (an AsyncSession calls its Session there), so they may wait.
# Registered on import, with `execute`: whoever can hold writes back has them sent.


def _send_pending_now(session: Session, *, alone: bool) -> None:
    connection = session.connection()

    async def lost(exc: BaseException) -> None:
        await greenlet_spawn(connection.invalidate, exc)

    await_only(_send_pending(session, connection.connection, lost, alone=alone))


@event.listens_for(Session, "do_orm_execute")
def _before_a_statement(state: ORMExecuteState) -> None:
    if PENDING in state.session.info:
        _send_pending_now(state.session, alone=False)


@event.listens_for(Session, "before_flush")
def _before_a_flush(session: Session, _: UOWTransaction, __: object) -> None:
    if PENDING in session.info:
        _send_pending_now(session, alone=False)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _: SessionTransaction) -> None:
    """Rolled back before they were sent: they never happened."""
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_transaction_create")
def _no_savepoint_over_held_back_writes(session: Session, transaction: SessionTransaction) -> None:
    """A SAVEPOINT sends no hook above: writes held back before it would go inside it."""
    if transaction.nested and PENDING in session.info:
        raise RuntimeError("Writes held back would go inside this SAVEPOINT: send them first.")


@event.listens_for(Session, "before_commit")
def _before_the_commit(session: Session) -> None:
    """With no objects for the flush after this to write, the writes held back are the
    change's last statements, which may go without BEGIN (see `_send_pending`)."""
    if PENDING in session.info:
        _send_pending_now(session, alone=not _has_objects_to_flush(session))


def _has_objects_to_flush(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted)


# Which sessions hold a connection (`_holds_a_connection`): those whose transaction began one.
_CONNECTED: weakref.WeakSet[Session] = weakref.WeakSet()


def _holds_a_connection(session: AsyncSession) -> bool:
    return session.sync_session in _CONNECTED


@event.listens_for(Session, "after_begin")
def _took_a_connection(session: Session, _: SessionTransaction, __: Connection) -> None:
    _CONNECTED.add(session)


@event.listens_for(Session, "after_transaction_end")
def _gave_its_connections_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: its connections go with it
        _CONNECTED.discard(session)
