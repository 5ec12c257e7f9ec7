"""The rules about goals: who may do what, SMART checks, lifecycle moves, focus, revisions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import STAFF, Caller, Role
from app.clients.service import ClientService
from app.db import new_id, utcnow
from app.driver import Row
from app.goals.lifecycle import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    LifecycleStatus,
    allowed_targets,
    can_transition,
)
from app.goals.models import Goal, GoalRevision
from app.goals.repository import GoalFilters, GoalRepository
from app.goals.schemas import GoalCreate, GoalDraft, GoalRead, GoalState, GoalUpdate
from app.goals.smart import SmartReport, evaluate_goal
from app.pagination import encode_cursor, split_page
from app.permissions import check_version, require_role
from app.problems import Conflict, Forbidden, NotFound, SmartValidationFailed
from app.progress.summary_service import SummaryService, derived_status

GOAL_NOT_FOUND = "No goal with this id is visible to you."
# While a goal is in one of these, it must stay SMART: edits that break it are refused.
MUST_BE_SMART = frozenset({LifecycleStatus.ACTIVE})
# What a goal's derived achievement status is worked out from, besides its measurements.
DERIVED_FROM = frozenset({"measure", "start_date", "target_date"})


def today() -> date:
    return datetime.now(UTC).date()


def smart_report(goal_fields: dict[str, Any]) -> SmartReport:
    return evaluate_goal(goal_fields, today())


# What a SMART report reads of a goal besides `measure` (a JSON object, keyed by its text).
SMART_FIELDS = ("title", "description", "category", "relevance", "start_date", "target_date")
READ_FIELDS = tuple(name for name in GoalRead.model_fields if name != "smart")


@lru_cache(maxsize=1024)
def _stored_goal_report(
    fields: tuple[Any, ...], measure: tuple[tuple[str, Any], ...] | None, on: date
) -> SmartReport:
    goal = dict(zip(SMART_FIELDS, fields, strict=True))
    return evaluate_goal({**goal, "measure": None if measure is None else dict(measure)}, on)


def to_read(goal: Goal) -> GoalRead:
    return row_to_read({name: getattr(goal, name) for name in READ_FIELDS})


def row_to_read(row: Row) -> GoalRead:
    """The report is a pure function of a few of the goal's fields and the date, and most
    reads are of goals that have not changed since the last read: it is kept per those fields
    (a page of goals would otherwise work out twenty)."""
    fields = {name: row[name] for name in READ_FIELDS}
    measure = fields["measure"]  # flat (see `Measure`): its items make a hashable key
    fields["smart"] = _stored_goal_report(
        tuple(fields[name] for name in SMART_FIELDS),
        None if measure is None else tuple(sorted(measure.items())),
        today(),
    )
    return GoalRead.model_validate(fields)


def _snapshot(goal: Goal) -> dict[str, Any]:
    return GoalState.model_validate(goal).model_dump(mode="json")


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        field: {"before": before.get(field), "after": value}
        for field, value in after.items()
        if before.get(field) != value
    }


def check_not_closed(goal: Goal) -> None:
    """A cancelled, rejected or entered-in-error goal stays as it was closed: 409 for any
    edit of it or of its plan (progress on it is refused alike)."""
    if LifecycleStatus(goal.lifecycle_status) in CLOSED_STATUSES:
        raise Conflict(f"The goal is {goal.lifecycle_status}; it can no longer be changed.")


class GoalService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.caller = caller
        self.goals = GoalRepository(session, caller)
        self.clients = ClientService(session, caller)
        self.summaries = SummaryService(session, caller)

    async def get(self, goal_id: uuid.UUID, *, for_update: bool = False) -> Goal:
        goal = await self.goals.get(goal_id, for_update=for_update)
        if goal is None:
            raise NotFound(GOAL_NOT_FOUND)
        return goal

    async def read(self, goal_id: uuid.UUID) -> GoalRead:
        row = await self.goals.find_row(goal_id)
        if row is None:
            raise NotFound(GOAL_NOT_FOUND)
        return row_to_read(row)

    async def search(
        self, filters: GoalFilters, *, after: uuid.UUID | None, limit: int
    ) -> tuple[list[GoalRead], str | None]:
        rows = await self.goals.search(filters, after=after, limit=limit + 1)
        if not rows and filters.client_id is not None:
            # Goals are visible exactly when their client is: only an empty page can mean
            # a client the caller may not see, which must be a 404, not an empty list.
            await self.clients.get(filters.client_id)
        goals, next_cursor = split_page(rows, limit, lambda row: encode_cursor(row["id"]))
        return [row_to_read(row) for row in goals], next_cursor

    async def create(self, client_id: uuid.UUID, data: GoalCreate) -> Goal:
        client = await self.clients.get(client_id)
        fields = data.model_dump(mode="python")
        if self.caller.role is Role.CLIENT:
            if fields["is_focus"]:
                raise Forbidden("The focus goal is chosen with the clinician; leave is_focus out.")
            if fields["expressed_by"] == "clinician":
                raise Forbidden("A goal you propose is expressed by you; leave expressed_by out.")
            fields["expressed_by"] = "client"
        elif fields["expressed_by"] is None:
            fields["expressed_by"] = "clinician"
        goal = Goal(
            id=new_id(),
            org_id=self.caller.org_id,
            client_id=client_id,
            created_by=self.caller.subject,
            lifecycle_status=LifecycleStatus.PROPOSED.value,
            status_changed_at=utcnow(),
            **fields,
        )
        # What its progress summary derives from no progress yet, stored from the start.
        goal.achievement_status = derived_status(goal, [], client.timezone, utcnow())
        goal.achievement_status_source = "derived"
        if goal.is_focus:
            await self._clear_focus(client_id, reason="focus moved to a new goal")
        self.goals.add(goal)
        await self.goals.flush()  # the goal row must exist before its revision references it
        self._record(goal, "created", _diff({}, _snapshot(goal)), reason=None)
        await self.goals.flush()
        return goal

    async def update(
        self, goal_id: uuid.UUID, data: GoalUpdate, if_match: frozenset[int] | None
    ) -> Goal:
        goal = await self.get(goal_id, for_update=True)
        changes = data.model_dump(mode="python", exclude_unset=True)
        self._check_may_edit(goal, changes)
        check_not_closed(goal)
        check_version(goal.version, if_match, what="goal")
        before = _snapshot(goal)
        proposed = {**before, **data.model_dump(mode="json", exclude_unset=True)}
        if LifecycleStatus(goal.lifecycle_status) in MUST_BE_SMART:
            self._refuse_new_failures(before, proposed)
        if changes.get("is_focus") and LifecycleStatus(goal.lifecycle_status) not in OPEN_STATUSES:
            raise Conflict(f"A {goal.lifecycle_status} goal cannot be the focus.")
        if changes.get("is_focus") and not goal.is_focus:
            await self._clear_focus(goal.client_id, reason="focus moved to another goal")
        for field, value in changes.items():
            setattr(goal, field, value)
        judged = "achievement_status" in changes
        source_before = goal.achievement_status_source
        if judged:
            # A clinician's call stands until they clear it; cleared, progress decides again.
            goal.achievement_status_source = "clinician" if goal.achievement_status else None
        diff = _diff(before, _snapshot(goal))
        if judged and goal.achievement_status_source != source_before:
            # Taking over the status progress had derived, at the same value, is a judgement
            # all the same (and a later one than any event's before it): kept as a change.
            diff.setdefault(
                "achievement_status",
                {"before": before["achievement_status"], "after": goal.achievement_status},
            )
        if diff:
            self._record(goal, "updated", diff, reason=None)
            await self.goals.flush()
        if changes.keys() & DERIVED_FROM or (
            "achievement_status" in changes and goal.achievement_status is None
        ):  # what the derived status is worked out from changed, or a clinician's call went
            await self.summaries.refresh_achievement(goal)
        return goal

    async def transition(
        self,
        goal_id: uuid.UUID,
        target: LifecycleStatus,
        reason: str | None,
        if_match: frozenset[int] | None = None,
    ) -> Goal:
        require_role(self.caller, *STAFF, action="change a goal's lifecycle status")
        goal = await self.get(goal_id, for_update=True)
        check_version(goal.version, if_match, what="goal")
        current = LifecycleStatus(goal.lifecycle_status)
        if not can_transition(current, target):
            allowed = allowed_targets(current)
            raise Conflict(
                f"A goal that is {current.value} cannot become {target.value}.",
                current=current.value,
                allowed=[status.value for status in allowed],
            )
        before = _snapshot(goal)
        if target is LifecycleStatus.ACTIVE:
            self._require_smart(before, "A goal becomes active only once it is SMART.")
        goal.lifecycle_status = target.value
        goal.status_reason = reason
        goal.status_changed_at = utcnow()
        if target not in OPEN_STATUSES:
            goal.is_focus = False  # a closed goal cannot be what the client focuses on
        self._record(goal, "transitioned", _diff(before, _snapshot(goal)), reason=reason)
        await self.goals.flush()
        return goal

    async def set_achievement_status(
        self, goal: Goal, status: str, *, reason: str, progress_event_id: uuid.UUID
    ) -> None:
        """A clinician's judgement reported with progress (e.g. by the EHR after a session)."""
        before = _snapshot(goal)
        goal.achievement_status = status
        goal.achievement_status_source = "clinician"
        diff = _diff(before, _snapshot(goal))
        if diff:
            self._record(goal, "updated", diff, reason=reason, progress_event_id=progress_event_id)
        await self.goals.flush()

    async def withdraw_judgement(
        self,
        goal: Goal,
        retracted_event_id: uuid.UUID,
        carried: tuple[str, datetime] | None,
    ) -> None:
        """A retracted progress event carried a clinician's judgement (an achievement status),
        which no longer stands. What stands is the newest judgement left (`newest_judgement`);
        with none, or an edit that cleared it, the status follows progress again. The
        change, if any, is a revision naming the retracted event."""
        newest = await self.newest_judgement(goal.id, carried)
        standing = newest[0] if newest else None
        before = _snapshot(goal)
        goal.achievement_status = standing
        goal.achievement_status_source = "clinician" if standing is not None else None
        diff = _diff(before, _snapshot(goal))
        if diff:
            reason = "the progress event that set it was retracted"
            self._record(goal, "updated", diff, reason=reason, progress_event_id=retracted_event_id)
        await self.goals.flush()

    async def newest_judgement(
        self, goal_id: uuid.UUID, carried: tuple[str, datetime] | None
    ) -> tuple[str | None, datetime] | None:
        """The goal's newest clinician judgement and its time: the latest recorded event's
        (`carried`: its status, and when the event happened) or a clinician's edit of the
        status (a status, or None for cleared; when it was made), whichever is later. None if
        neither ever judged it."""
        judgements = [
            found for found in (carried, await self.goals.latest_edited_judgement(goal_id)) if found
        ]
        return max(judgements, key=lambda judgement: judgement[1]) if judgements else None

    async def revisions(
        self, goal_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> tuple[list[GoalRevision], str | None]:
        await self.get(goal_id)
        rows = await self.goals.revisions(goal_id, after=after, limit=limit + 1)
        return split_page(rows, limit, lambda revision: encode_cursor(revision.id))

    @staticmethod
    def validate(draft: GoalDraft) -> SmartReport:
        return smart_report(draft.model_dump(mode="json", exclude_none=True))

    def _check_may_edit(self, goal: Goal, changes: dict[str, Any]) -> None:
        if self.caller.is_staff:
            return
        # A client may still reword their own proposal until a clinician has acted on it.
        own_proposal = (
            goal.expressed_by == "client"
            and goal.lifecycle_status == LifecycleStatus.PROPOSED.value
        )
        if not own_proposal:
            raise Forbidden("Clients may only change goals they proposed, while still proposed.")
        if {"achievement_status", "expressed_by", "is_focus"} & set(changes):
            raise Forbidden("Only clinicians may set achievement_status, expressed_by or is_focus.")

    @staticmethod
    def _refuse_new_failures(before: dict[str, Any], after: dict[str, Any]) -> None:
        """An active goal must not be edited into failing a SMART criterion. Criteria that
        already fail (a target date that has since passed) do not block unrelated edits."""
        old, new = smart_report(before), smart_report(after)
        broken = [
            name
            for name, result in new.criteria
            if result.status == "fail" and getattr(old.criteria, name).status != "fail"
        ]
        if broken:
            raise SmartValidationFailed(
                f"An active goal must stay SMART; this change would fail: {', '.join(broken)}.",
                smart=new.model_dump(mode="json"),
            )

    @staticmethod
    def _require_smart(fields: dict[str, Any], detail: str) -> None:
        report = smart_report(fields)
        if not report.passed:
            raise SmartValidationFailed(detail, smart=report.model_dump(mode="json"))

    async def _clear_focus(self, client_id: uuid.UUID, *, reason: str) -> None:
        """Only one focus goal per client: the previous one stops being it, on the record.
        Focus switches for one client queue behind each other on the client row."""
        await self.clients.lock(client_id)
        for previous in await self.goals.focus_goals(client_id):
            previous.is_focus = False
            self._record(
                previous, "updated", {"is_focus": {"before": True, "after": False}}, reason=reason
            )
        await self.goals.flush()

    def _record(
        self,
        goal: Goal,
        action: str,
        changes: dict[str, Any],
        reason: str | None,
        progress_event_id: uuid.UUID | None = None,
    ) -> None:
        self.goals.add_revision(
            GoalRevision(
                org_id=goal.org_id,
                goal_id=goal.id,
                action=action,
                actor_subject=self.caller.subject,
                actor_role=self.caller.role.value,
                changes=changes,
                reason=reason,
                progress_event_id=progress_event_id,
            )
        )
