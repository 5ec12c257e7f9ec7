"""The rules about clients and care teams: who may create, see and change them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import STAFF, Caller, Role
from app.clients.models import CareTeamMember, Client
from app.clients.repository import ClientRepository
from app.clients.schemas import ClientCreate, ClientUpdate
from app.pagination import encode_cursor, split_page
from app.permissions import check_version, require_role
from app.problems import NotFound

CLIENT_NOT_FOUND = "No client with this id is visible to you."


class ClientService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.caller = caller
        self.clients = ClientRepository(session, caller)

    async def get(self, client_id: uuid.UUID) -> Client:
        client = await self.clients.get(client_id)
        if client is None:
            raise NotFound(CLIENT_NOT_FOUND)
        return client

    async def by_external_id(self, external_id: str) -> Client:
        found = await self.clients.search(after=None, limit=1, external_id=external_id)
        if not found:
            raise NotFound("No client with this external id is visible to you.")
        return found[0]

    async def search(
        self, *, after: uuid.UUID | None, limit: int, external_id: str | None
    ) -> tuple[list[Client], str | None]:
        rows = await self.clients.search(after=after, limit=limit + 1, external_id=external_id)
        return split_page(rows, limit, lambda client: encode_cursor(client.id))

    async def create(self, data: ClientCreate) -> Client:
        require_role(self.caller, *STAFF, action="create clients")
        client = await self.clients.add(
            Client(org_id=self.caller.org_id, created_by=self.caller.subject, **data.model_dump())
        )
        if self.caller.role is Role.CLINICIAN:
            await self.clients.add_care_team_member(client.id, self.caller.subject)
        return client

    async def update(
        self, client_id: uuid.UUID, data: ClientUpdate, if_match: frozenset[int] | None
    ) -> Client:
        require_role(self.caller, *STAFF, action="change client records")
        client = await self.get(client_id)
        check_version(client.version, if_match, what="client")
        for field, value in data.model_dump(exclude_unset=True).items():
            setattr(client, field, value)
        await self.clients.flush()
        return client

    async def lock(self, client_id: uuid.UUID) -> None:
        await self.clients.lock(client_id)

    async def care_team(self, client_id: uuid.UUID) -> Sequence[CareTeamMember]:
        await self.get(client_id)
        return await self.clients.care_team(client_id)

    async def add_to_care_team(self, client_id: uuid.UUID, clinician_subject: str) -> bool:
        require_role(self.caller, *STAFF, action="change care teams")
        await self.get(client_id)
        return await self.clients.add_care_team_member(client_id, clinician_subject)

    async def remove_from_care_team(self, client_id: uuid.UUID, clinician_subject: str) -> None:
        require_role(self.caller, *STAFF, action="change care teams")
        await self.get(client_id)
        if not await self.clients.remove_care_team_member(client_id, clinician_subject):
            raise NotFound("This clinician is not on the client's care team.")
