"""All SQL about clients and care teams, scoped to what the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller, Role
from app.clients.models import CareTeamMember, Client
from app.clients.scope import CALLER_ORG, scope_params, visible_client_clause
from app.resources import visible_with


def _visible(role: Role) -> Select[Client]:
    return select(Client).where(Client.org_id == CALLER_ORG, visible_client_clause(role, Client.id))


@cache  # built once per role (see app/clients/scope.py), values bound per call
def visible_client_by_id(role: Role) -> Select[Client]:
    """The client `client_id`, if the caller may see it: what other domains start from."""
    return _visible(role).where(Client.id == bindparam("client_id"))


class ClientRepository:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.scope = scope_params(caller)

    async def get(self, client_id: uuid.UUID) -> Client | None:
        values = {**self.scope, "client_id": client_id}
        return (
            await self.session.scalars(visible_client_by_id(self.caller.role), values)
        ).one_or_none()

    async def timezone(self, client_id: uuid.UUID) -> str:
        """The time zone of a client of the caller's organization, whoever may see it: the
        calendar its goals' dates are on."""
        statement = select(Client.timezone).where(
            Client.id == client_id, Client.org_id == self.caller.org_id
        )
        return (await self.session.execute(statement)).scalar_one()

    async def search(
        self, *, after: uuid.UUID | None, limit: int, external_id: str | None
    ) -> Sequence[Client]:
        statement = _visible(self.caller.role).order_by(Client.id).limit(limit)
        if after is not None:
            statement = statement.where(Client.id > after)
        if external_id is not None:
            statement = statement.where(Client.external_id == external_id)
        return (await self.session.scalars(statement, self.scope)).all()

    async def add(self, client: Client) -> Client:
        self.session.add(client)
        await self.session.flush()
        return client

    async def flush(self) -> None:
        await self.session.flush()

    async def care_team(self, client_id: uuid.UUID) -> Sequence[CareTeamMember]:
        statement = (
            select(CareTeamMember)
            .where(
                CareTeamMember.org_id == self.caller.org_id, CareTeamMember.client_id == client_id
            )
            .order_by(CareTeamMember.added_at, CareTeamMember.clinician_subject)
        )
        return (await self.session.scalars(statement)).all()

    async def add_care_team_member(self, client_id: uuid.UUID, clinician_subject: str) -> bool:
        """Idempotent: True when the clinician was added, False when already on the team."""
        statement = (
            insert(CareTeamMember)
            .values(
                client_id=client_id,
                clinician_subject=clinician_subject,
                org_id=self.caller.org_id,
                added_by=self.caller.subject,
            )
            .on_conflict_do_nothing()
            .returning(CareTeamMember.client_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def remove_care_team_member(self, client_id: uuid.UUID, clinician_subject: str) -> bool:
        statement = (
            delete(CareTeamMember)
            .where(
                CareTeamMember.org_id == self.caller.org_id,
                CareTeamMember.client_id == client_id,
                CareTeamMember.clinician_subject == clinician_subject,
            )
            .returning(CareTeamMember.client_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def lock(self, client_id: uuid.UUID) -> None:
        """Serialise changes that span a client's goals (such as which one is the focus)."""
        await self.session.execute(
            select(Client.id)
            .where(Client.org_id == self.caller.org_id, Client.id == client_id)
            .with_for_update()
        )


@visible_with("client")
async def _client_visible(session: AsyncSession, caller: Caller, client_id: uuid.UUID) -> bool:
    return await ClientRepository(session, caller).get(client_id) is not None
