"""The rules about session outcomes: all or nothing, and the same report never stored twice."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller, Role
from app.clients.models import Client
from app.clients.service import ClientService
from app.config import Settings
from app.db import new_id, utcnow
from app.permissions import require_role
from app.problems import Conflict, NotFound
from app.progress.service import ProgressService
from app.session_outcomes.repository import SessionOutcomeRepository
from app.session_outcomes.schemas import SessionOutcomeCreate, SessionOutcomeRead

MAY_POST = (Role.INTEGRATION, Role.ADMIN, Role.CLINICIAN)


@dataclass(frozen=True, slots=True)
class Recorded:
    body: dict[str, Any]
    replayed: bool


def request_hash(data: SessionOutcomeCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SessionOutcomeService:
    def __init__(self, session: AsyncSession, caller: Caller, settings: Settings) -> None:
        self.caller = caller
        self.outcomes = SessionOutcomeRepository(session, caller)
        self.clients = ClientService(session, caller)
        self.progress = ProgressService(session, caller, settings)

    async def record(self, data: SessionOutcomeCreate) -> Recorded:
        require_role(self.caller, *MAY_POST, action="post session outcomes")
        client = await self._client(data)
        fingerprint = request_hash(data)
        created_at = utcnow()
        outcome_id = await self.outcomes.claim(
            {
                "id": new_id(),
                "org_id": self.caller.org_id,
                "submitted_by": self.caller.principal,
                "external_id": data.external_id,
                "client_id": client.id,
                "occurred_at": data.occurred_at,
                "clinician": data.clinician,
                "note": data.note,
                "request_hash": fingerprint,
                "created_at": created_at,
            }
        )
        if outcome_id is None:
            return await self._replay(data.external_id, fingerprint)
        event_ids = []
        for index, item in enumerate(data.goals):
            event_id = await self.progress.record_session_outcome(
                client.id, item, occurred_at=data.occurred_at, outcome_id=outcome_id, index=index
            )
            event_ids.append(event_id)
        body = SessionOutcomeRead(
            id=outcome_id,
            external_id=data.external_id,
            client_id=client.id,
            occurred_at=data.occurred_at,
            clinician=data.clinician,
            note=data.note,
            goals=data.goals,
            progress_event_ids=event_ids,
            created_at=created_at,
        ).model_dump(mode="json")
        await self.outcomes.store_response(outcome_id, body)
        return Recorded(body=body, replayed=False)

    async def get(self, outcome_id: uuid.UUID) -> dict[str, Any]:
        outcome = await self.outcomes.get(outcome_id)
        if outcome is None or outcome.response is None:
            raise NotFound("No session outcome with this id is visible to you.")
        return outcome.response

    async def _client(self, data: SessionOutcomeCreate) -> Client:
        if data.client_id is not None:
            return await self.clients.get(data.client_id)
        if data.client_external_id is None:  # the schema already requires one of the two
            raise NotFound("Name the client by client_id or client_external_id.")
        return await self.clients.by_external_id(data.client_external_id)

    async def _replay(self, external_id: str, fingerprint: str) -> Recorded:
        existing = await self.outcomes.by_external_id(external_id)
        if existing is None or existing.response is None:  # pragma: no cover - claimed above
            raise Conflict("This session outcome is being recorded; retry shortly.")
        if existing.request_hash != fingerprint:
            raise Conflict(
                "A different session outcome was already recorded with this external_id.",
                session_outcome_id=str(existing.id),
            )
        return Recorded(body=existing.response, replayed=True)
