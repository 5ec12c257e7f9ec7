"""All SQL about progress events and the figures summaries are made of.

Summary queries take many goals at once, so a client summary costs the same handful of
queries whether the client has one goal or fifty.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Select,
    any_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.db import UUIDS
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
        self.scope = scope_params(caller)

    def _visible(self) -> Select[ProgressEvent]:
        """Executed with `self.scope` among its values."""
        return select(ProgressEvent).where(
            ProgressEvent.org_id == CALLER_ORG,
            visible_client_clause(self.caller.role, ProgressEvent.client_id),
        )

    async def get(self, event_id: uuid.UUID, *, for_update: bool = False) -> ProgressEvent | None:
        statement = self._visible().where(ProgressEvent.id == event_id)
        if for_update:
            statement = statement.with_for_update(of=ProgressEvent)
        return (await self.session.scalars(statement, self.scope)).one_or_none()

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
        return (await self.session.scalars(statement, self.scope)).all()

    def add(self, event: ProgressEvent) -> None:
        self.session.add(event)

    async def flush(self) -> None:
        await self.session.flush()

    # --- figures for summaries: callers have checked the goals are visible; every statement
    # still names the caller's organization, so a wrong id can never reach another's rows.
    # They are built once (below the class) and run with the goal ids as one array value ---

    async def measurements(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> Sequence[tuple[uuid.UUID, datetime, float]]:
        """Recorded measurements since `since`, plus each goal's latest two whenever they were."""
        rows = await self.session.execute(_MEASUREMENTS, self._of(goal_ids, since=since))
        return [(row.goal_id, row.occurred_at, float(row.value)) for row in rows]

    async def latest_gas_levels(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(_LATEST_GAS_LEVELS, self._of(goal_ids))
        return {row.goal_id: int(row.gas_level) for row in rows}

    async def event_counts(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        return dict((await self.session.execute(_EVENT_COUNTS, self._of(goal_ids))).all())

    async def last_clinical_activity(
        self, goal_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, datetime]:
        """When staff or an integration last recorded progress on each goal: a review."""
        rows = await self.session.execute(_LAST_CLINICAL_ACTIVITY, self._of(goal_ids))
        return dict(rows.all())

    async def step_counts(self, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StepCount]:
        return {
            goal_id: StepCount(total=total, done=done)
            for goal_id, total, done in await self.session.execute(_STEP_COUNTS, self._of(goal_ids))
        }

    async def recurring_steps(self, goal_ids: Sequence[uuid.UUID]) -> Sequence[ActionStep]:
        return (await self.session.scalars(_RECURRING_STEPS, self._of(goal_ids))).all()

    async def completions(
        self, step_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> Sequence[tuple[uuid.UUID, datetime]]:
        if not step_ids:
            return []
        values = {**self.scope, "step_ids": list(step_ids), "since": since}
        return [
            (row.step_id, row.occurred_at)
            for row in await self.session.execute(_COMPLETIONS, values)
        ]

    def _of(self, goal_ids: Sequence[uuid.UUID], **values: Any) -> dict[str, Any]:
        return {**self.scope, "goal_ids": list(goal_ids), **values}


_GOAL_IDS = bindparam("goal_ids", type_=UUIDS)
_SINCE: BindParameter[datetime] = bindparam("since", type_=DateTime(timezone=True))


def _recorded_of_goals(*conditions: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return [
        ProgressEvent.org_id == CALLER_ORG,
        ProgressEvent.goal_id == any_(_GOAL_IDS),
        ProgressEvent.status == RECORDED,
        *conditions,
    ]


def _measurements() -> Select[uuid.UUID, datetime, float | None]:
    newest_first = (ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())
    is_measurement = ProgressEvent.kind == "measurement"
    ranked = (
        select(
            ProgressEvent.id,
            func.row_number()
            .over(partition_by=ProgressEvent.goal_id, order_by=newest_first)
            .label("rank"),
        )
        .where(*_recorded_of_goals(is_measurement))
        .subquery()
    )
    latest_ids = select(ranked.c.id).where(ranked.c.rank <= 2)
    return (
        select(ProgressEvent.goal_id, ProgressEvent.occurred_at, ProgressEvent.value)
        .where(
            *_recorded_of_goals(
                is_measurement,
                or_(ProgressEvent.occurred_at >= _SINCE, ProgressEvent.id.in_(latest_ids)),
            )
        )
        .order_by(ProgressEvent.goal_id, ProgressEvent.occurred_at)
    )


_MEASUREMENTS = _measurements()
_LATEST_GAS_LEVELS = (
    select(ProgressEvent.goal_id, ProgressEvent.gas_level)
    .where(*_recorded_of_goals(ProgressEvent.gas_level.is_not(None)))
    .order_by(ProgressEvent.goal_id, ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())
    .ext(distinct_on(ProgressEvent.goal_id))
)
_EVENT_COUNTS = (
    select(ProgressEvent.goal_id, func.count())
    .where(*_recorded_of_goals())
    .group_by(ProgressEvent.goal_id)
)
_LAST_CLINICAL_ACTIVITY = (
    select(ProgressEvent.goal_id, func.max(ProgressEvent.occurred_at))
    .where(*_recorded_of_goals(ProgressEvent.source.in_(("clinician", "integration"))))
    .group_by(ProgressEvent.goal_id)
)
_LIVE_STEPS_OF_GOALS = (
    ActionStep.org_id == CALLER_ORG,
    ActionStep.goal_id == any_(_GOAL_IDS),
    ActionStep.deleted_at.is_(None),
)
_STEP_COUNTS = (
    select(ActionStep.goal_id, func.count(), func.count().filter(ActionStep.status == "done"))
    .where(*_LIVE_STEPS_OF_GOALS)
    .group_by(ActionStep.goal_id)
)
_RECURRING_STEPS = (
    select(ActionStep)
    .where(*_LIVE_STEPS_OF_GOALS, ActionStep.recurrence.is_not(None))
    .order_by(ActionStep.goal_id, ActionStep.position)
)
_COMPLETIONS = select(ProgressEvent.step_id, ProgressEvent.occurred_at).where(
    ProgressEvent.org_id == CALLER_ORG,
    ProgressEvent.step_id == any_(bindparam("step_ids", type_=UUIDS)),
    ProgressEvent.kind == "step_completed",
    ProgressEvent.status == RECORDED,
    ProgressEvent.occurred_at >= _SINCE,
)
