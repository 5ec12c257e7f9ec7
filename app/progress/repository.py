"""All SQL about progress events and the figures summaries are made of.

Summary queries take many goals at once, so a client summary costs the same handful of
queries whether the client has one goal or fifty.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.clients.scope import visible_client_clause
from app.progress.models import ProgressEvent
from app.steps.models import ActionStep

RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class EventFilters:
    kinds: tuple[str, ...] = ()
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepCount:
    total: int
    done: int


class ProgressRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller

    def _visible(self) -> Select[ProgressEvent]:
        return select(ProgressEvent).where(
            ProgressEvent.org_id == self.caller.org_id,
            visible_client_clause(self.caller, ProgressEvent.client_id),
        )

    async def get(self, event_id: uuid.UUID, *, for_update: bool = False) -> ProgressEvent | None:
        statement = self._visible().where(ProgressEvent.id == event_id)
        if for_update:
            statement = statement.with_for_update(of=ProgressEvent)
        return (await self.session.scalars(statement)).one_or_none()

    async def search(
        self,
        goal_id: uuid.UUID,
        filters: EventFilters,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[ProgressEvent]:
        """Newest first, by (occurred_at, id): the index on (goal_id, occurred_at, id) serves it."""
        statement = (
            self._visible()
            .where(ProgressEvent.goal_id == goal_id)
            .order_by(ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(
                tuple_(ProgressEvent.occurred_at, ProgressEvent.id) < tuple_(*before)
            )
        if filters.kinds:
            statement = statement.where(ProgressEvent.kind.in_(filters.kinds))
        if filters.occurred_after is not None:
            statement = statement.where(ProgressEvent.occurred_at > filters.occurred_after)
        if filters.occurred_before is not None:
            statement = statement.where(ProgressEvent.occurred_at < filters.occurred_before)
        return (await self.session.scalars(statement)).all()

    def add(self, event: ProgressEvent) -> None:
        self.session.add(event)

    async def flush(self) -> None:
        await self.session.flush()

    # --- figures for summaries: callers have checked the goals are visible; every statement
    # still names the caller's organization, so a wrong id can never reach another's rows ---

    async def measurements(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> Sequence[tuple[uuid.UUID, datetime, float]]:
        """Recorded measurements since `since`, plus each goal's latest two whenever they were."""
        newest_first = (ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())
        ranked = (
            select(
                ProgressEvent.id,
                func.row_number()
                .over(partition_by=ProgressEvent.goal_id, order_by=newest_first)
                .label("rank"),
            )
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id.in_(goal_ids),
                ProgressEvent.kind == "measurement",
                ProgressEvent.status == RECORDED,
            )
            .subquery()
        )
        latest_ids = select(ranked.c.id).where(ranked.c.rank <= 2)
        statement = (
            select(ProgressEvent.goal_id, ProgressEvent.occurred_at, ProgressEvent.value)
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id.in_(goal_ids),
                ProgressEvent.kind == "measurement",
                ProgressEvent.status == RECORDED,
                or_(ProgressEvent.occurred_at >= since, ProgressEvent.id.in_(latest_ids)),
            )
            .order_by(ProgressEvent.goal_id, ProgressEvent.occurred_at)
        )
        rows = (await self.session.execute(statement)).all()
        return [(row.goal_id, row.occurred_at, float(row.value)) for row in rows]

    async def latest_gas_levels(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        statement = (
            select(ProgressEvent.goal_id, ProgressEvent.gas_level)
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id.in_(goal_ids),
                ProgressEvent.gas_level.is_not(None),
                ProgressEvent.status == RECORDED,
            )
            .order_by(
                ProgressEvent.goal_id, ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc()
            )
            .ext(distinct_on(ProgressEvent.goal_id))
        )
        return {row.goal_id: int(row.gas_level) for row in await self.session.execute(statement)}

    async def event_counts(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        statement = (
            select(ProgressEvent.goal_id, func.count())
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id.in_(goal_ids),
                ProgressEvent.status == RECORDED,
            )
            .group_by(ProgressEvent.goal_id)
        )
        return dict((await self.session.execute(statement)).all())

    async def last_clinical_activity(
        self, goal_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, datetime]:
        """When staff or an integration last recorded progress on each goal: a review."""
        statement = (
            select(ProgressEvent.goal_id, func.max(ProgressEvent.occurred_at))
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id.in_(goal_ids),
                ProgressEvent.source.in_(("clinician", "integration")),
                ProgressEvent.status == RECORDED,
            )
            .group_by(ProgressEvent.goal_id)
        )
        return dict((await self.session.execute(statement)).all())

    async def step_counts(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StepCount]:
        statement = (
            select(
                ActionStep.goal_id,
                func.count(),
                func.count().filter(ActionStep.status == "done"),
            )
            .where(
                ActionStep.org_id == self.caller.org_id,
                ActionStep.goal_id.in_(goal_ids),
                ActionStep.deleted_at.is_(None),
            )
            .group_by(ActionStep.goal_id)
        )
        return {
            goal_id: StepCount(total=total, done=done)
            for goal_id, total, done in await self.session.execute(statement)
        }

    async def recurring_steps(self, goal_ids: Sequence[uuid.UUID]) -> Sequence[ActionStep]:
        statement = (
            select(ActionStep)
            .where(
                ActionStep.org_id == self.caller.org_id,
                ActionStep.goal_id.in_(goal_ids),
                ActionStep.deleted_at.is_(None),
                ActionStep.recurrence.is_not(None),
            )
            .order_by(ActionStep.goal_id, ActionStep.position)
        )
        return (await self.session.scalars(statement)).all()

    async def completions(
        self, step_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> Sequence[tuple[uuid.UUID, datetime]]:
        if not step_ids:
            return []
        statement = select(ProgressEvent.step_id, ProgressEvent.occurred_at).where(
            and_(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.step_id.in_(step_ids),
                ProgressEvent.kind == "step_completed",
                ProgressEvent.status == RECORDED,
                ProgressEvent.occurred_at >= since,
            )
        )
        return [(row.step_id, row.occurred_at) for row in await self.session.execute(statement)]
