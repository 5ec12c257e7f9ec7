"""Resource limits: body size, rate per caller, page size, and protective headers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from limits.aio.storage import memory as limits_memory

from app.api_keys.secrets import generate_key
from app.auth.caller import Caller, Role
from app.auth.tokens import mint_token
from app.config import Settings
from app.limits import ListBudget, ListBudgetSpent, SweptMemoryStorage
from app.main import create_app
from tests.api import Api


async def test_bodies_over_the_limit_are_413(api: Api) -> None:
    alice = api.actor()
    huge = b'{"display_name": "' + b"x" * 1_100_000 + b'"}'
    response = await alice.post(
        "/v1/clients", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"display_name": "'
        for _ in range(20):
            yield b"y" * 100_000
        yield b'"}'

    streamed = await alice.post(
        "/v1/clients", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_hostile_shapes_are_refused_not_500(api: Api) -> None:
    alice = api.actor()
    client = await api.client(alice)
    deep = "[" * 10_000 + "]" * 10_000
    many = {"title": "x", "category": "other", "gas_levels": {str(i): "x" for i in range(10_000)}}
    for body in (deep.encode(), None):
        if body is None:
            response = await alice.post(f"/v1/clients/{client['id']}/goals", json=many)
        else:
            response = await alice.post(
                f"/v1/clients/{client['id']}/goals",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        # Nested 10,000 deep: the JSON parser gives up (400); 10,000 keys: validation (422).
        assert response.status_code == (400 if body is not None else 422), response.text[:200]


async def test_protective_headers(api: Api) -> None:
    response = await api.actor().get("/v1/clients")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    health = await api.http.get("/healthz")
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in health.headers.get("Cache-Control", "")


@pytest.fixture
async def strict_api(settings: Settings) -> AsyncIterator[Api]:
    """A day's window: a sliding window's previous window counts less as time passes, so a
    test that crossed a minute's end could send a sixth request within 5/minute."""
    application = create_app(settings.model_copy(update={"rate_limit": "5/day"}))
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        yield Api(http, settings)


async def test_rate_limit_per_caller(strict_api: Api) -> None:
    alice = strict_api.actor(org="rate-org", sub="alice")
    statuses = [(await alice.get("/v1/clients")).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = await alice.get("/v1/clients")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["detail"] == "Your limit is 5 requests per day; slow down."
    other = strict_api.actor(org="rate-org", sub="bob")
    assert (await other.get("/v1/clients")).status_code == 200


async def test_a_request_is_authenticated_and_counted_once(strict_api: Api) -> None:
    """The idempotency guard and the operation's service both need the caller: the second
    asks the first's answer, so a POST with a key is one hit against the limit, not two."""
    carol = strict_api.actor(org="rate-org", sub="carol")
    statuses = [
        (
            await carol.post(
                "/v1/goals/validate", json={"title": 7}, headers={"Idempotency-Key": f"k{i}"}
            )
        ).status_code
        for i in range(6)
    ]
    assert statuses == [422] * 5 + [429]


@pytest.fixture
async def guarded_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"failed_auth_limit": "3/day"}))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def guarded_api(guarded_app: FastAPI, settings: Settings) -> AsyncIterator[Api]:
    async with AsyncClient(
        transport=ASGITransport(app=guarded_app), base_url="http://test"
    ) as http:
        yield Api(http, settings)


async def test_an_address_that_keeps_sending_bad_credentials_is_refused(
    guarded_app: FastAPI, guarded_api: Api, settings: Settings
) -> None:
    """Past the budget (3 here), the address may send only tokens already seen valid; anything
    else is 429 before it is looked at. Expired tokens, missing credentials and other
    addresses are not counted."""
    http = guarded_api.http
    alice = guarded_api.actor(org="guard-org", sub="alice")
    assert (await alice.get("/v1/clients")).status_code == 200  # seen valid from here on
    bad_token = {"Authorization": "Bearer not-a-jwt"}
    bad_key = {"Authorization": f"Bearer {generate_key()}"}  # well-formed: looked up, unknown
    statuses = [
        (await http.get("/v1/clients", headers=bad_token if i % 2 else bad_key)).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 401]
    refused = await http.get("/v1/clients", headers=bad_key)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith(":too-many-failed-credentials")
    assert (await alice.get("/v1/clients")).status_code == 200
    bob = guarded_api.actor(org="guard-org", sub="bob")
    assert (await bob.get("/v1/clients")).status_code == 429  # valid, but not seen before

    expired = mint_token(
        settings, role=Role.CLINICIAN, org="guard-org", subject="carol", ttl=timedelta(hours=-1)
    )
    elsewhere = ASGITransport(app=guarded_app, client=("192.0.2.7", 4000))
    async with AsyncClient(transport=elsewhere, base_url="http://test") as other:
        for headers in [{"Authorization": f"Bearer {expired}"}] * 4 + [{}] * 4:
            assert (await other.get("/v1/clients", headers=headers)).status_code == 401
        assert (await other.get("/v1/clients", headers=bob.headers)).status_code == 200


