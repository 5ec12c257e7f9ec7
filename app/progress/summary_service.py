"""Loads the figures a progress summary is made of, in one query, and hands
them to the pure maths in `summary.py`."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.clients.repository import ClientRepository
from app.goals.lifecycle import LifecycleStatus
from app.goals.models import GoalFacts, GoalView
from app.goals.repository import GoalRepository
from app.progress.days import local_days
from app.progress.figures import GoalFigures, GoalTallies, HabitStep
from app.progress.habits import habit_strength_on_days
from app.progress.points import IdentifiedSeries, Measured, Point, Series, seconds, with_measurement
from app.progress.repository import ProgressRepository
from app.progress.summary import (
    TREND_WINDOW,
    HabitStrength,
    MeasureSpec,
    ProgressSummary,
    StepsSummary,
    status_from_measurements,
    summarize,
)

# Habit strength looks back this far; older completions have decayed to nothing anyway.
HABIT_WINDOW = timedelta(days=180)


def measure_spec(goal: GoalView) -> MeasureSpec | None:
    measure = goal.measure
    if not measure:
        return None
    return MeasureSpec(
        kind=measure["kind"],
        direction=measure["direction"],
        baseline=float(measure["baseline"]),
        target=float(measure["target"]),
        scale_min=measure.get("scale_min"),
        scale_max=measure.get("scale_max"),
    )


@dataclass(frozen=True, slots=True)
class Measurements:
    """A goal's measurements as the summary's query read them `since`, with their ids, and
    its client's time zone. Read before a new event is written, so that its INSERT can go to
    the database with the goal's UPDATE and the audit row in one statement (see
    app/driver.py)."""

    since: datetime
    measured: IdentifiedSeries
    timezone: str

    def points_with(self, new: Measured | None) -> Series:
        """The points once the measurement `new` is written too (None: no measurement)."""
        if new is not None:
            return with_measurement(self.measured, new, since=self.since)
        return self.measured


def as_measurement(event: Mapping[str, Any]) -> Measured | None:
    """A new event's row as the measurement it records (time, id, value), if it is one (a
    measurement, or a session outcome's value): as the measurements query reads them
    (`app.progress.figures._points_of`)."""
    if event.get("value") is not None:
        return seconds(event["occurred_at"]), event["id"], event["value"]
    return None


class SummarizedGoal(NamedTuple):
    facts: GoalFacts
    tallies: GoalTallies
    summary: ProgressSummary
    timezone: str  # the client's


class SummaryService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.progress = ProgressRepository(session, caller)
        self.goals = GoalRepository(session, caller)
        self.clients = ClientRepository(session, caller)

    async def goal_summary(self, goal_id: uuid.UUID) -> ProgressSummary | None:
        """The goal's summary, from one query; None if the caller cannot see the goal."""
        now = datetime.now(UTC)
        found = await self.progress.facts_and_figures(goal_id, **_windows(now))
        if found is None:
            return None
        goal, figures = found
        return _summary(goal, figures, now)

    async def client_summaries(
        self, client_id: uuid.UUID, statuses: Sequence[str]
    ) -> tuple[list[SummarizedGoal], list[tuple[GoalFacts, GoalTallies]]] | None:
        """The client's goals in `statuses` (in id order), from one query however many goals
        there are: the open ones with their tallies and summary, and the completed ones with
        their tallies only (read for their GAS level: `client_figures_query` reads nothing
        else for them); None if the caller may not see the client."""
        now = datetime.now(UTC)
        found = await self.progress.client_figures(client_id, statuses, **_windows(now))
        if found is None:
            return None
        summarized, completed = [], []
        for goal, figures in found:
            if goal.lifecycle_status == LifecycleStatus.COMPLETED.value:
                completed.append((goal, figures.tallies))
            else:
                summary = _summary(goal, figures, now)
                summarized.append(SummarizedGoal(goal, figures.tallies, summary, figures.timezone))
        return summarized, completed

    async def refresh_achievement(
        self,
        goal: GoalView,
        *,
        measured: Measurements | None = None,
        adding: Measured | None = None,
    ) -> None:
        """Keep a goal's derived achievement status current, unless a clinician has set it.
        Not an edit by a person: no version bump, a `derived` revision. Only the measurements decide
        it: read here (a query of their own), or `measured` before the measurement `adding`
        is written, which then counts as written (see `Measurements`)."""
        if goal.achievement_status_source == "clinician":
            return
        now = datetime.now(UTC)  # after `adding` was dated: its point is not in the future
        points: Sequence[Point]
        if measured is not None:
            points, timezone = measured.points_with(adding), measured.timezone
        elif adding is not None:
            raise ValueError("A new measurement needs the measurements read before it.")
        else:
            found = await self.progress.measurements([goal.id], since=now - TREND_WINDOW)
            points, timezone = found.get(goal.id, []), await self.clients.timezone(goal.client_id)
        status = derived_status(goal, points, timezone, now)
        if status != goal.achievement_status:
            await self.goals.set_derived_achievement(goal, status)

    async def facts_and_measured(self, goal_id: uuid.UUID) -> tuple[GoalFacts, Measurements] | None:
        """The goal's facts and its measurements, read together before progress is recorded
        on it; None if the caller cannot see the goal."""
        since = datetime.now(UTC) - TREND_WINDOW
        found = await self.progress.facts_and_measured(goal_id, since=since)
        if found is None:
            return None
        facts, measured, timezone = found
        return facts, Measurements(since, measured, timezone)


