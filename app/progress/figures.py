"""The figures summaries are made of, as SQL: a goal's tallies, measurements and habits,
each read beside the goal (a correlated subquery or a LATERAL aggregate) through an index.

A summary is one query: the goal's facts (or the client's and its goals'), scoped to the
caller, with each goal's figures beside it. A client summary costs the same one query
whether the client has one goal or fifty. Every statement names the caller's organization,
so a wrong id can never reach another's rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Float,
    ScalarSelect,
    Select,
    Table,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import FromClause, LateralFromClause

from app.auth.caller import Role
from app.clients.models import Client
from app.clients.scope import CALLER_ORG
from app.db import UUIDS
from app.driver import DriverQuery, Row
from app.goals.lifecycle import LifecycleStatus
from app.goals.models import Goal, GoalRevision
from app.goals.repository import DERIVED, client_goal_facts_select, facts_select
from app.progress.models import ProgressEvent
from app.progress.points import Point, Series, points
from app.steps.models import ActionStep

RECORDED = "recorded"


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
    recurrence: dict[str, Any]
    completions: Sequence[float]  # POSIX seconds, as a summary Point's times
    timezone: str  # the client's: a habit is kept or missed on the client's days


@dataclass(frozen=True, slots=True)
class GoalFigures:
    """What a goal's progress summary is made of: its measurements (as `measurements` reads
    them), its tallies, and its live recurring steps in plan order."""

    points: Series
    tallies: GoalTallies
    habit_steps: list[HabitStep]
    timezone: str  # the client's: its calendar is the summary's

    @classmethod
    def of(cls, row: Row) -> GoalFigures:
        """From a row of `_with_figures`."""
        return cls(
            points=Series(row["times"] or [], row["values"] or []),
            tallies=GoalTallies(
                events=row["events"],
                steps=row["steps"],
                steps_done=row["steps_done"],
                latest_gas_level=row["latest_gas_level"],
                last_clinical_activity=row["last_clinical_activity"],
                last_staff_revision=row["last_staff_revision"],
            ),
            habit_steps=_habit_steps(row),
            timezone=row["client_timezone"],
        )


def _habit_steps(row: Row) -> list[HabitStep]:
    if not row["habit_ids"]:
        return []
    completions: dict[uuid.UUID, list[float]] = defaultdict(list)
    for step_id, at in zip(row["completed_steps"] or (), row["completed_at"] or (), strict=True):
        completions[step_id].append(at)
    steps = zip(row["habit_ids"], row["habit_recurrences"], strict=True)
    return [
        HabitStep(
            step_id=step_id,
            recurrence=recurrence,
            completions=completions.get(step_id, ()),
            timezone=row["client_timezone"],
        )
        for step_id, recurrence in steps
    ]


def points_by_goal(rows: Sequence[Row]) -> dict[uuid.UUID, list[Point]]:
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


def _measurements() -> Select[uuid.UUID, list[float], list[float]]:
    """Per goal, two arrays in time order: a few rows, where a row per point would cost
    SQLAlchemy microseconds each (hundreds of points per client at a million events). Each
    goal's arrays are built beside it (LATERAL), not grouped again after a sort."""
    arrays = _points_of(_GOAL, with_ids=False)
    return (
        select(_GOAL.c.id.label("goal_id"), arrays.c.times, arrays.c["values"])
        .select_from(_GOAL.join(arrays, true()))
        .where(arrays.c.times.is_not(None))  # a goal without a measurement has no row
    )


def _points_of(
    goal: FromClause, *, with_ids: bool, only: tuple[ColumnElement[bool], ...] = ()
) -> LateralFromClause:
    """The measurements of `goal` (a FROM with an `id`, the statement's goal) as arrays in
    time order (`times` in POSIX seconds, `values`, and `ids` if asked): those of the window,
    and those of the latest two that are older than the window. The two parts never share a
    point, so no step to remove duplicates (UNION ALL, not UNION). NULL arrays when there is
    none."""
    # A value is a measurement, whichever event carries it: a measurement's, or one taken in
    # a session and reported with its outcome (only these two kinds carry one).
    is_measurement = (ProgressEvent.value.is_not(None),)
    columns = (ProgressEvent.id, ProgressEvent.occurred_at, ProgressEvent.value)
    of_goal = partial(_recorded_of_goal, *is_measurement, *only, goal_id=goal.c.id)
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
    both = union_all(in_window, before_window).subquery("both")
    point = _in_order(select(both), both.c.occurred_at, both.c.id)
    aggregated = [
        _array("times", _posix_seconds(point.c.occurred_at)),
        _array("values", point.c.value),
    ]
    if with_ids:
        aggregated.append(_array("ids", point.c.id))
    return select(*aggregated).lateral("arrays")


