"""Routes run a handler planned once (app/handlers.py), not FastAPI's own: whatever a client
sends, good or bad, each must answer what FastAPI's handler answers for the same request."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, request_response
from httpx import Response

from app.handlers import plannable
from app.transaction import TransactionalRoute
from tests.api import Actor, Api

VOLATILE = {"id", "request_id", "occurred_at", "recorded_at", "created_at", "updated_at"}
COMPARED_HEADERS = ("content-type", "etag", "allow", "retry-after", "www-authenticate",
                    "location", "idempotent-replayed")  # fmt: skip
AN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@contextmanager
def fastapi_handlers(app: FastAPI) -> Iterator[None]:
    """The app's routes with FastAPI's own handler inside the same transaction handling."""
    routes = [route for route in app.routes if isinstance(route, TransactionalRoute)]
    planned = [route.app for route in routes]
    for route in routes:
        route.app = request_response(route.in_transaction(APIRoute.get_route_handler(route)))
    try:
        yield
    finally:
        for route, original in zip(routes, planned, strict=True):
            route.app = original


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stable(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


def _answer(response: Response) -> tuple[int, dict[str, str], Any]:
    headers = {
        name: AN_ID.sub("<id>", response.headers[name])  # a new record's Location: its own id
        for name in COMPARED_HEADERS
        if name in response.headers
    }
    try:
        body: Any = _stable(response.json())
    except json.JSONDecodeError:
        body = response.text
    return response.status_code, headers, body


async def _both(
    app: FastAPI, actor: Actor, method: str, url: str, *, then: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:  # fmt: skip
    """The same request to the planned handler, then to FastAPI's (with `then` instead of
    `kwargs`, where the second must differ: a new Idempotency-Key, not a replay)."""
    planned = await actor.request(method, url, **kwargs)
    with fastapi_handlers(app):
        by_fastapi = await actor.request(method, url, **(then or kwargs))
    assert _answer(planned) == _answer(by_fastapi), (method, url, kwargs)


async def _a_clinician_with_a_goal(api: Api) -> tuple[Actor, dict[str, Any], dict[str, Any]]:
    alice = api.actor()
    client = await api.client(alice)
    return alice, client, await api.goal(alice, client["id"])


def test_every_route_of_ours_is_planned(app: FastAPI) -> None:
    """A route that FastAPI must handle itself is a choice (its response class, say), not an
    accident: the ones that are not planned are known."""
    unplanned = {
        (min(route.methods), route.path)
        for route in app.routes
        if isinstance(route, TransactionalRoute) and not plannable(route)
    }
    assert unplanned == {  # `response_class=Response`, for their 204
        ("DELETE", "/v1/clients/{client_id:uuid}/care-team/{clinician_subject}"),
        ("DELETE", "/v1/steps/{step_id:uuid}"),
        ("DELETE", "/v1/api-keys/{key_id:uuid}"),
    }


async def test_bodies_good_and_bad_are_answered_as_fastapi_answers_them(
    app: FastAPI, api: Api
) -> None:
    alice, _, goal = await _a_clinician_with_a_goal(api)
    events = f"/v1/goals/{goal['id']}/progress-events"
    json_type = {"Content-Type": "application/json"}
    for body in (
        '{"kind": "measurement", "value": 3}',
        '{"kind": "note", "note": "Slept better", "extra": 1}',
        '{"kind": "measurement"}',
        '{"kind": "measurement", "value": "3"}',
        '{"kind": "measurement", "value": true}',
        '{"kind": "bogus"}',
        '{"kind": "measurement", "value": 3, "occurred_at": "yesterday"}',
        "{",
        '{"kind": "measurement", "value": 3',
        "[]",
        "null",
        '"text"',
        "",
    ):
        await _both(app, alice, "POST", events, content=body, headers=json_type)
    for media_type in ("application/vnd.api+json", "application/json; charset=utf-8"):
        await _both(
            app, alice, "POST", events, content='{"kind": "measurement", "value": 1}',
            headers={"Content-Type": media_type},
        )  # fmt: skip
    for key in ("k" * 300, "", " ", "a key with spaces", "ok-key", str(uuid.uuid4())):
        body = {"kind": "measurement", "value": 2}
        other = key + "-2" if key.strip() else key
        await _both(
            app, alice, "POST", events, json=body, headers={"Idempotency-Key": key},
            then={"json": body, "headers": {"Idempotency-Key": other}},
        )  # fmt: skip
    for draft in ({}, {"title": "Walk"}, {"title": 3}, {"measure": {"kind": "count"}}):
        await _both(app, alice, "POST", "/v1/goals/validate", json=draft)
    for if_match, change in (('"99"', {"priority": "low"}), ("garbage", {"priority": "low"}),
                             (None, {"priority": "low"}), ('"1"', {"priority": "urgent"}),
                             ('"1"', {"title": None}), ('"1"', [])):  # fmt: skip
        headers = {"If-Match": if_match} if if_match is not None else {}
        await _both(app, alice, "PATCH", f"/v1/goals/{goal['id']}", json=change, headers=headers)


async def test_paths_and_queries_good_and_bad_are_answered_as_fastapi_answers_them(
    app: FastAPI, api: Api
) -> None:
    alice, client, goal = await _a_clinician_with_a_goal(api)
    for url in (
        f"/v1/goals/{goal['id']}",
        f"/v1/goals/{uuid.uuid4()}",
        f"/v1/goals/{goal['id']}/progress",
        f"/v1/clients/{client['id']}/summary",
        f"/v1/clients/{client['id']}/care-team",
        "/v1/goals?limit=0",
        "/v1/goals?limit=abc",
        "/v1/goals?limit=101",
        "/v1/goals?limit=2&status=active&status=proposed",
        "/v1/goals?status=bogus",
        "/v1/goals?category=nope&category=",
        "/v1/goals?updated_since=not-a-date",
        "/v1/goals?updated_since=2026-01-01T00:00:00Z",
        "/v1/goals?cursor=garbage",
        f"/v1/goals?client_id={client['id']}",
        "/v1/goals?client_id=not-a-uuid",
        "/v1/goals?unknown=1",
        f"/v1/goals/{goal['id']}/progress-events?limit=1&cursor=%00",
        "/v1/goal-templates?category=x",
        "/v1/audit-events?limit=1",
    ):
        await _both(app, alice, "GET", url)
    await _both(app, alice, "PUT", f"/v1/clients/{client['id']}/care-team/bob%20")
    carol = f"/v1/clients/{client['id']}/care-team/carol"
    assert (await alice.put(carol)).status_code == 201
    await _both(app, alice, "PUT", carol)  # already on the team: 200 both times
    nobody = replace(alice, token="not-a-token")
    await _both(app, nobody, "GET", f"/v1/goals/{goal['id']}")
