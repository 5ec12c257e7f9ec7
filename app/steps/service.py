"""The rules about action plans: who may edit them, dense positions, completion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import STAFF, Caller
from app.config import Settings
from app.db import new_id, utcnow
from app.goals.models import Goal
from app.goals.service import GoalService, check_not_closed
from app.pagination import encode_cursor, split_page
from app.permissions import check_version, require_role
from app.problems import Conflict, Forbidden, NotFound
from app.progress.service import ProgressService
from app.steps.models import ActionStep
from app.steps.repository import StepRepository
from app.steps.schemas import MAX_STEPS_PER_GOAL, StepCreate, StepUpdate


class StepService:
    def __init__(self, session: AsyncSession, caller: Caller, settings: Settings) -> None:
        self.caller = caller
        self.steps = StepRepository(session, caller)
        self.goals = GoalService(session, caller)
        self.progress = ProgressService(session, caller, settings)

    async def plan_page(
        self, goal_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> tuple[Sequence[ActionStep], str | None]:
        await self.goals.get(goal_id)
        rows = await self.steps.plan_page(goal_id, after=after, limit=limit + 1)
        return split_page(rows, limit, lambda step: encode_cursor(step.id))

    async def get(self, step_id: uuid.UUID) -> ActionStep:
        step = await self.steps.get(step_id)
        if step is None:
            raise NotFound("No step with this id is visible to you.")
        return step

    async def create(self, goal_id: uuid.UUID, data: StepCreate) -> ActionStep:
        require_role(self.caller, *STAFF, action="edit action plans")
        goal = await self._lock_plan(goal_id)
        plan = list(await self.steps.plan(goal.id))
        if len(plan) >= MAX_STEPS_PER_GOAL:
            raise Conflict(f"A plan holds at most {MAX_STEPS_PER_GOAL} steps.")
        fields = data.model_dump(mode="json", exclude={"position"})
        step = ActionStep(
            id=new_id(),
            org_id=goal.org_id,
            client_id=goal.client_id,
            goal_id=goal.id,
            created_by=self.caller.subject,
            status="todo",
            position=len(plan),
            **{**fields, "due_date": data.due_date},
        )
        self.steps.add(step)
        await self.steps.flush()
        if data.position is not None and data.position < len(plan):
            plan.insert(data.position, step)
            await self.steps.renumber(goal.id, plan)
        return step

    async def update(
        self, step_id: uuid.UUID, data: StepUpdate, if_match: frozenset[int] | None
    ) -> ActionStep:
        changes = data.model_dump(exclude_unset=True)
        if not self.caller.is_staff and set(changes) - {"status"}:
            await self.get(step_id)  # 404 before 403 for a step the caller may not see
            raise Forbidden("Clients may change only a step's status; the plan is the clinician's.")
        goal, step = await self._locked(await self.get(step_id))
        check_version(step.version, if_match, what="step")
        position = changes.pop("position", None)
        plan: Sequence[ActionStep] = ()
        if position is not None:  # past the end is the end: the last step asked to go there stays
            plan = await self.steps.plan(goal.id)
            position = min(position, len(plan) - 1)
        status = changes.pop("status", step.status)
        if "recurrence" in changes:
            changes["recurrence"] = data.model_dump(mode="json")["recurrence"]
        for field, value in changes.items():
            setattr(step, field, value)
        await self._change_status(goal, step, status)
        moved = position is not None and position != step.position
        if moved:  # an edit of this step like any other: a new version (the others' is kept)
            step.updated_at = utcnow()
        await self.steps.flush()  # one UPDATE of the step, so one version step
        if moved:
            await self._move(goal, step, position, plan)
        return step

    async def delete(self, step_id: uuid.UUID, if_match: frozenset[int] | None) -> None:
        require_role(self.caller, *STAFF, action="edit action plans")
        step = await self.steps.get(step_id, deleted_too=True)
        if step is None:
            raise NotFound("No step with this id is visible to you.")
        if step.deleted_at is not None:
            return  # removing it again is not an error: DELETE is idempotent
        goal, step = await self._locked(step, deleted_too=True)
        if step.deleted_at is not None:
            return  # removed while this request waited for the lock
        check_version(step.version, if_match, what="step")
        step.deleted_at = utcnow()
        await self.steps.flush()
        await self.steps.renumber(goal.id, await self.steps.plan(goal.id))

    async def _lock_plan(self, goal_id: uuid.UUID) -> Goal:
        """Edits of one plan queue behind each other (the goal row is their lock), so that two
        concurrent moves can never leave two steps at one position. A closed goal's plan is
        closed too."""
        goal = await self.goals.get(goal_id, for_update=True)
        check_not_closed(goal)
        return goal

    async def _locked(
        self, step: ActionStep, *, deleted_too: bool = False
    ) -> tuple[Goal, ActionStep]:
        """The step's goal, its plan locked, and the step as it is now: read again under the
        lock, so that its position and version are not those from before another edit of the
        plan committed (a move from a stale position broke the plan's unique positions)."""
        goal = await self._lock_plan(step.goal_id)
        current = await self.steps.get(step.id, deleted_too=deleted_too, current=True)
        if current is None:  # removed, or out of the caller's sight, while it waited
            raise NotFound("No step with this id is visible to you.")
        return goal, current

    async def _move(
        self, goal: Goal, step: ActionStep, position: int, plan: Sequence[ActionStep]
    ) -> None:
        """`step` to `position` in `plan` (read under the plan's lock), the rest renumbered."""
        ordered = [s for s in plan if s.id != step.id]
        ordered.insert(min(position, len(ordered)), step)
        await self.steps.renumber(goal.id, ordered, at=step.updated_at)

    async def _change_status(self, goal: Goal, step: ActionStep, status: Any) -> None:
        if status == step.status:
            return
        step.status = status
        step.completed_at = utcnow() if status == "done" else None
        if status == "done":
            await self.progress.record_step_completion(goal, step)
