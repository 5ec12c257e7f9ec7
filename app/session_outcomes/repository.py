"""All SQL about session outcomes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.resources import visible_with
from app.session_outcomes.models import SessionOutcome


class SessionOutcomeRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller

    async def claim(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Insert the outcome unless this caller already sent one with this external_id.
        A concurrent duplicate waits here until the first commits, then gets None."""
        statement = (
            insert(SessionOutcome)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["org_id", "submitted_by", "external_id"])
            .returning(SessionOutcome.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_external_id(self, external_id: str) -> SessionOutcome | None:
        statement = select(SessionOutcome).where(
            SessionOutcome.org_id == self.caller.org_id,
            SessionOutcome.submitted_by == self.caller.principal,
            SessionOutcome.external_id == external_id,
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get(self, outcome_id: uuid.UUID) -> SessionOutcome | None:
        statement = select(SessionOutcome).where(
            SessionOutcome.org_id == CALLER_ORG,
            SessionOutcome.id == outcome_id,
            visible_client_clause(self.caller.role, SessionOutcome.client_id),
        )
        return (await self.session.scalars(statement, scope_params(self.caller))).one_or_none()

    async def store_response(self, outcome_id: uuid.UUID, response: dict[str, Any]) -> None:
        await self.session.execute(
            update(SessionOutcome)
            .where(SessionOutcome.org_id == self.caller.org_id, SessionOutcome.id == outcome_id)
            .values(response=response)
            .execution_options(synchronize_session=False)
        )


@visible_with("session_outcome")
async def _outcome_visible(session: AsyncSession, caller: Caller, outcome_id: uuid.UUID) -> bool:
    return await SessionOutcomeRepository(session, caller).get(outcome_id) is not None
