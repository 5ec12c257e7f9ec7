"""Loads the figures a progress summary is made of, in a fixed number of queries, and hands
them to the pure maths in `summary.py`."""

from __future__ import annotations

import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.goals.models import Goal
from app.goals.repository import GoalRepository
from app.progress.repository import ProgressRepository
from app.progress.summary import (
    TREND_WINDOW,
    HabitStrength,
    MeasureSpec,
    Point,
    ProgressSummary,
    StepsSummary,
    derived_status,
    habit_strength,
    summarize,
)

# Habit strength looks back this far; older completions have decayed to nothing anyway.
HABIT_WINDOW = timedelta(days=180)


def measure_spec(goal: Goal) -> MeasureSpec | None:
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
class GoalFigures:
    summaries: dict[uuid.UUID, ProgressSummary]
    gas_levels: dict[uuid.UUID, int]  # each goal's latest recorded GAS level


class SummaryService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.progress = ProgressRepository(session, caller)
        self.goals = GoalRepository(session, caller)

    async def summaries(
        self, goals: Sequence[Goal], *, timezone: str, now: datetime | None = None
    ) -> dict[uuid.UUID, ProgressSummary]:
        return (await self.figures(goals, timezone=timezone, now=now)).summaries

    async def figures(
        self, goals: Sequence[Goal], *, timezone: str, now: datetime | None = None
    ) -> GoalFigures:
        """One summary per goal, in the same seven queries however many goals there are."""
        now = now or datetime.now(UTC)
        ids = [goal.id for goal in goals]
        if not ids:
            return GoalFigures(summaries={}, gas_levels={})
        points: dict[uuid.UUID, list[Point]] = defaultdict(list)
        for goal_id, at, value in await self.progress.measurements(ids, since=now - TREND_WINDOW):
            points[goal_id].append(Point(at=at, value=value))
        gas = await self.progress.latest_gas_levels(ids)
        counts = await self.progress.event_counts(ids)
        steps = await self.progress.step_counts(ids)
        habits = await self._habits(ids, timezone=timezone, now=now)
        summaries = {}
        for goal in goals:
            step_count = steps.get(goal.id)
            total, done = (step_count.total, step_count.done) if step_count else (0, 0)
            summaries[goal.id] = summarize(
                measure=measure_spec(goal),
                start_date=goal.start_date,
                target_date=goal.target_date,
                measurements=points.get(goal.id, []),
                steps=StepsSummary(
                    total=total, done=done, completion_rate=done / total if total else None
                ),
                habits=habits.get(goal.id, []),
                event_count=counts.get(goal.id, 0),
                latest_gas_level=gas.get(goal.id) if goal.gas_levels else None,
                gas_weight=goal.gas_weight,
                explicit_status=goal.achievement_status
                if goal.achievement_status_source == "clinician"
                else None,
                now=now,
            )
        return GoalFigures(summaries=summaries, gas_levels=gas)

    async def _habits(
        self, goal_ids: Sequence[uuid.UUID], *, timezone: str, now: datetime
    ) -> dict[uuid.UUID, list[HabitStrength]]:
        steps = await self.progress.recurring_steps(goal_ids)
        since = now - HABIT_WINDOW
        completions = await self.progress.completions([s.id for s in steps], since=since)
        zone = zoneinfo.ZoneInfo(timezone)
        days: dict[uuid.UUID, list[date]] = defaultdict(list)
        for step_id, at in completions:
            days[step_id].append(at.astimezone(zone).date())  # a day is the client's day
        today = now.astimezone(zone).date()
        result: dict[uuid.UUID, list[HabitStrength]] = defaultdict(list)
        for step in steps:
            recurrence = step.recurrence or {}
            times = int(recurrence.get("times", 1))
            frequency = recurrence.get("frequency", "daily")
            per_day = times if frequency == "daily" else times / 7
            start = max(step.created_at.astimezone(zone).date(), since.astimezone(zone).date())
            result[step.goal_id].append(
                HabitStrength(
                    step_id=str(step.id),
                    frequency=frequency,
                    times=times,
                    strength=habit_strength(
                        days.get(step.id, []), start=start, end=today, times_per_day=per_day
                    ),
                )
            )
        return result

    async def refresh_achievement(self, goal: Goal) -> None:
        """Keep a goal's derived achievement status current after progress changes, unless a
        clinician has set it. Not an edit by a person: no revision, no version bump. Only the
        measurements decide it: one query, where a whole summary takes seven."""
        if goal.achievement_status_source == "clinician":
            return
        now = datetime.now(UTC)
        rows = await self.progress.measurements([goal.id], since=now - TREND_WINDOW)
        status = derived_status(
            measure=measure_spec(goal),
            measurements=[Point(at=at, value=value) for _, at, value in rows],
            start_date=goal.start_date,
            target_date=goal.target_date,
            now=now,
        )
        if status != goal.achievement_status:
            await self.goals.set_derived_achievement(goal, status)
