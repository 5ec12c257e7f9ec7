"""All SQL about progress events and the figures summaries are made of.

Summary queries take many goals at once, so a client summary costs the same handful of
queries whether the client has one goal or fifty.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    ScalarSelect,
    Select,
    Table,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.schema import (
    CallableColumnDefault,
    DefaultGenerator,
    ScalarElementColumnDefault,
)
from sqlalchemy.sql.selectable import FromClause, LateralFromClause

from app.auth.caller import Caller, Role
from app.clients.models import Client
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.db import UUIDS
from app.driver import DriverQuery, Row, execute, fetch, fetch_one
from app.goals.models import Goal, GoalFacts, GoalRevision
from app.goals.repository import facts_select
from app.progress.models import ProgressEvent
from app.progress.summary import Measured, Point, points
from app.steps.models import ActionStep

RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class EventFilters:
    kinds: tuple[str, ...] = ()
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class GoalTallies:
    events: int  # recorded progress events
    steps: int  # live steps of the action plan
    steps_done: int
    latest_gas_level: int | None
    last_clinical_activity: datetime | None  # staff or an integration last recorded progress
    last_staff_revision: datetime | None  # a clinician or admin last changed the goal

    @property
    def last_reviewed(self) -> datetime | None:
        """When staff last looked at the goal: changed it, or recorded progress on it."""
        known = [at for at in (self.last_staff_revision, self.last_clinical_activity) if at]
        return max(known, default=None)


@dataclass(frozen=True, slots=True)
class HabitStep:
    """A live recurring step, with its completions since a given time."""

    step_id: uuid.UUID
    goal_id: uuid.UUID
    created_at: datetime
    recurrence: dict[str, Any]
    completions: Sequence[datetime]
    timezone: str  # the client's: a habit is kept or missed on the client's days


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

    async def append(self, event: ProgressEvent) -> None:
        """INSERT the new event without the unit of work (events are written once). The
        columns it leaves unset take their defaults here, as a flush would give them."""
        values = {}
        for column in _EVENT_COLUMNS:
            value = getattr(event, column.key)
            if value is None and column.key in _EVENT_DEFAULTS:
                value = _EVENT_DEFAULTS[column.key]()
                setattr(event, column.key, value)
            values[column.key] = value
        await execute(self.session, _INSERT_EVENT, values)

    async def flush(self) -> None:
        await self.session.flush()

    # --- figures for summaries: callers have checked the goals are visible; every statement
    # still names the caller's organization, so a wrong id can never reach another's rows.
    # They are built once (below the class) and run with the goal ids as one array value ---

    async def measurements(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> dict[uuid.UUID, list[Point]]:
        """Each goal's recorded measurements since `since`, plus its latest two whenever they
        were, oldest first. Both parts walk the (goal, time) index: the window by range, the
        latest two backwards from the newest event until two measurements are found."""
        rows = await fetch(self.session, _MEASUREMENTS_QUERY, self._of(goal_ids, since=since))
        return _points_by_goal(rows)

    async def facts_and_measured(
        self, goal_id: uuid.UUID, *, since: datetime
    ) -> tuple[GoalFacts, list[Measured]] | None:
        """The goal's facts (`facts_select`, scoping and all) and what `measurements` reads
        for it, with each point's id: where the next event recorded would fall among them
        (see `summary.with_measurement`). One query: recording progress reads both."""
        values = {**self.scope, "goal_id": goal_id, "since": since}
        row = await fetch_one(self.session, _facts_and_points(self.caller.role), values)
        if row is None:
            return None
        measured = zip(row["times"] or (), row["ids"] or (), row["values"] or (), strict=True)
        return GoalFacts.of(row), list(measured)

    async def figures(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> tuple[dict[uuid.UUID, list[Point]], dict[uuid.UUID, GoalTallies]]:
        """Each goal's measurements (as `measurements` reads them) and its counts and latest
        facts, in one query: a summary's figures but for its habits."""
        rows = await fetch(self.session, _FIGURES_QUERY, self._of(goal_ids, since=since))
        return _points_by_goal(rows), {row["goal_id"]: _tallies_of(row) for row in rows}

    async def facts_and_figures(
        self, goal_id: uuid.UUID, *, since: datetime
    ) -> tuple[GoalFacts, list[Point], GoalTallies] | None:
        """The goal's facts (`facts_select`, scoping and all) with its measurements and
        tallies as `figures` reads them, in one query; None if the caller cannot see it."""
        values = {**self.scope, "goal_id": goal_id, "since": since}
        row = await fetch_one(self.session, _facts_and_figures(self.caller.role), values)
        if row is None:
            return None
        measured = points(row["times"], row["values"]) if row["times"] else []
        return GoalFacts.of(row), measured, _tallies_of(row)

    async def habit_steps(
        self, goal_ids: Sequence[uuid.UUID], *, since: datetime
    ) -> list[HabitStep]:
        """The goals' live recurring steps in plan order, each with its completions since
        `since` and its client's time zone. Columns, not steps: nothing here is changed."""
        rows = await fetch(self.session, _HABIT_STEPS_QUERY, self._of(goal_ids, since=since))
        return [
            HabitStep(
                step_id=row["id"],
                goal_id=row["goal_id"],
                created_at=row["created_at"],
                recurrence=row["recurrence"],
                completions=row["completions"] or (),
                timezone=row["timezone"],
            )
            for row in rows
        ]

    def _of(self, goal_ids: Sequence[uuid.UUID], **values: Any) -> dict[str, Any]:
        return {**self.scope, "goal_ids": list(goal_ids), **values}


