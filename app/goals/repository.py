"""All SQL about goals and their revisions, scoped to the clients the caller may see."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, Text, and_, any_, bindparam, insert, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.caller import Caller, Role
from app.clients.models import Client
from app.clients.repository import visible_client_by_id
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.db import TEXTS, new_id, utcnow
from app.driver import DriverQuery, Row, execute, fetch, fetch_one
from app.goals.models import Goal, GoalFacts, GoalRevision, GoalView
from app.resources import visible_with


@dataclass(frozen=True, slots=True)
class GoalFilters:
    client_id: uuid.UUID | None = None
    lifecycle_statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    updated_since: datetime | None = None


_GOALS = cast(Table, Goal.__table__)


def _visible(role: Role) -> Select[Goal]:
    return select(Goal).where(
        Goal.org_id == CALLER_ORG, visible_client_clause(role, Goal.client_id)
    )


# Statements are built once per role and shape (see app/clients/scope.py), values bound per call.
@cache
def _by_id(role: Role, for_update: bool) -> Select[Goal]:
    statement = _visible(role).where(Goal.id == bindparam("goal_id"))
    return statement.with_for_update(of=Goal) if for_update else statement


@cache
def _search(role: Role, shape: frozenset[str]) -> Select[Goal]:
    """`shape`: which of the optional filters are set."""
    statement = _visible(role).order_by(Goal.id).limit(bindparam("limit"))
    conditions = {
        "after": Goal.id > bindparam("after"),
        "client_id": Goal.client_id == bindparam("client_id"),
        "lifecycle_statuses": Goal.lifecycle_status
        == any_(bindparam("lifecycle_statuses", type_=TEXTS)),
        "categories": Goal.category == any_(bindparam("categories", type_=TEXTS)),
        "updated_since": Goal.updated_at >= bindparam("updated_since"),
    }
    return statement.where(*(condition for name, condition in conditions.items() if name in shape))


@cache
def _by_id_query(role: Role) -> DriverQuery:
    return DriverQuery(_by_id(role, for_update=False))


def facts_select(role: Role) -> Select[Any]:
    """`_by_id`, scoping and all, for the `GoalFacts` columns only."""
    columns = (getattr(Goal, name) for name in GoalFacts._fields)
    return _by_id(role, for_update=False).with_only_columns(*columns)


@cache
def _search_query(role: Role, shape: frozenset[str]) -> DriverQuery:
    return DriverQuery(_search(role, shape))


@cache
def _focus_goals(role: Role) -> Select[Goal]:
    return (
        _visible(role)
        .where(Goal.client_id == bindparam("client_id"), Goal.is_focus.is_(True))
        .with_for_update(of=Goal)
    )


def client_goal_facts_select(role: Role) -> Select[Any]:
    """A row for the client if the caller may see it, one per goal of it in `statuses` (the
    goal's `GoalFacts` columns, in id order), NULLs for the goal if it has none."""
    of_client = and_(
        _GOALS.c.client_id == Client.id,
        _GOALS.c.org_id == CALLER_ORG,
        _GOALS.c.lifecycle_status == any_(bindparam("statuses", type_=TEXTS)),
    )
    return (
        visible_client_by_id(role)
        .with_only_columns(*(_GOALS.c[name] for name in GoalFacts._fields))
        .select_from(cast(Table, Client.__table__).outerjoin(_GOALS, of_client))
        .order_by(_GOALS.c.id)
    )


class GoalRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.scope = scope_params(caller)

    async def get(self, goal_id: uuid.UUID, *, for_update: bool = False) -> Goal | None:
        statement = _by_id(self.caller.role, for_update)
        values = {**self.scope, "goal_id": goal_id}
        return (await self.session.scalars(statement, values)).one_or_none()

    async def find_row(self, goal_id: uuid.UUID) -> Row | None:
        """The goal's columns, for reading only (see app/driver.py)."""
        values = {**self.scope, "goal_id": goal_id}
        return await fetch_one(self.session, _by_id_query(self.caller.role), values)

    async def search(
        self, filters: GoalFilters, *, after: uuid.UUID | None, limit: int
    ) -> list[Row]:
        """Goals' columns, for reading only."""
        values: dict[str, Any] = {
            "after": after,
            "client_id": filters.client_id,
            "lifecycle_statuses": list(filters.lifecycle_statuses) or None,
            "categories": list(filters.categories) or None,
            "updated_since": filters.updated_since,
        }
        given = {name: value for name, value in values.items() if value is not None}
        query = _search_query(self.caller.role, frozenset(given))
        return await fetch(self.session, query, {**self.scope, **given, "limit": limit})

    async def focus_goals(self, client_id: uuid.UUID) -> Sequence[Goal]:
        statement = _focus_goals(self.caller.role)
        return (await self.session.scalars(statement, {**self.scope, "client_id": client_id})).all()

    def add(self, goal: Goal) -> None:
        self.session.add(goal)

    def add_revision(self, revision: GoalRevision) -> None:
        self.session.add(revision)

    async def flush(self) -> None:
        await self.session.flush()

    async def latest_edited_judgement(
        self, goal_id: uuid.UUID
    ) -> tuple[str | None, datetime] | None:
        """The achievement status a clinician last set (or cleared: None) by editing the goal,
        and when; None if no edit ever did. Revisions made with a progress event are not
        edits: the event is the judgement, and stands while it is recorded."""
        after = GoalRevision.changes["achievement_status"]["after"].astext
        statement = (
            select(after, GoalRevision.changed_at)
            .where(
                GoalRevision.org_id == self.caller.org_id,
                GoalRevision.goal_id == goal_id,
                GoalRevision.progress_event_id.is_(None),
                GoalRevision.action == "updated",  # a clinician's edit: not what progress derived
                GoalRevision.changes.has_key("achievement_status"),
            )
            .order_by(GoalRevision.changed_at.desc(), GoalRevision.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

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

    async def set_derived_achievement(self, goal: GoalView, status: str) -> None:
        """Write the derived status without touching `version`: progress being recorded must
        not make a clinician's pending `If-Match` edit fail. Kept in the goal's history as a
        `derived` revision by the caller whose request changed it (not an edit: it neither
        counts as a review nor as a clinician's judgement)."""
        now = utcnow()
        values = {**self.scope, "goal_id": goal.id, "derived_status": status, "updated_at": now}
        await execute(self.session, _SET_DERIVED_ACHIEVEMENT, values)
        changes = {"achievement_status": {"before": goal.achievement_status, "after": status}}
        if goal.achievement_status_source != "derived":
            before = goal.achievement_status_source
            changes["achievement_status_source"] = {"before": before, "after": "derived"}
        revision = {
            "id": new_id(),
            "org_id": goal.org_id,
            "goal_id": goal.id,
            "action": DERIVED,
            "actor_subject": self.caller.subject,
            "actor_role": self.caller.role.value,
            "changed_at": now,
            "changes": json.dumps(changes),
            "reason": "derived from the goal's progress",
            "progress_event_id": None,
        }
        await execute(self.session, _ADD_REVISION, revision)
        if isinstance(goal, Goal):  # loaded in the session: keep it in step with its row
            set_committed_value(goal, "achievement_status", status)
            set_committed_value(goal, "achievement_status_source", "derived")
            set_committed_value(goal, "updated_at", now)


# A revision of the status progress derived: not an edit by a person.
DERIVED = "derived"
_REVISIONS = cast(Table, GoalRevision.__table__)
# `changes` goes as JSON text, cast by PostgreSQL: the driver sends only what asyncpg encodes.
_ADD_REVISION = DriverQuery(
    insert(_REVISIONS).values(
        {
            **{column.name: bindparam(column.name) for column in _REVISIONS.columns},
            "changes": sa_cast(bindparam("changes", type_=Text), JSONB),
        }
    )
)

# On every progress event that changes the status: a plain UPDATE of one row, on the driver.
_SET_DERIVED_ACHIEVEMENT = DriverQuery(
    update(_GOALS)
    .where(_GOALS.c.id == bindparam("goal_id"), _GOALS.c.org_id == CALLER_ORG)
    .values(achievement_status=bindparam("derived_status"), achievement_status_source="derived")
)


@visible_with("goal")
async def _goal_visible(session: AsyncSession, caller: Caller, goal_id: uuid.UUID) -> bool:
    return await GoalRepository(session, caller).find_row(goal_id) is not None
