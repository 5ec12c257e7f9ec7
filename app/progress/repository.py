"""All SQL about progress events and the figures summaries are made of.

A summary is one query: the goal's facts (or the client's and its goals'), scoped to the
caller, with each goal's figures read beside it through an index. A client summary costs the
same one query whether the client has one goal or fifty.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
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
from app.goals.repository import client_goal_facts_select, facts_select
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
    created_at: datetime
    recurrence: dict[str, Any]
    completions: Sequence[datetime]
    timezone: str  # the client's: a habit is kept or missed on the client's days


@dataclass(frozen=True, slots=True)
class GoalFigures:
    """What a goal's progress summary is made of: its measurements (as `measurements` reads
    them), its tallies, and its live recurring steps in plan order."""

    points: list[Point]
    tallies: GoalTallies
    habit_steps: list[HabitStep]

    @classmethod
    def of(cls, row: Row) -> GoalFigures:
        """From a row of `_with_figures`."""
        return cls(
            points=points(row["times"], row["values"]) if row["times"] else [],
            tallies=GoalTallies(
                events=row["events"],
                steps=row["steps"],
                steps_done=row["steps_done"],
                latest_gas_level=row["latest_gas_level"],
                last_clinical_activity=row["last_clinical_activity"],
                last_staff_revision=row["last_staff_revision"],
            ),
            habit_steps=_habit_steps(row),
        )


def _habit_steps(row: Row) -> list[HabitStep]:
    if not row["habit_ids"]:
        return []
    completions: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for step_id, at in zip(row["completed_steps"] or (), row["completed_at"] or (), strict=True):
        completions[step_id].append(at)
    steps = zip(row["habit_ids"], row["habit_created"], row["habit_recurrences"], strict=True)
    return [
        HabitStep(
            step_id=step_id,
            created_at=created_at,
            recurrence=recurrence,
            completions=completions.get(step_id, ()),
            timezone=row["client_timezone"],
        )
        for step_id, created_at, recurrence in steps
    ]


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

    # --- figures for summaries and statuses: built once (below the class). Each statement
    # names the caller's organization, so a wrong id can never reach another's rows; those
    # that start from facts are scoped to what the caller may see, like `facts_select` ---

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

    async def facts_and_figures(
        self, goal_id: uuid.UUID, *, since: datetime, habits_since: datetime
    ) -> tuple[GoalFacts, GoalFigures] | None:
        """The goal's facts (`facts_select`, scoping and all) and its figures, in one query;
        None if the caller cannot see it. Measurements from `since`, habits' completions
        from `habits_since`."""
        values = {**self.scope, "goal_id": goal_id, "since": since, "habits_since": habits_since}
        row = await fetch_one(self.session, _facts_and_figures(self.caller.role), values)
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
        rows = await fetch(self.session, _client_figures(self.caller.role), values)
        if not rows:
            return None
        return [(GoalFacts.of(row), GoalFigures.of(row)) for row in rows if row["id"] is not None]

    def _of(self, goal_ids: Sequence[uuid.UUID], **values: Any) -> dict[str, Any]:
        return {**self.scope, "goal_ids": list(goal_ids), **values}


def _points_by_goal(rows: Sequence[Row]) -> dict[uuid.UUID, list[Point]]:
    """Each goal's points from its row's `times` and `values` arrays (NULL: none)."""
    return {row["goal_id"]: points(row["times"], row["values"]) for row in rows if row["times"]}


_GOAL_IDS = bindparam("goal_ids", type_=UUIDS)
_SINCE: BindParameter[datetime] = bindparam("since", type_=DateTime(timezone=True))
# One row per goal id given, for the measurements of several goals (`_measurements`): each
# goal's are read beside it through an index, and never another organization's.
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


def _habits_of(goal: FromClause) -> tuple[LateralFromClause, LateralFromClause]:
    """The live recurring steps of `goal` in plan order (`habit_ids`, `habit_created`,
    `habit_recurrences`), and their completions since `habits_since` (`completed_steps`,
    `completed_at`): parallel arrays, NULL when there is none. Each step's completions are
    read along its own index (`ix_progress_events_step_timeline`)."""
    recurring = (
        ActionStep.org_id == CALLER_ORG,
        ActionStep.goal_id == goal.c.id,
        ActionStep.deleted_at.is_(None),
        ActionStep.recurrence.is_not(None),
    )

    def in_plan_order(column: InstrumentedAttribute[Any], name: str) -> ColumnElement[Any]:
        # Three arrays, zipped: each in the same total order (positions, then ids, are unique)
        ordered = aggregate_order_by(column, ActionStep.position, ActionStep.id)
        return func.array_agg(ordered).label(name)

    steps = (
        select(
            in_plan_order(ActionStep.id, "habit_ids"),
            in_plan_order(ActionStep.created_at, "habit_created"),
            in_plan_order(ActionStep.recurrence, "habit_recurrences"),
        )
        .where(*recurring)
        .correlate(goal)
        .lateral("habits")
    )
    of_step = ProgressEvent.step_id == ActionStep.id
    completed = (
        select(
            func.array_agg(ProgressEvent.step_id).label("completed_steps"),
            func.array_agg(ProgressEvent.occurred_at).label("completed_at"),
        )
        .select_from(cast(Table, ActionStep.__table__).join(ProgressEvent, of_step))
        .where(
            *recurring,
            ProgressEvent.org_id == CALLER_ORG,
            ProgressEvent.kind == "step_completed",
            ProgressEvent.status == RECORDED,
            ProgressEvent.occurred_at >= bindparam("habits_since", type_=DateTime(timezone=True)),
        )
        .correlate(goal)
        .lateral("completions")
    )
    return steps, completed


def _with_figures(
    facts: Select[Any], goal: FromClause, timezone: ColumnElement[str] | InstrumentedAttribute[str]
) -> Select[Any]:
    """`facts` (a statement with `goal` in its FROM) and the goal's `GoalFigures`, with its
    client's `timezone` (a habit is kept or missed on the client's days). Each part is read
    beside the goal (a subquery or a LATERAL aggregate, always one row) through an index."""
    measured = _points_of(goal, with_ids=False)
    habits, completed = _habits_of(goal)
    return (
        facts.join_from(goal, measured, true())
        .join_from(goal, habits, true())
        .join_from(goal, completed, true())
        .add_columns(
            *_tallies(goal),
            measured.c.times,
            measured.c["values"],
            habits.c.habit_ids,
            habits.c.habit_created,
            habits.c.habit_recurrences,
            completed.c.completed_steps,
            completed.c.completed_at,
            timezone.label("client_timezone"),
        )
    )


@cache
def _facts_and_figures(role: Role) -> DriverQuery:
    """A goal's facts (`facts_select`) and figures: its whole progress summary's data."""
    goals = cast(Table, Goal.__table__)
    timezone = (
        select(Client.timezone)
        .where(Client.id == goals.c.client_id, Client.org_id == CALLER_ORG)
        .scalar_subquery()
    )
    return DriverQuery(_with_figures(facts_select(role), goals, timezone), standalone=True)


@cache
def _client_figures(role: Role) -> DriverQuery:
    """A row for the client if the caller may see it, one per goal of it in `statuses` (its
    facts and figures, in id order), NULLs for the goal if it has none."""
    statement = client_goal_facts_select(role)
    goals = cast(Table, Goal.__table__)
    return DriverQuery(_with_figures(statement, goals, Client.timezone), standalone=True)


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