def on_clients_calendar(now: datetime, timezone: str) -> datetime:
    """`now` in the client's time zone: a summary's dates (today, a reading's day) are the
    client's, as `app.progress.summary` reads them off `now`."""
    return now.astimezone(zoneinfo.ZoneInfo(timezone))


def derived_status(
    goal: GoalView, measurements: Sequence[Point], timezone: str, now: datetime
) -> str:
    """The status the goal's progress summary derives from `measurements` at `now`, on its
    client's calendar (a new goal's: from none)."""
    return status_from_measurements(
        measure=measure_spec(goal),
        measurements=measurements,
        start_date=goal.start_date,
        target_date=goal.target_date,
        now=on_clients_calendar(now, timezone),
    )


def _windows(now: datetime) -> dict[str, datetime]:
    """How far back a summary reads measurements (the trend's window) and completions."""
    return {"since": now - TREND_WINDOW, "habits_since": _habits_since(now)}


def _habits_since(now: datetime) -> datetime:
    return now - HABIT_WINDOW


def _summary(goal: GoalView, figures: GoalFigures, now: datetime) -> ProgressSummary:
    tally = figures.tallies
    now = on_clients_calendar(now, figures.timezone)
    return summarize(
        measure=measure_spec(goal),
        start_date=goal.start_date,
        target_date=goal.target_date,
        measurements=figures.points,
        steps=StepsSummary(
            total=tally.steps,
            done=tally.steps_done,
            completion_rate=tally.steps_done / tally.steps if tally.steps else None,
        ),
        habits=_habits(figures.habit_steps, now=now),
        event_count=tally.events,
        latest_gas_level=tally.latest_gas_level if goal.gas_levels else None,
        gas_weight=goal.gas_weight,
        explicit_status=goal.achievement_status
        if goal.achievement_status_source == "clinician"
        else None,
        now=now,
    )


def _habits(steps: Sequence[HabitStep], *, now: datetime) -> list[HabitStrength]:
    since = _habits_since(now)  # as far back as their completions were read
    strengths = []
    for step in steps:
        zone = zoneinfo.ZoneInfo(step.timezone)  # a day is the client's day
        today = now.astimezone(zone).date()
        days = local_days(zone, step.completions)
        times = int(step.recurrence.get("times", 1))
        frequency = step.recurrence.get("frequency", "daily")
        per_day = times if frequency == "daily" else times / 7
        # Scored over the whole window, whenever the step was added: a habit kept before it
        # went into the plan may have its completions entered afterwards, and the days
        # before the first completion only decay a score of nothing.
        start = since.astimezone(zone).date().toordinal()
        strength = habit_strength_on_days(
            days, start=start, end=today.toordinal(), times_per_day=per_day
        )
        strengths.append(
            HabitStrength(
                step_id=str(step.step_id), frequency=frequency, times=times, strength=strength
            )
        )
    return strengths
