"""Routes added flat (app.main.include_flat) are told apart by the start of their path before
their regular expressions run; a domain router included under a prefix must still be reached."""

from __future__ import annotations

import re
import uuid

from asgi_lifespan import LifespanManager
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

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
        assert route.slashes == route.path.count("/")  # none has a `:path` parameter


def _paths_near_routes(settings: Settings) -> st.SearchStrategy[str]:
    """Paths made from the routes' own templates, with parameters filled by ids, words, or
    text holding slashes, and with a trailing slash or a segment more or less."""
    templates = [r.path for r in create_app(settings).routes if isinstance(r, TransactionalRoute)]
    fills = st.one_of(st.uuids().map(str), st.from_regex(r"[a-z0-9/._-]{0,20}", fullmatch=True))

    @st.composite
    def near(draw: st.DrawFn) -> str:
        template = draw(st.sampled_from(templates))
        path = re.sub(r"\{[^}]+\}", lambda _: draw(fills), template)
        tweak = draw(st.sampled_from(["", "/", "/extra", "cut"]))
        return path.rsplit("/", 1)[0] if tweak == "cut" else path + tweak

    return near()


@settings_for_hypothesis(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_quick_refusal_never_refuses_a_path_the_route_would_match(
    settings: Settings, data: st.DataObject
) -> None:
    """Routes refuse paths by their start and their number of slashes before any regular
    expression: whatever the path and method, each route answers what Starlette's own
    matching answers."""
    application = create_app(settings)
    path = data.draw(_paths_near_routes(settings))
    method = data.draw(st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]))
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in application.routes:
        if isinstance(route, TransactionalRoute):
            quick, _ = route.matches(dict(scope))
            full, _ = APIRoute.matches(route, dict(scope))
            assert quick == full, (route.path, path, method)


def test_the_api_routes_are_tried_before_the_others(settings: Settings) -> None:
    kinds = [isinstance(r, TransactionalRoute) for r in create_app(settings).routes]
    assert kinds == sorted(kinds, reverse=True)
    assert kinds[0]
    assert not kinds[-1]


async def test_a_trailing_slash_is_404_never_a_redirect_to_the_senders_host(api: Api) -> None:
    alice = api.actor()
    response = await alice.get("/v1/goals/", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
    assert (await alice.get("/v1/goals")).status_code == 200
