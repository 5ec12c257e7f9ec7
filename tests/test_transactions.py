"""The request's transaction commits before the response: a failed commit is never a 2xx."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.models import Client
from app.clients.schemas import ClientCreate
from app.clients.service import ClientService
from app.db import create_sessionmaker
from app.driver import PENDING
from app.problems import Conflict
from tests.api import Api


async def test_a_failed_commit_is_a_problem_not_a_201(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = api.actor()

    async def failing_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await alice.post("/v1/clients", json={"display_name": "Never stored"})
    monkeypatch.undo()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    listed = (await alice.get("/v1/clients")).json()["items"]
    assert listed == []


async def test_a_change_after_a_failed_one_reuses_its_session_and_writes_only_its_own_rows(
    api: Api, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change sessions are kept for the next request (`KeptSessions`): one whose change
    failed after writing is rolled back before it is used again, and carries nothing over."""
    alice = api.actor()
    sessions = app.state.sessionmaker
    taken: list[AsyncSession] = []
    take = sessions.take

    def recording_take() -> AsyncSession:
        taken.append(take())
        return taken[-1]

    monkeypatch.setattr(sessions, "take", recording_take)
    create = ClientService.create

    async def create_then_refuse(self: ClientService, data: ClientCreate) -> Client:
        await create(self, data)  # flushed: the client's row is in the session's transaction
        raise Conflict("Refused once the client was written.")

    with monkeypatch.context() as patched:
        patched.setattr(ClientService, "create", create_then_refuse)
        refused = await alice.post("/v1/clients", json={"display_name": "Never stored"})
    assert refused.status_code == 409
    stored = await alice.post("/v1/clients", json={"display_name": "Stored"})
    assert stored.status_code == 201, stored.text
    assert len(taken) == 2
    assert taken[1] is taken[0]
    listed = (await alice.get("/v1/clients")).json()["items"]
    assert [client["display_name"] for client in listed] == ["Stored"]


async def test_a_session_holding_more_than_it_started_with_is_not_kept(app: FastAPI) -> None:
    sessions = create_sessionmaker(app.state.engine)
    clean = sessions.take()
    await sessions.give_back(clean)
    assert sessions.take() is clean
    clean.info[PENDING] = ["a write a failed change held back"]
    await sessions.give_back(clean)
    assert sessions.take() is not clean


async def test_a_cancelled_request_still_closes_its_session_whole(app: FastAPI) -> None:
    """Cancelled while its session closes (a shutdown's timeout, say), a request waits for
    the rollback to finish before it goes, and the session is not kept."""
    sessions = create_sessionmaker(app.state.engine)
    session = sessions.take()
    await session.connection()  # a transaction to roll back
    giving_back = asyncio.create_task(sessions.give_back(session))
    await asyncio.sleep(0)  # now in the middle of the close
    giving_back.cancel()
    with pytest.raises(asyncio.CancelledError):
        await giving_back
    assert not session.in_transaction()
    assert sessions.take() is not session
