"""All SQL about goals and their revisions, scoped to the clients the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.caller import Caller
from app.clients.scope import visible_client_clause
from app.goals.models import Goal, GoalRevision


@dataclass(frozen=True, slots=True)
class GoalFilters:
    client_id: uuid.UUID | None = None
    lifecycle_statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    updated_since: datetime | None = None


class GoalRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller

    def _visible(self) -> Select[Goal]:
        return select(Goal).where(
            Goal.org_id == self.caller.org_id, visible_client_clause(self.caller, Goal.client_id)
        )

    async def get(self, goal_id: uuid.UUID, *, for_update: bool = False) -> Goal | None:
        statement = self._visible().where(Goal.id == goal_id)
        if for_update:
            statement = statement.with_for_update(of=Goal)
        return (await self.session.scalars(statement)).one_or_none()

    async def search(
        self, filters: GoalFilters, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Goal]:
        statement = self._visible().order_by(Goal.id).limit(limit)
        if after is not None:
            statement = statement.where(Goal.id > after)
        if filters.client_id is not None:
            statement = statement.where(Goal.client_id == filters.client_id)
        if filters.lifecycle_statuses:
            statement = statement.where(Goal.lifecycle_status.in_(filters.lifecycle_statuses))
        if filters.categories:
            statement = statement.where(Goal.category.in_(filters.categories))
        if filters.updated_since is not None:
            statement = statement.where(Goal.updated_at >= filters.updated_since)
        return (await self.session.scalars(statement)).all()

    async def focus_goals(self, client_id: uuid.UUID) -> Sequence[Goal]:
        statement = (
            self._visible()
            .where(Goal.client_id == client_id, Goal.is_focus.is_(True))
            .with_for_update(of=Goal)
        )
        return (await self.session.scalars(statement)).all()

    def add(self, goal: Goal) -> None:
        self.session.add(goal)

    def add_revision(self, revision: GoalRevision) -> None:
        self.session.add(revision)

    async def flush(self) -> None:
        await self.session.flush()

    async def revisions(
        self, goal_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[GoalRevision]:
        statement = (
            select(GoalRevision)
            .where(GoalRevision.org_id == self.caller.org_id, GoalRevision.goal_id == goal_id)
            .order_by(GoalRevision.id)
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(GoalRevision.id > after)
        return (await self.session.scalars(statement)).all()

    async def set_derived_achievement(self, goal: Goal, status: str) -> None:
        """Write the derived status without touching `version`: progress being recorded must
        not make a clinician's pending `If-Match` edit fail."""
        await self.session.execute(
            update(Goal)
            .where(Goal.id == goal.id, Goal.org_id == self.caller.org_id)
            .values(achievement_status=status, achievement_status_source="derived")
            .execution_options(synchronize_session=False)
        )
        set_committed_value(goal, "achievement_status", status)
        set_committed_value(goal, "achievement_status_source", "derived")

    async def open_goals(self, client_id: uuid.UUID, statuses: Sequence[str]) -> Sequence[Goal]:
        statement = (
            self._visible()
            .where(Goal.client_id == client_id, Goal.lifecycle_status.in_(statuses))
            .order_by(Goal.id)
        )
        return (await self.session.scalars(statement)).all()

    async def last_staff_revisions(
        self, goal_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, datetime]:
        """When a clinician or admin last changed each goal."""
        statement = (
            select(GoalRevision.goal_id, func.max(GoalRevision.changed_at))
            .where(
                GoalRevision.org_id == self.caller.org_id,
                GoalRevision.goal_id.in_(goal_ids),
                GoalRevision.actor_role.in_(("admin", "clinician")),
            )
            .group_by(GoalRevision.goal_id)
        )
        return dict((await self.session.execute(statement)).all())
