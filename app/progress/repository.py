"""All SQL about progress events: reading, listing and appending them, and running the
queries summaries are made of (built in `app.progress.figures`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, insert, select, tuple_
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import (
    CallableColumnDefault,
    DefaultGenerator,
    ScalarElementColumnDefault,
)

from app.auth.caller import Caller
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.driver import DriverQuery, execute, fetch, fetch_one
from app.goals.models import GoalFacts
from app.progress.figures import (
    MEASUREMENTS_QUERY,
    GoalFigures,
    client_figures_query,
    facts_and_figures_query,
    facts_and_points_query,
    points_by_goal,
)
from app.progress.models import ProgressEvent
from app.progress.points import IdentifiedSeries, Point
from app.resources import visible_with


@dataclass(frozen=True, slots=True)
class EventFilters:
    kinds: tuple[str, ...] = ()
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


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

    async def append(self, event: dict[str, Any]) -> None:
        """INSERT the new event, its values by column, without the unit of work (events are
        written once; an ORM object per event cost recording one about 7 % of its CPU).
        The columns it leaves unset take their defaults, as a flush would give them, and
        `event` gets them too: it is then the whole row."""
        unknown = event.keys() - _EVENT_COLUMNS.keys()
        if unknown:  # an ORM object would have refused them too
            raise TypeError(f"Not columns of progress_events: {sorted(unknown)}")
        for column in _EVENT_COLUMNS:
            if event.get(column.key) is None:
                default = _EVENT_DEFAULTS.get(column.key)
                event[column.key] = default() if default is not None else None
        await execute(self.session, _INSERT_EVENT, event)

    async def flush(self) -> None:
        await self.session.flush()

    async def latest_judgement(self, goal_id: uuid.UUID) -> tuple[str, datetime] | None:
        """The achievement status the goal's latest recorded event carries, and when that
        event happened (not when it was sent: an EHR may send a session's days later); None
        if no recorded event carries one."""
        statement = (
            select(ProgressEvent.achievement_status, ProgressEvent.occurred_at)
            .where(
                ProgressEvent.org_id == self.caller.org_id,
                ProgressEvent.goal_id == goal_id,
                ProgressEvent.status == "recorded",
                ProgressEvent.achievement_status.is_not(None),
            )
            .order_by(ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(statement)).first()
        return None if row is None or row[0] is None else (row[0], row[1])

    # --- figures for summaries and statuses: built in `app.progress.figures` ---

    async def measurements(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> dict[uuid.UUID, list[Point]]:
        """Each goal's recorded measurements since `since`, plus its latest two whenever they
        were, oldest first. Both parts walk the (goal, time) index: the window by range, the
        latest two backwards from the newest event until two measurements are found."""
        rows = await fetch(self.session, MEASUREMENTS_QUERY, self._of(goal_ids, since=since))
        return points_by_goal(rows)

    async def facts_and_measured(
        self, goal_id: uuid.UUID, *, since: datetime
    ) -> tuple[GoalFacts, IdentifiedSeries, str] | None:
        """The goal's facts (`facts_select`, scoping and all), what `measurements` reads for
        it, with each point's id (where the next event recorded would fall among them: see
        `points.with_measurement`), and its client's time zone. One query: recording
        progress reads them all."""
        values = {**self.scope, "goal_id": goal_id, "since": since}
        row = await fetch_one(self.session, facts_and_points_query(self.caller.role), values)
        if row is None:
            return None
        measured = IdentifiedSeries(row["times"] or [], row["ids"] or [], row["values"] or [])
        return GoalFacts.of(row), measured, row["client_timezone"]

    async def facts_and_figures(
        self, goal_id: uuid.UUID, *, since: datetime, habits_since: datetime
    ) -> tuple[GoalFacts, GoalFigures] | None:
        """The goal's facts (`facts_select`, scoping and all) and its figures, in one query;
        None if the caller cannot see it. Measurements from `since`, habits' completions
        from `habits_since`."""
        values = {**self.scope, "goal_id": goal_id, "since": since, "habits_since": habits_since}
        row = await fetch_one(self.session, facts_and_figures_query(self.caller.role), values)
        if row is None:
            return None
        return GoalFacts.of(row), GoalFigures.of(row)

    async def client_figures(
        self,
        client_id: uuid.UUID,
        statuses: Sequence[str],
        *,
        since: datetime,
        habits_since: datetime,
    ) -> list[tuple[GoalFacts, GoalFigures]] | None:
        """The facts and figures of the client's goals in `statuses`, in id order, in one
        query; None if the caller may not see the client."""
        values = {
            **self.scope,
            "client_id": client_id,
            "statuses": list(statuses),
            "since": since,
            "habits_since": habits_since,
        }
        rows = await fetch(self.session, client_figures_query(self.caller.role), values)
        if not rows:
            return None
        return [(GoalFacts.of(row), GoalFigures.of(row)) for row in rows if row["id"] is not None]

    def _of(self, goal_ids: Sequence[uuid.UUID], **values: Any) -> dict[str, Any]:
        return {**self.scope, "goal_ids": list(goal_ids), **values}


_EVENT_COLUMNS = cast(Table, ProgressEvent.__table__).columns
_INSERT_EVENT = DriverQuery(insert(cast(Table, ProgressEvent.__table__)))


def _python_default(default: DefaultGenerator) -> Callable[[], Any]:
    """What SQLAlchemy would call for an unset column's default (it passes an execution
    context, which none of ours reads)."""
    if isinstance(default, CallableColumnDefault):
        return lambda: default.arg(cast(ExecutionContext, None))
    if isinstance(default, ScalarElementColumnDefault):
        return lambda: default.arg
    raise TypeError(f"Unsupported column default: {default!r}")


_EVENT_DEFAULTS = {
    column.key: _python_default(column.default)
    for column in _EVENT_COLUMNS
    if column.default is not None
}
# The INSERT names every column, so a server-side default would never apply: NULL instead.
if any(column.server_default is not None for column in _EVENT_COLUMNS):
    raise RuntimeError("progress_events has a server default; append() would write NULL there")


@visible_with("progress_event")
async def _event_visible(session: AsyncSession, caller: Caller, event_id: uuid.UUID) -> bool:
    return await ProgressRepository(session, caller).get(event_id) is not None