async def test_a_key_seen_valid_still_works_from_an_address_over_its_budget(
    guarded_api: Api,
) -> None:
    """An EHR behind the same NAT or proxy as someone guessing keys keeps working: its key,
    once seen valid, passes the guard like a token seen valid. A key never seen valid from
    there waits, like any other new credential."""
    http = guarded_api.http
    admin = guarded_api.actor("admin", org="guard-org", sub="root")
    keys = []
    for name in ("EHR", "Lab"):
        created = await admin.post("/v1/api-keys", json={"name": name, "scopes": ["goals:read"]})
        assert created.status_code == 201, created.text
        keys.append({"Authorization": f"Bearer {created.json()['key']}"})
    ehr, lab = keys
    assert (await http.get("/v1/goals", headers=ehr)).status_code == 200  # seen valid
    guessed = {"Authorization": f"Bearer {generate_key()}"}
    statuses = [(await http.get("/v1/goals", headers=guessed)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert (await http.get("/v1/goals", headers=ehr)).status_code == 200
    assert (await http.get("/v1/goals", headers=lab)).status_code == 429
    # Revoked, it is a stranger again: refused once by the database, then by the guard.
    ehr_id = (await admin.get("/v1/api-keys")).json()["items"][0]["id"]
    assert (await admin.delete(f"/v1/api-keys/{ehr_id}")).status_code == 204
    assert [(await http.get("/v1/goals", headers=ehr)).status_code for _ in range(2)] == [
        401,
        429,
    ]


async def test_an_address_is_let_back_in_once_its_window_has_passed(
    guarded_app: FastAPI, guarded_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refusal does not last for ever: once its window (a day, sliding) has passed, the
    address may send a valid token again and has its whole budget back. Only the limiter's
    clock is moved on, not the tokens'."""
    transport = ASGITransport(app=guarded_app, client=("198.51.100.9", 4000))
    bad = {"Authorization": "Bearer not-a-jwt"}
    bob = guarded_api.actor(org="guard-org", sub="bob")
    # A minute into a UTC day. The sliding window counter weighs the day before by the share
    # of today still to come: three failures just before midnight count as 2.99 just after
    # it, under a budget of 3 (this test failed when run between 23:00 and midnight UTC).
    now = (time.time() // 86_400) * 86_400 + 60

    def clock_at(later: timedelta) -> None:
        moved = SimpleNamespace(time=lambda: now + later.total_seconds())
        monkeypatch.setattr(limits_memory, "time", moved)

    clock_at(timedelta(0))
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        statuses = [(await http.get("/v1/clients", headers=bad)).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        clock_at(timedelta(hours=1))
        assert (await http.get("/v1/clients", headers=bob.headers)).status_code == 429
        # A sliding window forgets a window's failures over the next: both have passed.
        clock_at(timedelta(days=2, minutes=1))
        assert (await http.get("/v1/clients", headers=bob.headers)).status_code == 200
        statuses = [(await http.get("/v1/clients", headers=bad)).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


async def test_counters_are_swept_once_a_second_not_on_every_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hit must not walk every caller's counters (`limits`' own storage did, so a request
    cost more with every caller seen); expired counters still go, a second later at most,
    read as zero until then and start again from one. (Reads the storage's own dictionaries:
    an upgrade of `limits` that renames them fails here.)"""
    start = time.time()

    def clock_at(seconds: float) -> None:
        moved = SimpleNamespace(time=lambda: start + seconds)
        monkeypatch.setattr(limits_memory, "time", moved)

    clock_at(0)
    storage = SweptMemoryStorage()
    for caller in range(1000):
        await storage.incr(f"old-{caller}", expiry=2)
    clock_at(1.5)  # a sweep is due, but nothing has expired yet
    await storage.incr("current", expiry=60)
    assert len(storage.expirations) == 1001
    clock_at(2.1)  # the old counters have expired; the last sweep was 0.6 s ago
    await storage.incr("current", expiry=60)
    assert len(storage.expirations) == 1001
    assert await storage.get("old-7") == 0
    assert await storage.incr("old-8", expiry=2) == 1  # a window of its own from now
    assert storage.expirations["old-8"] == pytest.approx(start + 4.1)
    clock_at(2.6)
    assert await storage.incr("current", expiry=60) == 3
    assert await storage.decr("current") == 2
    assert set(storage.expirations) == {"current", "old-8"}
    assert set(storage.storage) == {"current", "old-8"}


async def test_a_page_refused_by_one_window_is_charged_to_none() -> None:
    budget = ListBudget("3/minute;5/hour")
    caller = Caller(org_id="budget-org", subject="alice", role=Role.CLINICIAN)
    await budget.spend(caller, 2)
    with pytest.raises(ListBudgetSpent):
        await budget.spend(caller, 2)  # the minute window has 1 left
    hour = budget.items[1]
    stats = await budget.limiter.get_window_stats(hour, caller.unique_key)
    assert stats.remaining == 3


@pytest.fixture
async def budget_api(settings: Settings) -> AsyncIterator[Api]:
    # model_copy skips validation: a real budget allows at least a full page (100 records).
    application = create_app(settings.model_copy(update={"list_budget": "4/hour"}))
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        yield Api(http, settings)


async def test_listing_past_the_budget_is_refused_audited_and_logged(
    budget_api: Api,
    json_logs_at_info: None,  # after the app, which configures logging as it starts
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Lists of clients and goals are charged by the records on each page; the page that
    would pass the budget is 429 (refused whole), on the audit trail, and a warning in the
    log with ids only. Another caller of the same organization keeps its own budget."""
    org = f"budget-{uuid.uuid4()}"
    alice = budget_api.actor(org=org, sub="alice")
    clients = [await budget_api.client(alice, display_name="Budget-Canary-Name") for _ in range(3)]
    await budget_api.goal(alice, clients[0]["id"])
    capsys.readouterr()

    assert (await alice.get("/v1/clients", params={"limit": 2})).status_code == 200  # 2 spent
    assert (await alice.get("/v1/goals")).status_code == 200  # 3 spent
    assert (await alice.get("/v1/clients", params={"external_id": "none"})).status_code == 200
    refused = await alice.get("/v1/clients", params={"limit": 2})  # 5 would pass 4
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60  # when the hour's budget is back
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith(":list-budget-spent")
    assert refused.json()["detail"] == (
        "This page of 2 records would pass your budget of 4 records listed per hour."
    )
    assert (await alice.get("/v1/clients", params={"limit": 1})).status_code == 200  # 4 spent
    assert (await alice.get(f"/v1/clients/{clients[0]['id']}/goals")).status_code == 429

    warnings = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if "list budget spent" in line
    ]
    assert [(w["org_id"], w["caller"], w["records"]) for w in warnings] == [
        (org, "alice", 2),
        (org, "alice", 1),
    ]
    assert all("Budget-Canary" not in json.dumps(w) for w in warnings)

    bob = budget_api.actor(org=org, sub="bob")
    await budget_api.client(bob)
    assert (await bob.get("/v1/clients")).status_code == 200
    admin = budget_api.actor("admin", org=org, sub="root")
    trail = await admin.get("/v1/audit-events", params={"actor_id": "alice", "outcome": "rejected"})
    assert [(e["action"], e["status_code"]) for e in trail.json()["items"]] == [
        ("list_client_goals", 429),
        ("list_clients", 429),
    ]


async def test_an_ipv6_network_counts_as_one_sender_and_refusals_do_not_count(
    guarded_app: FastAPI, guarded_api: Api
) -> None:
    """Any host of an IPv6 /64 can take a new address in it at will: the /64 is counted as
    one sender. A 403 (valid credentials, an operation the role may not call) is not a guess.
    """
    bad = {"Authorization": f"Bearer {generate_key()}"}
    alice = guarded_api.actor(org="guard6-org", sub="alice")

    def sender(host: str) -> AsyncClient:
        transport = ASGITransport(app=guarded_app, client=(host, 4000))
        return AsyncClient(transport=transport, base_url="http://test")

    async with sender("2001:db8::1") as first, sender("2001:db8::2") as neighbour:
        for _ in range(4):  # the role may not read the audit trail: 403, not counted
            assert (await first.get("/v1/audit-events", headers=alice.headers)).status_code == 403
        assert (await first.get("/v1/clients", headers=bad)).status_code == 401
        assert (await neighbour.get("/v1/clients", headers=bad)).status_code == 401
        assert (await first.get("/v1/clients", headers=bad)).status_code == 401
        assert (await neighbour.get("/v1/clients", headers=bad)).status_code == 429
    async with sender("2001:db8:0:1::1") as next_network:
        assert (await next_network.get("/v1/clients", headers=bad)).status_code == 401


async def test_pages_of_progress_events_and_revisions_are_charged_too(budget_api: Api) -> None:
    """A goal's events (notes among them) and its history are client data as much as the
    goal: paging through them spends the same budget."""
    org = f"budget-{uuid.uuid4()}"
    alice = budget_api.actor(org=org, sub="alice")
    client = await budget_api.client(alice)
    goal = await budget_api.goal(alice, client["id"])
    for _ in range(3):
        note = {"kind": "note", "note": "Budget-Canary note"}
        recorded = await alice.post(f"/v1/goals/{goal['id']}/progress-events", json=note)
        assert recorded.status_code == 201, recorded.text

    events = await alice.get(f"/v1/goals/{goal['id']}/progress-events")
    assert (events.status_code, len(events.json()["items"])) == (200, 3)  # 3 of 4 spent
    history = await alice.get(f"/v1/goals/{goal['id']}/revisions")
    assert (history.status_code, len(history.json()["items"])) == (200, 1)  # 4 of 4
    refused = await alice.get(f"/v1/goals/{goal['id']}/progress-events", params={"limit": 1})
    assert refused.status_code == 429
    assert refused.json()["type"].endswith(":list-budget-spent")
    assert (await alice.get(f"/v1/goals/{goal['id']}/revisions")).status_code == 429
    # Nothing listed, nothing charged: an empty page is still served.
    empty = {"occurred_before": "2000-01-01T00:00:00Z"}
    assert (await alice.get(f"/v1/goals/{goal['id']}/progress-events", params=empty)).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_requests_past_the_limit_in_progress_are_503_problems(settings: Settings) -> None:
    """Security checklist 13: a flood past the concurrency limit is 503 with Retry-After, as
    a problem; the probes and metrics still answer; once requests finish, calls go through."""
    origin = "https://app.example"
    application = create_app(
        settings.model_copy(update={"max_requests_in_progress": 2, "cors_origins": [origin]})
    )
    release, both_held = asyncio.Event(), asyncio.Event()
    held_count = 0

    async def held_body() -> AsyncIterator[bytes]:
        nonlocal held_count
        yield b'{"display_name": '
        held_count += 1  # the route is reading the body: the request is in progress
        if held_count == 2:
            both_held.set()
        await release.wait()
        yield b'"Held client"}'

    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        alice = Api(http, settings).actor(org="busy-org", sub="alice")
        json_type = {"Content-Type": "application/json"}
        held = [
            asyncio.create_task(alice.post("/v1/clients", content=held_body(), headers=json_type))
            for _ in range(2)
        ]
        await both_held.wait()
        assert "\nhttp_requests_in_progress 2.0\n" in (await http.get("/metrics")).text

        turned_away = await alice.get("/v1/clients", headers={"Origin": origin})
        assert turned_away.status_code == 503
        assert turned_away.headers["Access-Control-Allow-Origin"] == origin  # a browser reads it
        preflight = await http.options(
            "/v1/clients",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200  # never counted, never turned away
        assert turned_away.headers["content-type"] == "application/problem+json"
        assert turned_away.headers["Retry-After"] == "1"
        assert turned_away.headers["X-Request-ID"]
        assert turned_away.json()["type"].endswith(":overloaded")
        assert turned_away.json()["instance"] == "/v1/clients"
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert 'http_requests_total{method="GET",route="unmatched",status="503"} 1.0' in metrics

        release.set()
        assert [(await task).status_code for task in held] == [201, 201]
        assert (await alice.get("/v1/clients")).status_code == 200
