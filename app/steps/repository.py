"""All SQL about action-plan steps, scoped to the clients the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.caller import Caller
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.db import utcnow
from app.resources import visible_with
from app.steps.models import ActionStep

# Positions are moved out of the way before being renumbered, so that the unique index on
# (goal_id, position) never sees two live steps at one position, even mid-statement.
_PARKING_OFFSET = 1_000_000


class StepRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.scope = scope_params(caller)

    def _visible(self, *, deleted_too: bool = False) -> Select[ActionStep]:
        """Executed with `self.scope` among its values."""
        statement = select(ActionStep).where(
            ActionStep.org_id == CALLER_ORG,
            visible_client_clause(self.caller.role, ActionStep.client_id),
        )
        return statement if deleted_too else statement.where(ActionStep.deleted_at.is_(None))

    async def get(
        self, step_id: uuid.UUID, *, deleted_too: bool = False, current: bool = False
    ) -> ActionStep | None:
        """`current`: read again even if this session has the step already (under the plan's
        lock, what another request changed before it was taken)."""
        statement = self._visible(deleted_too=deleted_too).where(ActionStep.id == step_id)
        if current:
            statement = statement.execution_options(populate_existing=True)
        return (await self.session.scalars(statement, self.scope)).one_or_none()

    async def plan_page(
        self, goal_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[ActionStep]:
        """Live steps in plan order, from the one after step `after` (by its position now;
        a step of another plan, or none, leaves nothing after it). If `after` was removed
        since, the steps after it moved up into its place: the page starts there."""
        statement = (
            self._visible()
            .where(ActionStep.goal_id == goal_id)
            .order_by(ActionStep.position)
            .limit(limit)
        )
        if after is not None:
            removed = case((ActionStep.deleted_at.is_not(None), 1), else_=0)
            position = (
                select(ActionStep.position - removed)
                .where(
                    ActionStep.org_id == CALLER_ORG,
                    ActionStep.goal_id == goal_id,
                    ActionStep.id == after,
                )
                .scalar_subquery()
            )
            statement = statement.where(ActionStep.position > position)
        return (await self.session.scalars(statement, self.scope)).all()

    async def plan(self, goal_id: uuid.UUID) -> Sequence[ActionStep]:
        """The live steps in plan order, as they are now (positions are renumbered from it)."""
        statement = (
            self._visible()
            .where(ActionStep.goal_id == goal_id)
            .order_by(ActionStep.position)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement, self.scope)).all()

    def add(self, step: ActionStep) -> None:
        self.session.add(step)

    async def flush(self) -> None:
        await self.session.flush()

    async def renumber(
        self, goal_id: uuid.UUID, ordered: Sequence[ActionStep], *, at: datetime | None = None
    ) -> None:
        """Give `ordered` positions 0..n-1, the steps whose position changes updated `at` (now
        by default). Positions are housekeeping, not an edit of the other steps, so this does
        not bump their versions."""
        changed = [(step, index) for index, step in enumerate(ordered) if step.position != index]
        if not changed:
            return
        at = at or utcnow()
        ids = [step.id for step, _ in changed]
        await self.session.execute(
            update(ActionStep)
            .where(
                ActionStep.org_id == self.caller.org_id,
                ActionStep.goal_id == goal_id,
                ActionStep.id.in_(ids),
            )
            .values(position=ActionStep.position + _PARKING_OFFSET, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        table = cast(Table, ActionStep.__table__)  # Core executemany by id, not ORM bulk
        await self.session.execute(
            update(table)
            .where(table.c.org_id == self.caller.org_id, table.c.id == bindparam("step_id"))
            .values(position=bindparam("new_position"), updated_at=at),
            [{"step_id": step.id, "new_position": index} for step, index in changed],
        )
        for step, index in changed:
            set_committed_value(step, "position", index)
            set_committed_value(step, "updated_at", at)


@visible_with("step")
async def _step_visible(session: AsyncSession, caller: Caller, step_id: uuid.UUID) -> bool:
    return await StepRepository(session, caller).get(step_id) is not None