def _posix_seconds(
    at: ColumnElement[datetime] | InstrumentedAttribute[datetime],
) -> ColumnElement[float]:
    """A timestamp as a summary Point's time: a double, where asyncpg would spend 0.6 µs
    making a datetime of each (see `app.progress.points.Point`)."""
    return func.date_part(literal_column("'epoch'"), at, type_=Float)


def _in_order(rows: Select[Any], *order: Any) -> FromClause:
    """`rows` sorted by `order` (a total order: it ends with a unique id), for `_array`s
    that read nothing else. PostgreSQL 15 sorts the input of each `array_agg(x ORDER BY …)`
    on its own: one sort here instead of one per array (a client summary at a million events:
    2.7 -> 2.2 ms of execution, EXPLAIN ANALYZE median of 150). An aggregate reads a sorted
    subquery in its order as long as nothing (a join, a grouping) stands between them, which
    `tests/progress/test_figures_plans.py` checks on the service's plans."""
    return rows.order_by(*order).subquery("in_order")


def _array(
    name: str, column: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> ColumnElement[Any]:
    """`column`'s values as an array, in the order of the rows read (`_in_order`): arrays of
    one statement zipped together line up, as they read the same rows."""
    return func.array_agg(column).label(name)


def _live_steps_of(goal: FromClause) -> tuple[ColumnElement[bool], ...]:
    """The conditions on `action_steps` for the live (not deleted) steps of `goal`."""
    return (
        ActionStep.org_id == CALLER_ORG,
        ActionStep.goal_id == goal.c.id,
        ActionStep.deleted_at.is_(None),
    )


@cache
def facts_and_points_query(role: Role) -> DriverQuery:
    """The goal's facts (`facts_select`), its measurements with their ids and its client's
    time zone, in one query."""
    goals = cast(Table, Goal.__table__)
    arrays = _points_of(goals, with_ids=True)
    facts = facts_select(role).join(arrays, true())  # an aggregate: always one row
    points = facts.add_columns(
        arrays.c.times,
        arrays.c.ids,
        arrays.c["values"],
        _client_timezone(goals).label("client_timezone"),
    )
    return DriverQuery(points, standalone=True)


def _client_timezone(goals: Table) -> ScalarSelect[str]:
    """The time zone of the goal's client (its days are the client's), read by primary key."""
    return (
        select(Client.timezone)
        .where(Client.id == goals.c.client_id, Client.org_id == CALLER_ORG)
        .scalar_subquery()
    )


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


def _tallies(
    goal: FromClause, only: tuple[ColumnElement[bool], ...] = ()
) -> list[ColumnElement[Any]]:
    """The `GoalTallies` of `goal` (a FROM with an `id`, the statement's goal), each a
    subquery correlated on it that reads that goal's rows through an index."""
    live_steps = (*_live_steps_of(goal), *only)
    clinical = or_(ProgressEvent.source == "clinician", ProgressEvent.source == "integration")
    staff = or_(GoalRevision.actor_role == "admin", GoalRevision.actor_role == "clinician")
    last_staff_revision = select(func.max(GoalRevision.changed_at)).where(
        GoalRevision.org_id == CALLER_ORG,
        GoalRevision.goal_id == goal.c.id,
        staff,
        GoalRevision.action != DERIVED,  # progress changed it, not a review
        *only,
    )
    counted = select(func.count()).where(*_recorded_of_goal(*only, goal_id=goal.c.id))
    done = select(func.count()).where(*live_steps, ActionStep.status == "done")
    gas_level = ProgressEvent.gas_level
    return [
        counted.scalar_subquery().label("events"),
        select(func.count()).where(*live_steps).scalar_subquery().label("steps"),
        done.scalar_subquery().label("steps_done"),
        _latest(goal, gas_level, gas_level.is_not(None)).label("latest_gas_level"),
        _latest(goal, ProgressEvent.occurred_at, clinical, *only).label("last_clinical_activity"),
        last_staff_revision.scalar_subquery().label("last_staff_revision"),
    ]


def _habits_of(
    goal: FromClause, only: tuple[ColumnElement[bool], ...] = ()
) -> tuple[LateralFromClause, LateralFromClause]:
    """The live recurring steps of `goal` in plan order (`habit_ids`, `habit_recurrences`),
    and their completions since `habits_since` (`completed_steps`, `completed_at` in POSIX
    seconds): parallel arrays, NULL when there is none. Each step's completions are read along
    its own index (`ix_progress_events_step_timeline`)."""
    recurring = (*_live_steps_of(goal), ActionStep.recurrence.is_not(None), *only)
    columns = (ActionStep.id, ActionStep.recurrence)
    step = _in_order(
        select(*columns).where(*recurring).correlate(goal), ActionStep.position, ActionStep.id
    )
    steps = select(
        _array("habit_ids", step.c.id),
        _array("habit_recurrences", step.c.recurrence),
    ).lateral("habits")
    # Each step's own completions, read beside it along the index, in time order. A plain join
    # let the generic plan merge-join the steps with every completion in the index since
    # `habits_since` (seen at 10,000 events: 2.9 ms a summary instead of 0.6). The ORDER BY
    # (free: the index's order) also keeps PostgreSQL from flattening the LATERAL read back
    # into that join.
    done = (
        select(ProgressEvent.step_id, ProgressEvent.occurred_at)
        .where(
            ProgressEvent.step_id == ActionStep.id,
            ProgressEvent.org_id == CALLER_ORG,
            ProgressEvent.kind == "step_completed",
            ProgressEvent.status == RECORDED,
            ProgressEvent.occurred_at >= bindparam("habits_since", type_=DateTime(timezone=True)),
        )
        .order_by(ProgressEvent.occurred_at)
        .correlate(ActionStep)
        .lateral("done")
    )
    completed = (
        select(
            func.array_agg(done.c.step_id).label("completed_steps"),
            func.array_agg(_posix_seconds(done.c.occurred_at)).label("completed_at"),
        )
        .select_from(cast(Table, ActionStep.__table__).join(done, true()))
        .where(*recurring)
        .correlate(goal)
        .lateral("completions")
    )
    return steps, completed


def _with_figures(
    facts: Select[Any],
    goal: FromClause,
    timezone: ColumnElement[str] | InstrumentedAttribute[str],
    only: tuple[ColumnElement[bool], ...] = (),
) -> Select[Any]:
    """`facts` (a statement with `goal` in its FROM) and the goal's `GoalFigures`, with its
    client's `timezone` (a habit is kept or missed on the client's days). Each part is read
    beside the goal (a subquery or a LATERAL aggregate, always one row) through an index.
    With `only` (conditions on the goal), a goal that fails them gets its latest GAS level
    and empty figures: PostgreSQL checks them once per goal and reads nothing more for it."""
    measured = _points_of(goal, with_ids=False, only=only)
    habits, completed = _habits_of(goal, only)
    return (
        facts.join_from(goal, measured, true())
        .join_from(goal, habits, true())
        .join_from(goal, completed, true())
        .add_columns(
            *_tallies(goal, only),
            measured.c.times,
            measured.c["values"],
            habits.c.habit_ids,
            habits.c.habit_recurrences,
            completed.c.completed_steps,
            completed.c.completed_at,
            timezone.label("client_timezone"),
        )
    )


@cache
def facts_and_figures_query(role: Role) -> DriverQuery:
    """A goal's facts (`facts_select`) and figures: its whole progress summary's data."""
    goals = cast(Table, Goal.__table__)
    return DriverQuery(
        _with_figures(facts_select(role), goals, _client_timezone(goals)), standalone=True
    )


@cache
def client_figures_query(role: Role) -> DriverQuery:
    """A row for the client if the caller may see it, one per goal of it in `statuses` (its
    facts and figures, in id order), NULLs for the goal if it has none."""
    statement = client_goal_facts_select(role)
    goals = cast(Table, Goal.__table__)
    # The client summary shows its open goals; a completed one is there for its GAS level only.
    open_goal = (goals.c.lifecycle_status != LifecycleStatus.COMPLETED.value,)
    return DriverQuery(_with_figures(statement, goals, Client.timezone, open_goal), standalone=True)


MEASUREMENTS = _measurements()
# Hundreds of points per client at a million events: asyncpg decodes the arrays in C.
MEASUREMENTS_QUERY = DriverQuery(MEASUREMENTS)
