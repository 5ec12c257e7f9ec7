"""Reads of the audit trail (writes happen in app/audit/recorder.py), and its seals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor_id: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    subject_id: str | None = None
    outcome: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(
        self,
        org_id: str,
        filters: AuditFilters,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[AuditEvent]:
        statement = (
            select(AuditEvent)
            .where(AuditEvent.org_id == org_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(
                tuple_(AuditEvent.occurred_at, AuditEvent.id) < tuple_(*before)
            )
        for column, value in (
            (AuditEvent.actor_id, filters.actor_id),
            (AuditEvent.action, filters.action),
            (AuditEvent.resource_type, filters.resource_type),
            (AuditEvent.resource_id, filters.resource_id),
            (AuditEvent.subject_id, filters.subject_id),
            (AuditEvent.outcome, filters.outcome),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if filters.occurred_after is not None:
            statement = statement.where(AuditEvent.occurred_at > filters.occurred_after)
        if filters.occurred_before is not None:
            statement = statement.where(AuditEvent.occurred_at < filters.occurred_before)
        return (await self.session.scalars(statement)).all()


# A run of events hashed after the previous seal's hash: every column, named (a column added
# later must not change how sealed rows read), timestamps in UTC whatever the session's time
# zone. `subject_id`, added later, is hashed after the others where it is set: events from
# before it read as they did when they were sealed. `{events}` is one of the two runs below.
_DIGEST = """
SELECT count(*) AS events,
       (array_agg(e.id ORDER BY e.id DESC))[1] AS through_id,
       sha256(CAST(:previous AS bytea) || convert_to(coalesce(string_agg(CASE
           WHEN e.subject_id IS NULL THEN json_build_array({columns})
           ELSE json_build_array({columns}, e.subject_id) END::text,
           E'\\n' ORDER BY e.id), ''), 'UTF8')) AS hash
FROM ({events}) AS e
""".replace(
    "{columns}",
    """e.id, e.org_id,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           e.actor_type, e.actor_id, e.actor_role, e.credential_id, e.action, e.resource_type,
           e.resource_id, e.outcome, e.status_code, e.request_id, e.changed_fields""",
)
_OLD_ENOUGH = (
    "SELECT * FROM audit_events WHERE id > :after"
    " AND occurred_at < clock_timestamp() - make_interval(secs => :grace)"
    " ORDER BY id LIMIT :batch"
)
_BETWEEN = "SELECT * FROM audit_events WHERE id > :after AND id <= :through"
_PENDING = text(_DIGEST.replace("{events}", _OLD_ENOUGH))
_SEALED = text(_DIGEST.replace("{events}", _BETWEEN))
_LAST_SEAL = text("SELECT through_id, hash FROM audit_seals ORDER BY id DESC LIMIT 1")
_ADD_SEAL = text(
    "INSERT INTO audit_seals (through_id, events, previous_hash, hash, sealed_at) "
    "VALUES (:through_id, :events, :previous, :hash, clock_timestamp()) RETURNING id"
)
_ALL_SEALS = text("SELECT id, through_id, events, previous_hash, hash FROM audit_seals ORDER BY id")
SEALER_LOCK = 0x6175646974  # one sealer at a time across workers and replicas ("audit")


class SealRepository:
    """The statements of app/audit/seals.py, on a connection in the caller's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def try_lock(self) -> bool:
        locked = await self.connection.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEALER_LOCK}
        )
        return bool(locked)

    async def last(self) -> Row[Any] | None:
        return (await self.connection.execute(_LAST_SEAL)).first()

    async def all(self) -> Sequence[Row[Any]]:
        return (await self.connection.execute(_ALL_SEALS)).all()

    async def digest_old_enough(
        self, after: uuid.UUID, previous: bytes, *, grace: timedelta, batch: int
    ) -> Row[Any]:
        """The next `batch` events after `after`, older than `grace`: count, last id, hash."""
        values = {"after": after, "previous": previous, "grace": grace.total_seconds(),
                  "batch": batch}  # fmt: skip
        return (await self.connection.execute(_PENDING, values)).one()

    async def digest_between(
        self, after: uuid.UUID, through: uuid.UUID, previous: bytes
    ) -> Row[Any]:
        """The events after `after` up to `through`, as they are now: count, last id, hash."""
        values = {"after": after, "through": through, "previous": previous}
        return (await self.connection.execute(_SEALED, values)).one()

    async def count_after(self, after: uuid.UUID) -> int:
        """The events after `after`: those no seal covers yet."""
        statement = select(func.count()).select_from(AuditEvent).where(AuditEvent.id > after)
        return int(await self.connection.scalar(statement) or 0)

    async def add(self, through_id: uuid.UUID, events: int, previous: bytes, hash_: bytes) -> int:
        values = {"through_id": through_id, "events": events, "previous": previous,
                  "hash": hash_}  # fmt: skip
        seal_id: int = await self.connection.scalar(_ADD_SEAL, values)
        return seal_id
