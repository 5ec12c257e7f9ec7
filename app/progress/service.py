"""The rules about progress: what may be recorded on a goal, by whom, and when."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller, Role
from app.clients.service import CLIENT_NOT_FOUND
from app.config import Settings
from app.db import new_id, utcnow
from app.goals.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, LifecycleStatus
from app.goals.models import Goal, GoalFacts, GoalView
from app.goals.service import GOAL_NOT_FOUND, GoalService, check_not_closed
from app.pagination import encode_timed_cursor, split_page
from app.problems import Conflict, Forbidden, NotFound, UnprocessableContent
from app.progress.models import ProgressEvent
from app.progress.repository import EventFilters, ProgressRepository
from app.progress.schemas import ClientGoalProgress, ClientSummary, EventCreate, EventRead
from app.progress.summary import ProgressSummary, gas_t_score
from app.progress.summary_service import (
    Measurements,
    SummarizedGoal,
    SummaryService,
    as_measurement,
    on_clients_calendar,
)
from app.schemas import format_timestamp
from app.session_outcomes.schemas import OutcomeForGoal
from app.steps.models import ActionStep
from app.steps.repository import StepRepository

CLOCK_SKEW = timedelta(minutes=5)
# The goals a client's GAS T-score is over: all but those dropped (cancelled, rejected) or
# entered in error.
GAS_SCORED_STATUSES = sorted(status.value for status in {*OPEN_STATUSES, LifecycleStatus.COMPLETED})
SOURCE_BY_ROLE = {
    Role.CLIENT: "client",
    Role.CLINICIAN: "clinician",
    Role.ADMIN: "clinician",
    Role.INTEGRATION: "integration",
}


def invalid(
    field: str, message: str, at: tuple[str | int, ...] = ("body",)
) -> UnprocessableContent:
    """A 422 shaped like request validation errors, for rules that need the goal to check."""
    return UnprocessableContent(
        message, errors=[{"loc": [*at, field], "msg": message, "type": "value_error"}]
    )


def check_value(
    measure: dict[str, Any], value: float, at: tuple[str | int, ...] = ("body",)
) -> None:
    kind = measure["kind"]
    if kind == "boolean" and value not in (0, 1):
        raise invalid("value", "This goal is measured yes/no: send 1 for yes or 0 for no.", at)
    if kind == "count" and (value < 0 or value != int(value)):
        raise invalid("value", "This goal counts things: send a whole number, 0 or more.", at)
    if kind == "scale":
        low, high = measure.get("scale_min"), measure.get("scale_max")
        if low is not None and high is not None and not low <= value <= high:
            raise invalid("value", f"This goal's scale runs from {low:g} to {high:g}.", at)


class ProgressService:
    def __init__(self, session: AsyncSession, caller: Caller, settings: Settings) -> None:
        self.caller = caller
        self.settings = settings
        self.goals = GoalService(session, caller)
        self.events = ProgressRepository(session, caller)
        self.steps = StepRepository(session, caller)
        self.summaries = SummaryService(session, caller)

    async def record(self, goal_id: uuid.UUID, data: EventCreate) -> EventRead:
        found = await self.summaries.facts_and_measured(goal_id)
        if found is None:
            raise NotFound(GOAL_NOT_FOUND)
        goal, measured = found
        self._check_open(goal)
        if data.achievement_status is not None and not self.caller.is_staff:
            raise Forbidden("Only clinicians may record an achievement status.")
        occurred_at = self._check_time(goal, data.occurred_at)
        self._check_kind(goal, data)
        if data.kind == "step_completed":
            step = await self.steps.get(data.step_id) if data.step_id else None
            if step is None or step.goal_id != goal.id:
                raise invalid("step_id", "No step of this goal has this id.")
        event = await self._append(
            goal,
            measured=measured,
            reason="recorded with progress",
            occurred_at=occurred_at,
            **data.model_dump(exclude={"occurred_at"}),
        )
        return EventRead.model_validate(event)

    async def record_step_completion(self, goal: Goal, step: ActionStep) -> None:
        """A step marked done is progress too: recorded in the same transaction."""
        self._check_open(goal)
        event = self._event(goal, occurred_at=utcnow(), kind="step_completed", step_id=step.id)
        await self.events.append(event)

    async def record_session_outcome(
        self,
        client_id: uuid.UUID,
        item: OutcomeForGoal,
        *,
        occurred_at: datetime,
        outcome_id: uuid.UUID,
        index: int,
    ) -> uuid.UUID:
        """One goal's part of a session outcome: the new event's id. Any problem raises, and
        the caller's transaction (the whole outcome) is rolled back: all or nothing."""
        at: tuple[str | int, ...] = ("body", "goals", index)
        found = await self.summaries.facts_and_measured(item.goal_id)
        if found is None or found[0].client_id != client_id:
            raise invalid("goal_id", "No goal of this client has this id.", at)
        goal, measured = found
        if LifecycleStatus(goal.lifecycle_status) in CLOSED_STATUSES:
            raise invalid("goal_id", f"The goal is {goal.lifecycle_status}.", at)
        self._check_time(goal, occurred_at)  # the outcome's own `occurred_at`
        self._check_fits(goal, item.value, item.gas_level, at)
        event = await self._append(
            goal,
            measured=measured,  # a value taken in session is a measurement of the goal
            reason="reported in a session outcome",
            kind="session_outcome",
            occurred_at=occurred_at,
            session_outcome_id=outcome_id,
            **item.model_dump(exclude={"goal_id"}),
        )
        event_id: uuid.UUID = event["id"]
        return event_id

    async def get(self, event_id: uuid.UUID) -> ProgressEvent:
        event = await self.events.get(event_id)
        if event is None:
            raise NotFound("No progress event with this id is visible to you.")
        return event

    async def search(
        self,
        goal_id: uuid.UUID,
        filters: EventFilters,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> tuple[list[ProgressEvent], str | None]:
        await self.goals.get(goal_id)
        rows = await self.events.search(goal_id, filters, before=before, limit=limit + 1)
        return split_page(rows, limit, lambda e: encode_timed_cursor(e.occurred_at, e.id))

    async def retract(self, event_id: uuid.UUID, reason: str) -> ProgressEvent:
        event = await self.events.get(event_id, for_update=True)
        if event is None:
            raise NotFound("No progress event with this id is visible to you.")
        recorded_by_caller = (event.source, event.recorded_by) == (
            SOURCE_BY_ROLE[self.caller.role],
            self.caller.subject,
        )  # the source too: a client's `sub` may read like an integration's `api-key:<id>`
        if not self.caller.is_staff and not recorded_by_caller:
            raise Forbidden("Clients may retract only what they recorded themselves.")
        if event.status == "retracted":
            raise Conflict(
                "This event is already retracted.",
                retracted_at=format_timestamp(event.retracted_at),
            )
        goal = await self.goals.get(event.goal_id, for_update=True)
        check_not_closed(goal)
        event.status = "retracted"
        event.retracted_at = utcnow()
        event.retracted_by = self.caller.subject
        event.retraction_reason = reason
        await self.events.flush()
        if event.achievement_status is not None:  # the judgement it carried no longer stands
            carried = await self.events.latest_judgement(goal.id)
            await self.goals.withdraw_judgement(goal, event.id, carried)
        await self.summaries.refresh_achievement(goal)
        return event

    async def goal_summary(self, goal_id: uuid.UUID) -> ProgressSummary:
        summary = await self.summaries.goal_summary(goal_id)
        if summary is None:
            raise NotFound(GOAL_NOT_FOUND)
        return summary

    async def client_summary(self, client_id: uuid.UUID) -> ClientSummary:
        found = await self.summaries.client_summaries(client_id, GAS_SCORED_STATUSES)
        if found is None:
            raise NotFound(CLIENT_NOT_FOUND)
        goals, completed = found
        # GAS scores every goal set for the client (Kiresuk & Sherman): one completed at +2
        # counts, or finishing it would lower the score. The summary shows the open ones.
        scored = [
            (facts.gas_weight, tallies.latest_gas_level)
            for facts, tallies in [*((goal.facts, goal.tallies) for goal in goals), *completed]
            if facts.gas_levels and tallies.latest_gas_level is not None
        ]
        return ClientSummary(
            client_id=client_id,
            focus_goal_id=next((goal.facts.id for goal in goals if goal.facts.is_focus), None),
            goals=[
                ClientGoalProgress(
                    goal_id=goal.facts.id,
                    title=goal.facts.title,
                    lifecycle_status=LifecycleStatus(goal.facts.lifecycle_status),
                    is_focus=goal.facts.is_focus,
                    progress=goal.summary,
                )
                for goal in goals
            ],
            gas_t_score=gas_t_score(scored),
            next_review_due=self._next_review_due(goals),
        )

    def _next_review_due(self, goals: Sequence[SummarizedGoal]) -> date | None:
        active = [
            goal for goal in goals if goal.facts.lifecycle_status == LifecycleStatus.ACTIVE.value
        ]
        if not active:
            return None
        reviews = [goal.tallies.last_reviewed or goal.facts.created_at for goal in active]
        due = min(reviews) + timedelta(days=self.settings.review_interval_days)
        return on_clients_calendar(due, active[0].timezone).date()

    async def _append(
        self,
        goal: GoalView,
        *,
        reason: str,
        measured: Measurements | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Appends the event and returns its row. A clinician's achievement status sent with
        progress becomes the goal's, unless a newer judgement stands (`_newer_judgement`);
        without one, the derived status follows the new progress (from the goal's
        measurements `measured` before the event, if the event may be one: see
        `Measurements`)."""
        event = self._event(goal, **fields)
        status = fields.get("achievement_status")
        if status is not None and await self._newer_judgement(goal.id, event["occurred_at"]):
            status = None  # kept with the event, as what was judged then
        if status is None:  # progress decides (a no-op while a clinician's judgement stands)
            await self.summaries.refresh_achievement(
                goal, measured=measured, adding=as_measurement(event)
            )
        await self.events.append(event)
        if status is not None:
            if isinstance(goal, GoalFacts):  # an edit with a revision: in the session
                goal = await self.goals.get(goal.id)
            await self.goals.set_achievement_status(
                goal, status, reason=reason, progress_event_id=event["id"]
            )
        return event

    async def _newer_judgement(self, goal_id: uuid.UUID, occurred_at: datetime) -> bool:
        """Whether a judgement newer than one made at `occurred_at` stands on the goal: an
        event's that happened later, or a clinician's edit made later. An EHR that sends last
        week's session today must not overwrite what was judged since."""
        latest = await self.events.latest_judgement(goal_id)
        newest = await self.goals.newest_judgement(goal_id, latest)
        # Not later than now: the clock skew allowed for `occurred_at` is no head start.
        return newest is not None and newest[1] > min(occurred_at, datetime.now(UTC))

    def _event(self, goal: GoalView, **fields: Any) -> dict[str, Any]:
        """A new event's values by column (`ProgressRepository.append` adds the defaults)."""
        return {
            "id": new_id(),
            "org_id": goal.org_id,
            "client_id": goal.client_id,
            "goal_id": goal.id,
            "source": SOURCE_BY_ROLE[self.caller.role],
            "recorded_by": self.caller.subject,
            **fields,
        }

    @staticmethod
    def _check_open(goal: GoalView) -> None:
        if LifecycleStatus(goal.lifecycle_status) in CLOSED_STATUSES:
            raise Conflict(
                f"The goal is {goal.lifecycle_status}; progress can no longer be recorded on it."
            )

    def _check_time(
        self,
        goal: GoalView,
        occurred_at: datetime | None,
        at: tuple[str | int, ...] = ("body",),
    ) -> datetime:
        now = datetime.now(UTC)
        if occurred_at is None:
            return now
        if occurred_at > now + CLOCK_SKEW:
            raise invalid(
                "occurred_at", "This is in the future; record progress once it happened.", at
            )
        earliest = goal.created_at - timedelta(days=self.settings.progress_backdate_days)
        if occurred_at < earliest:
            raise invalid(
                "occurred_at",
                f"Progress may be dated at most {self.settings.progress_backdate_days} days "
                "before the goal was created.",
                at,
            )
        return occurred_at

    @staticmethod
    def _check_kind(goal: GoalView, data: EventCreate) -> None:
        if data.kind == "measurement" and data.value is None:
            raise invalid("value", "A measurement needs a value.")
        if data.kind != "measurement" and data.value is not None:
            raise invalid("value", "Only measurements carry a value.")
        if data.kind == "note" and not data.note:
            raise invalid("note", "A note needs its text.")
        if data.kind == "step_completed" and data.step_id is None:
            raise invalid("step_id", "A completed step needs the step's `step_id`.")
        if data.kind != "step_completed" and data.step_id is not None:
            raise invalid("step_id", "Only step_completed events point at a step.")
        ProgressService._check_fits(goal, data.value, data.gas_level)

    @staticmethod
    def _check_fits(
        goal: GoalView,
        value: float | None,
        gas_level: int | None,
        at: tuple[str | int, ...] = ("body",),
    ) -> None:
        """A value must fit the goal's measure; a GAS level needs the goal's GAS scale."""
        if value is not None:
            if goal.measure is None:
                raise invalid(
                    "value", "This goal has no measure yet; add one to the goal first.", at
                )
            check_value(goal.measure, value, at)
        if gas_level is not None and not goal.gas_levels:
            raise invalid("gas_level", "This goal has no GAS levels to score against.", at)