def _points_by_goal(rows: Sequence[Row]) -> dict[uuid.UUID, list[Point]]:
    """Each goal's points from its row's `times` and `values` arrays (NULL: none)."""
    return {row["goal_id"]: points(row["times"], row["values"]) for row in rows if row["times"]}


_GOAL_IDS = bindparam("goal_ids", type_=UUIDS)
_SINCE: BindParameter[datetime] = bindparam("since", type_=DateTime(timezone=True))
# One row per goal id given: the figures below are correlated subqueries on it, so each reads
# one goal's rows through an index, and never another organization's (org_id is in each).
_GOAL = func.unnest(_GOAL_IDS).table_valued("id").render_derived(name="goal")
_NEWEST_FIRST = (ProgressEvent.occurred_at.desc(), ProgressEvent.id.desc())


def _recorded_of_goal(
    *conditions: ColumnElement[bool], goal_id: ColumnElement[uuid.UUID] = _GOAL.c.id
) -> list[ColumnElement[bool]]:
    return [
        ProgressEvent.org_id == CALLER_ORG,
        ProgressEvent.goal_id == goal_id,
        ProgressEvent.status == RECORDED,
        *conditions,
    ]


def _measurements() -> Select[uuid.UUID, list[datetime], list[float]]:
    """Per goal, two arrays in time order: a few rows, where a row per point would cost
    SQLAlchemy microseconds each (hundreds of points per client at a million events). Each
    goal's arrays are built beside it (LATERAL), not grouped again after a sort."""
    arrays = _points_of(_GOAL, with_ids=False)
    return (
        select(_GOAL.c.id.label("goal_id"), arrays.c.times, arrays.c["values"])
        .select_from(_GOAL.join(arrays, true()))
        .where(arrays.c.times.is_not(None))  # a goal without a measurement has no row
    )


