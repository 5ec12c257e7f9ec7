"""The request's transaction commits before the response: a failed commit is never a 2xx."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_sessionmaker
from app.driver import PENDING
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


async def test_a_change_after_a_failed_one_writes_only_its_own_rows(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change sessions are kept for the next request (`KeptSessions`): the one whose commit
    failed is rolled back before it is used again, and carries nothing over."""
    alice = api.actor()

    async def failing_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))

    with monkeypatch.context() as patched:
        patched.setattr(AsyncSession, "commit", failing_commit)
        failed = await alice.post("/v1/clients", json={"display_name": "Never stored"})
    assert failed.status_code == 503
    stored = await alice.post("/v1/clients", json={"display_name": "Stored"})
    assert stored.status_code == 201, stored.text
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
