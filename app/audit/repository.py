"""Reads of the audit trail (writes happen in app/audit/recorder.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor_id: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
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
            (AuditEvent.outcome, filters.outcome),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if filters.occurred_after is not None:
            statement = statement.where(AuditEvent.occurred_at > filters.occurred_after)
        if filters.occurred_before is not None:
            statement = statement.where(AuditEvent.occurred_at < filters.occurred_before)
        return (await self.session.scalars(statement)).all()
