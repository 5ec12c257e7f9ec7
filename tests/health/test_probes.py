"""Liveness, readiness, and what callers see while the database is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.auth.caller import Role
from app.auth.tokens import mint_token
from app.config import Settings
from app.main import create_app, schema_head


async def test_healthz(http: AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_schema_head(http: AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema_revision": schema_head()}


@pytest.fixture
async def unreachable(settings: Settings) -> AsyncIterator[tuple[AsyncClient, Settings]]:
    """The app pointed at a port where no PostgreSQL listens."""
    broken = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    )
    application = create_app(broken)
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        yield http, broken


async def test_readyz_is_503_without_database(unreachable: tuple[AsyncClient, Settings]) -> None:
    http, _ = unreachable
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert (await http.get("/healthz")).status_code == 200


async def test_api_answers_503_with_retry_after_when_database_is_down(
    unreachable: tuple[AsyncClient, Settings],
) -> None:
    http, settings = unreachable
    token = mint_token(settings, role=Role.ADMIN, org="org-a", subject="root")
    response = await http.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["title"] == "Service unavailable"


async def test_metrics_by_route_template_and_pool(http: AsyncClient, settings: Settings) -> None:
    token = mint_token(settings, role=Role.ADMIN, org="metrics-org", subject="root")
    headers = {"Authorization": f"Bearer {token}"}
    await http.get("/v1/goals/01935c4e-0000-7000-8000-000000000000", headers=headers)
    await http.get("/v1/clients", headers=headers)
    await http.request("BREW", "/v1/clients", headers=headers)  # any token is a method
    body = (await http.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/v1/goals/{goal_id}",status="404"}' in body
    assert 'route="/v1/clients",status="200"' in body
    assert "http_request_duration_seconds_bucket" in body
    assert "db_pool_connections_in_use" in body
    assert "01935c4e" not in body  # templates, never ids
    assert 'method="OTHER"' in body
    assert "BREW" not in body  # methods outside HTTP's own do not each make a series
