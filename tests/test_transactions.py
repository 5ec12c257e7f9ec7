"""The request's transaction commits before the response: a failed commit is never a 2xx."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

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
