"""The OpenAPI document is written for front-end developers, and /docs works offline."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.goals import schemas as goal_schemas
from app.routing import FlatRoute, flat_routes
from tests.api import Api


def api_routes(app: FastAPI) -> list[FlatRoute]:
    return [r for r in flat_routes(app) if r.route.include_in_schema]


async def test_every_operation_is_documented(app: FastAPI, http: AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len(operations) == len(api_routes(app))
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert len(op.get("description", "")) > 40, where
        assert op.get("tags"), where
        assert re.fullmatch(r"[a-z_]+", op["operationId"]), where
        if path.startswith("/v1/"):
            assert op.get("security") == [{"HTTPBearer": []}], where
            assert {"400", "401", "422", "503"} <= set(op["responses"]), where
            problem = op["responses"]["401"]["content"]
            assert "application/problem+json" in problem, where
        if "{" in path and path.startswith("/v1/"):
            assert "404" in op["responses"], where
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            name = body["$ref"].rsplit("/", 1)[-1]
            component = spec["components"]["schemas"][name]
            assert component.get("examples"), where
    scheme = spec["components"]["securitySchemes"]["HTTPBearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}


async def test_every_route_is_in_the_spec_and_no_debug_routes(
    app: FastAPI, http: AsyncClient
) -> None:
    spec_paths = set((await http.get("/openapi.json")).json()["paths"])
    route_paths = {re.sub(r":\w+}", "}", r.path) for r in api_routes(app)}
    assert route_paths == spec_paths
    # Served but not in the spec: the documentation itself, and nothing else (a route left
    # out of the schema is how a debug or admin backdoor would hide).
    undocumented = {
        getattr(route, "path", repr(route))
        for route in app.routes
        if not getattr(route, "include_in_schema", False)
    }
    assert undocumented == {
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/static-offline-docs",  # the pages' scripts and styles, served here: no CDN
    }


async def test_every_success_with_a_body_says_what_the_body_is(http: AsyncClient) -> None:
    """Generated clients type a response by its schema: each 2xx but 204 names one (a model
    or a type), none is an untitled `{}` or a bare title."""
    spec = (await http.get("/openapi.json")).json()
    untyped = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content", {})
                schema = next(iter(content.values()), {}).get("schema", {})
                if not ({"$ref", "type", "anyOf", "oneOf"} & schema.keys()):
                    untyped.append(f"{method.upper()} {path} {status}: {schema}")
    assert untyped == []


async def test_docs_and_redoc_are_served_without_a_cdn(http: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await http.get(page)).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        scripts = [a for a in assets if a.endswith((".js", ".css"))]
        assert scripts, page
        for asset in scripts:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            response = await http.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 1000, asset


async def test_the_readmes_try_it_flow_works_with_the_documented_examples(
    http: AsyncClient, api: Api
) -> None:
    """README "Trying it in /docs": a client, a goal from the example body, active, revisions.
    The example's dates follow the calendar: a fixed target date would have made this
    flow fail once it had passed (the goal is no longer time-bound)."""
    spec = (await http.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    (example,) = schemas["GoalCreate"]["examples"]
    (edit,) = schemas["GoalUpdate"]["examples"]
    today = datetime.now(UTC).date()
    assert date.fromisoformat(example["start_date"]) == today
    assert date.fromisoformat(example["target_date"]) == today + timedelta(weeks=12)
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice)
    created = await alice.post(f"/v1/clients/{client['id']}/goals", json=example)
    assert created.status_code == 201, created.text
    url = f"/v1/goals/{created.json()['id']}"
    active = await alice.post(f"{url}/transition", json={"to": "active"})
    assert active.status_code == 200, active.text
    assert (await alice.patch(url, json=edit)).status_code == 200
    assert len((await alice.get(f"{url}/revisions")).json()["items"]) == 3


async def test_the_headers_clients_act_on_are_documented(http: AsyncClient) -> None:
    """Generated clients and /docs readers learn of ETag, Location, Idempotent-Replayed,
    Retry-After and WWW-Authenticate from the document, not by trying."""
    paths = (await http.get("/openapi.json")).json()["paths"]

    def headers(path: str, method: str, status: str) -> set[str]:
        return set(paths[path][method]["responses"][status].get("headers", {}))

    assert headers("/v1/goals/{goal_id}", "get", "200") == {"ETag"}
    assert headers("/v1/goals/{goal_id}", "patch", "200") == {"ETag"}
    assert headers("/v1/clients", "post", "201") == {"ETag", "Location", "Idempotent-Replayed"}
    assert headers("/v1/goals/{goal_id}/progress-events", "post", "201") == {
        "Location",
        "Idempotent-Replayed",
    }
    assert headers("/v1/goals", "get", "200") == set()  # a page has no version
    assert headers("/v1/goals", "get", "429") == {"Retry-After"}
    assert headers("/v1/goals", "get", "503") == {"Retry-After"}
    assert headers("/v1/goals", "get", "401") == {"WWW-Authenticate"}


async def test_the_examples_dates_move_on_with_the_calendar(
    app: FastAPI, http: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema is written once a day: a service that runs for months still offers an
    example goal whose target date is ahead."""
    await http.get("/openapi.json")  # written today
    later = date(2031, 5, 4)
    monkeypatch.setattr(goal_schemas, "_today", lambda: later)
    app.state.openapi_day = later - timedelta(days=1)  # as if the day had turned since
    schemas = (await http.get("/openapi.json")).json()["components"]["schemas"]
    (example,) = schemas["GoalCreate"]["examples"]
    assert (example["start_date"], example["target_date"]) == ("2031-05-04", "2031-07-27")
    (draft,) = schemas["GoalDraft"]["examples"]
    assert draft["target_date"] == "2031-07-27"