def _points_of(goal: FromClause, *, with_ids: bool) -> LateralFromClause:
    """The measurements of `goal` (a FROM with an `id`, the statement's goal) as arrays in
    time order (`times`, `values`, and `ids` if asked): those of the window, and those of the
    latest two that are older than the window. The two parts never share a point, so no step
    to remove duplicates (UNION ALL, not UNION). NULL arrays when there is none."""
    is_measurement = (ProgressEvent.kind == "measurement", ProgressEvent.value.is_not(None))
    columns = (ProgressEvent.id, ProgressEvent.occurred_at, ProgressEvent.value)
    of_goal = partial(_recorded_of_goal, *is_measurement, goal_id=goal.c.id)
    in_window = (
        select(*columns).where(*of_goal(ProgressEvent.occurred_at >= _SINCE)).correlate(goal)
    )
    latest_two = (
        select(*columns)
        .where(*of_goal())
        .order_by(*_NEWEST_FIRST)
        .limit(2)
        .correlate(goal)
        .lateral("latest")
    )
    before_window = select(latest_two).where(latest_two.c.occurred_at < _SINCE)
    point = union_all(in_window, before_window).subquery("point")

    def in_time_order(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        ordered = aggregate_order_by(column, point.c.occurred_at, point.c.id)
        return func.array_agg(ordered).label(name)

    aggregated = [
        in_time_order(point.c.occurred_at, "times"),
        in_time_order(point.c.value, "values"),
    ]
    if with_ids:
        aggregated.append(in_time_order(point.c.id, "ids"))
    return select(*aggregated).lateral("arrays")


@cache
def _facts_and_points(role: Role) -> DriverQuery:
    """The goal's facts (`facts_select`) and its measurements with their ids, in one query."""
    arrays = _points_of(cast(Table, Goal.__table__), with_ids=True)
    facts = facts_select(role).join(arrays, true())  # an aggregate: always one row
    points = facts.add_columns(arrays.c.times, arrays.c.ids, arrays.c["values"])
    return DriverQuery(points, standalone=True)


def _latest(
    goal: FromClause, column: InstrumentedAttribute[Any], *conditions: ColumnElement[bool]
) -> ScalarSelect[Any]:
    """The goal's newest recorded value of `column`, read backwards along its index."""
    return (
        select(column)
        .where(*_recorded_of_goal(*conditions, goal_id=goal.c.id))
        .order_by(*_NEWEST_FIRST)
        .limit(1)
        .scalar_subquery()
    )


def _tallies(goal: FromClause) -> list[ColumnElement[Any]]:
    """The `GoalTallies` of `goal` (a FROM with an `id`, the statement's goal), each a
    subquery correlated on it that reads that goal's rows through an index."""
    live_steps = (
        ActionStep.org_id == CALLER_ORG,
        ActionStep.goal_id == goal.c.id,
        ActionStep.deleted_at.is_(None),
    )
    clinical = or_(ProgressEvent.source == "clinician", ProgressEvent.source == "integration")
    staff = or_(GoalRevision.actor_role == "admin", GoalRevision.actor_role == "clinician")
    last_staff_revision = select(func.max(GoalRevision.changed_at)).where(
        GoalRevision.org_id == CALLER_ORG, GoalRevision.goal_id == goal.c.id, staff
    )
    counted = select(func.count()).where(*_recorded_of_goal(goal_id=goal.c.id))
    done = select(func.count()).where(*live_steps, ActionStep.status == "done")
    gas_level = ProgressEvent.gas_level
    return [
        counted.scalar_subquery().label("events"),
        select(func.count()).where(*live_steps).scalar_subquery().label("steps"),
        done.scalar_subquery().label("steps_done"),
        _latest(goal, gas_level, gas_level.is_not(None)).label("latest_gas_level"),
        _latest(goal, ProgressEvent.occurred_at, clinical).label("last_clinical_activity"),
        last_staff_revision.scalar_subquery().label("last_staff_revision"),
    ]


def _tallies_of(row: Row) -> GoalTallies:
    return GoalTallies(
        events=row["events"],
        steps=row["steps"],
        steps_done=row["steps_done"],
        latest_gas_level=row["latest_gas_level"],
        last_clinical_activity=row["last_clinical_activity"],
        last_staff_revision=row["last_staff_revision"],
    )


@cache
def _facts_and_figures(role: Role) -> DriverQuery:
    """The goal's facts (`facts_select`), tallies and measurements, in one query: a goal's
    progress summary but for its habits."""
    goals = cast(Table, Goal.__table__)
    arrays = _points_of(goals, with_ids=False)
    facts = facts_select(role).join(arrays, true())  # an aggregate: always one row
    figures = facts.add_columns(*_tallies(goals), arrays.c.times, arrays.c["values"])
    return DriverQuery(figures, standalone=True)


_MEASUREMENTS = _measurements()
# Hundreds of points per client at a million events: asyncpg decodes the arrays in C.
_MEASUREMENTS_QUERY = DriverQuery(_MEASUREMENTS)
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
# A handful of scalars and two arrays per goal, read on every summary, on the driver.
_FIGURE_ARRAYS = _points_of(_GOAL, with_ids=False)
_FIGURES = select(
    _GOAL.c.id.label("goal_id"),
    *_tallies(_GOAL),
    _FIGURE_ARRAYS.c.times,
    _FIGURE_ARRAYS.c["values"],
).select_from(_GOAL.join(_FIGURE_ARRAYS, true()))
_FIGURES_QUERY = DriverQuery(_FIGURES)
_COMPLETIONS_SINCE = (
    select(func.array_agg(ProgressEvent.occurred_at))
    .where(
        ProgressEvent.org_id == CALLER_ORG,
        ProgressEvent.step_id == ActionStep.id,
        ProgressEvent.kind == "step_completed",
        ProgressEvent.status == RECORDED,
        ProgressEvent.occurred_at >= _SINCE,
    )
    .scalar_subquery()
)
# Looked up per step by primary key: planned once for any list of goals, a join read every
# client of the organization into a hash table (a sequential scan that grows with the org).
_CLIENT_TIMEZONE = (
    select(Client.timezone)
    .where(Client.id == ActionStep.client_id, Client.org_id == CALLER_ORG)
    .scalar_subquery()
)
_HABIT_STEPS = (
    select(
        ActionStep.id,
        ActionStep.goal_id,
        ActionStep.created_at,
        ActionStep.recurrence,
        _COMPLETIONS_SINCE.label("completions"),
        _CLIENT_TIMEZONE.label("timezone"),
    )
    .where(
        ActionStep.org_id == CALLER_ORG,
        ActionStep.goal_id == any_(_GOAL_IDS),
        ActionStep.deleted_at.is_(None),
        ActionStep.recurrence.is_not(None),
    )
    .order_by(ActionStep.goal_id, ActionStep.position)
)
_HABIT_STEPS_QUERY = DriverQuery(_HABIT_STEPS)
