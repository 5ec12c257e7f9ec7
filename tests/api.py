"""Test helpers: callers with tokens, and bodies that pass SMART validation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from app.auth.caller import Role
from app.auth.tokens import mint_token
from app.config import Settings
from app.main import create_app


def today_plus(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def smart_goal(**overrides: Any) -> dict[str, Any]:
    """A goal body that passes every SMART criterion."""
    body: dict[str, Any] = {
        "title": "Write down one feeling and its trigger each evening",
        "description": "Use the notes app before bed to name one feeling and what set it off.",
        "category": "emotional_awareness",
        "priority": "high",
        "measure": {
            "name": "Evenings with a feelings entry",
            "unit": "evenings per week",
            "kind": "count",
            "direction": "increase",
            "baseline": 1,
            "target": 5,
        },
        "start_date": today_plus(0),
        "target_date": today_plus(84),
        "relevance": "Naming feelings early helps notice anger before it turns into arguments.",
    }
    body.update(overrides)
    return body


@dataclass(frozen=True)
class Actor:
    http: AsyncClient
    token: str
    org: str
    sub: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def request(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        return await self.request("POST", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PATCH", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", url, **kwargs)


class Api:
    def __init__(self, http: AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def actor(self, role: str = "clinician", org: str = "org-a", sub: str = "alice") -> Actor:
        token = mint_token(self.settings, role=Role(role), org=org, subject=sub)
        return Actor(self.http, token, org, sub, Role(role))

    async def client(self, actor: Actor, **overrides: Any) -> dict[str, Any]:
        body = {"display_name": "Test client", **overrides}
        response = await actor.post("/v1/clients", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def goal(self, actor: Actor, client_id: str, **overrides: Any) -> dict[str, Any]:
        response = await actor.post(f"/v1/clients/{client_id}/goals", json=smart_goal(**overrides))
        assert response.status_code == 201, response.text
        return dict(response.json())


@asynccontextmanager
async def production_app(settings: Settings, **changes: Any) -> AsyncIterator[tuple[FastAPI, Api]]:
    """An app of its own, as production runs it: no test transaction around its work, so what
    it commits stays (use an organization of the test's own)."""
    application = create_app(settings.model_copy(update=changes))
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        yield application, Api(http, settings)
