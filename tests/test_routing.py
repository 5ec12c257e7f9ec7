"""Routes added flat (app.main.include_flat) are told apart by the start of their path before
their regular expressions run; a domain router included under a prefix must still be reached."""

from __future__ import annotations

import uuid

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from app.transaction import TransactionalRoute, domain_router
from tests.api import Api


async def test_a_domain_router_included_under_a_prefix_is_reached(settings: Settings) -> None:
    extra = domain_router("extra")

    @extra.get("/v1/goals/{goal_id:uuid}/echo")
    async def echo_goal_id(goal_id: uuid.UUID) -> dict[str, str]:
        return {"goal_id": str(goal_id)}

    application = create_app(settings)
    application.include_router(extra, prefix="/mounted")
    goal_id = "0190a6f0-0000-7000-8000-000000000001"
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        alice = Api(http, settings).actor("clinician", sub="alice")
        mounted = await alice.get(f"/mounted/v1/goals/{goal_id}/echo")
        assert mounted.status_code == 200, mounted.text
        assert mounted.json() == {"goal_id": goal_id}
        assert (await alice.get(f"/v1/goals/{goal_id}/echo")).status_code == 404


def test_routes_added_flat_know_how_their_paths_start(settings: Settings) -> None:
    routes = [r for r in create_app(settings).routes if isinstance(r, TransactionalRoute)]
    assert routes
    for route in routes:
        assert route.literal_prefix == route.path.partition("{")[0]
        assert route.path.startswith(route.literal_prefix)
