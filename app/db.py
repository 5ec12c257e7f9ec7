"""Engine, session and the declarative base shared by every domain's models."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic_core
import uuid_utils.compat
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, String, Uuid, event
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column

from app.config import Settings
from app.db_tls import connect_options, ssl_argument

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Types of list values bound as one array (`column = ANY(:values)`): one prepared statement
# whatever the list's length, where IN re-renders the SQL for each length.
UUIDS = ARRAY(Uuid)
TEXTS = ARRAY(String)


def new_id() -> uuid.UUID:
    """UUIDv7: time-ordered, so keyset pages by id follow creation order."""
    return uuid_utils.compat.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: DateTime(timezone=True),
        # A Python None is SQL NULL, not the JSON value null (which IS NOT NULL in SQL).
        dict[str, Any]: JSONB(none_as_null=True),
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def parse_json(text: str) -> Any:
    """A JSONB value as asyncpg reads it, parsed by pydantic-core (Rust) rather than the json
    module: 1.5 % of a GET of one goal, whose row holds four of them. What pydantic-core
    refuses (nesting past its depth limit, which no value of ours reaches) goes to `json`."""
    try:
        return pydantic_core.from_json(text, cache_strings="keys")  # values are not kept
    except ValueError:
        return json.loads(text)


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    bare_url, ssl_mode = connect_options(url, settings.db_sslmode)
    return create_async_engine(
        bare_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No ping per checkout (a round trip on every request): a connection that died with
        # the server fails one request with 503 and the pool discards all its old connections.
        pool_pre_ping=False,
        # The connection given back last is taken first: one that was lost and dropped is
        # back on top, to be opened again by the next borrow (app/pool.py `_borrow`), not
        # passed over by every borrow until it comes round.
        pool_use_lifo=True,
        json_deserializer=parse_json,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "therapy-goals-api",
                "plan_cache_mode": settings.db_plan_cache_mode,
            },
            "timeout": settings.db_pool_timeout_seconds,
            **ssl_argument(ssl_mode),
        },
    )


DRIVER_ENGINE = "driver_engine"  # in a session's `info`: where app/driver.py connects


def create_sessionmaker(bind: AsyncEngine | AsyncConnection, **options: Any) -> KeptSessions:
    """Sessions for changes: one transaction each, committed by `app.transaction`. Bound to
    an engine, their statements on the driver (app/driver.py) may borrow its connections."""
    info = {DRIVER_ENGINE: bind} if isinstance(bind, AsyncEngine) else {}
    return KeptSessions(bind, info=info, expire_on_commit=False, autoflush=False, **options)


class ReadSession(Session):
    """The session of a GET: it may read, and write nothing but what says it stands alone.

    Reads run without BEGIN and COMMIT (see `create_read_sessionmaker`), so a write here would
    commit at once, on its own, whatever happened next. Refusing every write keeps a mistake
    from turning into a half-done change. A statement marked `STANDALONE_WRITE` (bookkeeping
    such as a key's last use, right whatever the request does next) is let through.
    """


class ReadOnlyViolation(RuntimeError):
    """A bug, not a caller's error: a GET handler tried to change data."""


_STANDALONE = "standalone_write"
STANDALONE_WRITE = {_STANDALONE: True}


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    raise ReadOnlyViolation("A read request tried to save changes.")


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if not state.is_select and not state.execution_options.get(_STANDALONE):
        raise ReadOnlyViolation("A read request tried to run a write statement.")


class KeptSessions(async_sessionmaker[AsyncSession]):
    """A maker of sessions that also keeps those given back, for the next request.

    Building a session (an AsyncSession and the Session inside it) costs more than most GETs
    spend in their own code. A session given back holds nothing once closed: no transaction,
    no object, and nothing in `info` but what every session of this maker starts with (one
    that holds more, such as writes a failed change held back, is not kept).
    """

    KEEP = 64  # more than a worker's concurrent requests, at a few kB each

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[AsyncSession] = []

    def take(self) -> AsyncSession:
        return self._idle.pop() if self._idle else self()

    async def give_back(self, session: AsyncSession) -> None:
        """Closes the session if it was used (a never-used one would be closed for nothing,
        in a greenlet), then keeps it. One whose close failed is dropped with the error; so
        is one whose request was cancelled, once its close is done."""
        if session.in_transaction() or session.identity_map or session.new or session.deleted:
            await _to_completion(session.close())
        if len(self._idle) < self.KEEP and session.info == self.kw.get("info", {}):
            self._idle.append(session)


async def _to_completion(cleanup: Coroutine[Any, Any, None]) -> None:
    """Runs `cleanup` to its end even if the caller is cancelled meanwhile, as `async with`
    an AsyncSession closes it, and only then passes the cancellation on: a rollback left
    half done would leave its connection to the garbage collector."""
    task = asyncio.create_task(cleanup)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled


def create_read_sessionmaker(bind: AsyncEngine | AsyncConnection) -> KeptSessions:
    """Sessions for GET requests: each statement is its own transaction (no BEGIN, no COMMIT).

    Under READ COMMITTED, PostgreSQL's default and ours, every statement of a transaction takes
    a snapshot of its own anyway, so a read-only transaction promises a reader nothing that
    single statements do not; it costs two round trips. Bound to a connection (as tests do),
    the sessions join that connection's transaction instead.
    """
    info: dict[str, AsyncEngine] = {}
    if isinstance(bind, AsyncEngine):
        # Statements run on the driver (app/driver.py) need no AUTOCOMMIT: asyncpg begins
        # nothing by itself. Their connections skip setting it and resetting it at checkin.
        info[DRIVER_ENGINE] = bind
        bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    return KeptSessions(
        bind,
        info=info,
        sync_session_class=ReadSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened by `TransactionalRoute` (see app/transaction.py)."""
    session: AsyncSession = request.state.session
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
