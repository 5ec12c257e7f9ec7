"""Idempotency-Key on POST: replay, mismatch, per-caller scope, races, expiry."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db import utcnow
from app.idempotency.repository import IdempotencyRepository
from app.idempotency.service import purge_expired
from tests.api import Api


async def clients_named(connection: AsyncConnection, name: str) -> int:
    result = await connection.execute(
        text("SELECT count(*) FROM clients WHERE display_name = :name"), {"name": name}
    )
    return int(result.scalar_one())


async def test_replay_returns_the_first_response(api: Api, connection: AsyncConnection) -> None:
    alice = api.actor()
    headers = {"Idempotency-Key": "create-client-1"}
    first = await alice.post("/v1/clients", json={"display_name": "Once"}, headers=headers)
    again = await alice.post("/v1/clients", json={"display_name": "Once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert await clients_named(connection, "Once") == 1


async def test_same_key_different_body_is_422(api: Api, connection: AsyncConnection) -> None:
    alice = api.actor()
    headers = {"Idempotency-Key": "k-2"}
    await alice.post("/v1/clients", json={"display_name": "A"}, headers=headers)
    other = await alice.post("/v1/clients", json={"display_name": "B"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith(":idempotency-key-reused")  # not a field's fault
    assert await clients_named(connection, "B") == 0


async def test_a_body_counts_by_its_json_value_not_its_bytes(
    api: Api, connection: AsyncConnection
) -> None:
    """A retry that serializes the same body with other spacing and key order (another
    client library, a new app version) is replayed, not refused as a different request."""
    alice = api.actor()
    headers = {"Idempotency-Key": "k-json", "Content-Type": "application/json"}
    sent = b'{"display_name": "Same", "timezone": "UTC"}'
    resent = b'{"timezone":"UTC","display_name":"Same"}'
    first = await alice.post("/v1/clients", content=sent, headers=headers)
    again = await alice.post("/v1/clients", content=resent, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    other = await alice.post("/v1/clients", content=resent.replace(b"UTC", b"CET"), headers=headers)
    assert other.status_code == 422
    assert await clients_named(connection, "Same") == 1


async def test_bodies_json_allows_but_cannot_be_stored_are_refused_not_500(api: Api) -> None:
    """A lone surrogate is valid JSON but no UTF-8; a body nested past Python's recursion
    limit parses nowhere: with a key, as without one, each is the handler's 4xx."""
    alice = api.actor()
    for body in (b'{"display_name": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000):
        for headers in ({}, {"Idempotency-Key": f"k-odd-{len(body)}"}):
            headers["Content-Type"] = "application/json"
            response = await alice.post("/v1/clients", content=body, headers=headers)
            assert 400 <= response.status_code < 500, response.text


async def test_keys_stored_with_a_byte_fingerprint_still_replay(
    api: Api, connection: AsyncConnection
) -> None:
    """A key stored before bodies counted by their JSON value (its hash taken of the bytes)
    still replays the same bytes for the rest of its 24 hours."""
    alice = api.actor()
    headers = {"Idempotency-Key": "k-bytes", "Content-Type": "application/json"}
    sent = b'{"display_name": "Legacy"}'
    first = await alice.post("/v1/clients", content=sent, headers=headers)
    assert first.status_code == 201
    byte_hash = hashlib.sha256(b"POST\x1f/v1/clients\x1f\x1f" + sent).hexdigest()
    await connection.execute(
        text("UPDATE idempotency_keys SET request_hash = :hash WHERE key = 'k-bytes'"),
        {"hash": byte_hash},
    )
    again = await alice.post("/v1/clients", content=sent, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.content == first.content
    other = await alice.post("/v1/clients", content=b'{"display_name":"Other"}', headers=headers)
    assert other.status_code == 422


async def test_keys_are_scoped_per_caller(api: Api, connection: AsyncConnection) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    alice = api.actor(sub="alice")
    bob = api.actor(sub="bob")
    other_org = api.actor(org="org-b", sub="alice")
    responses = [
        await actor.post("/v1/clients", json={"display_name": "Mine"}, headers=headers)
        for actor in (alice, bob, other_org)
    ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 3
    assert all("Idempotent-Replayed" not in r.headers for r in responses)


async def test_a_replay_goes_only_to_a_caller_who_may_still_see_its_record(api: Api) -> None:
    """Security checklist 1-3: the stored response holds health data. A clinician taken off
    the care team since, or the same subject with a lesser role, gets the 404 any request of
    theirs about the record gets; the caller who still may see it gets the replay."""
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}/progress-events"
    note = {"kind": "note", "note": "Talked about the night shifts."}
    headers = {"Idempotency-Key": "note-1"}
    first = await alice.post(url, json=note, headers=headers)
    assert first.status_code == 201, first.text
    before = await alice.post(url, json=note, headers=headers)
    assert (before.status_code, before.headers["Idempotent-Replayed"]) == (201, "true")
    removed = await admin.delete(f"/v1/clients/{client['id']}/care-team/alice")
    assert removed.status_code == 204, removed.text
    replay = await alice.post(url, json=note, headers=headers)
    assert replay.status_code == 404, replay.text
    assert "night shifts" not in replay.text
    assert "Idempotent-Replayed" not in replay.headers
    assert (await alice.post(url, json=note)).status_code == 404  # as without a key

    created = await admin.post(
        "/v1/clients", json={"display_name": "R. M."}, headers={"Idempotency-Key": "c-1"}
    )
    assert created.status_code == 201, created.text
    as_client = api.actor("client", sub="root")  # the same subject, now with a client's role
    again = await as_client.post(
        "/v1/clients", json={"display_name": "R. M."}, headers={"Idempotency-Key": "c-1"}
    )
    assert again.status_code == 404, again.text
    assert "R. M." not in again.text
    replayed = await admin.post(
        "/v1/clients", json={"display_name": "R. M."}, headers={"Idempotency-Key": "c-1"}
    )
    assert (replayed.status_code, replayed.json()) == (201, created.json())


async def test_key_rules(api: Api) -> None:
    alice = api.actor()
    too_long = await alice.post(
        "/v1/clients", json={"display_name": "x"}, headers={"Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 400
    assert [e["loc"] for e in too_long.json()["errors"]] == [["header", "idempotency-key"]]
    errors_are_not_stored = {"Idempotency-Key": "bad-body"}
    assert (
        await alice.post("/v1/clients", json={}, headers=errors_are_not_stored)
    ).status_code == 422
    fixed = await alice.post(
        "/v1/clients", json={"display_name": "x"}, headers=errors_are_not_stored
    )
    assert fixed.status_code == 201


async def test_expired_keys_run_again_and_are_purged(api: Api, connection: AsyncConnection) -> None:
    alice = api.actor()
    headers = {"Idempotency-Key": "old-key"}
    await alice.post("/v1/clients", json={"display_name": "Old"}, headers=headers)
    await connection.execute(
        text("UPDATE idempotency_keys SET expires_at = now() - interval '1 minute'")
    )
    again = await alice.post("/v1/clients", json={"display_name": "Old"}, headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert await clients_named(connection, "Old") == 2
    await connection.execute(
        text("UPDATE idempotency_keys SET expires_at = now() - interval '1 minute'")
    )

    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        purged = await purge_expired(
            IdempotencyRepository(session), utcnow() + timedelta(seconds=1)
        )
        await session.commit()
    assert purged == 1
    remaining = await connection.execute(text("SELECT count(*) FROM idempotency_keys"))
    assert remaining.scalar_one() == 0


async def test_a_key_whose_first_request_still_runs_is_409_in_flight(
    app: FastAPI, committed_api: Api
) -> None:
    """The first request holds the key's lock until it commits: held here from another
    connection, as a first request still running would hold it."""
    alice = committed_api.actor()
    name = "\x1f".join(("org-a", "user:alice", "in-flight-1"))
    async with app.state.engine.begin() as first:
        await first.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name}
        )
        second = await alice.post(
            "/v1/clients",
            json={"display_name": "Twice"},
            headers={"Idempotency-Key": "in-flight-1"},
        )
    assert second.status_code == 409
    assert second.json()["type"].endswith(":idempotency-key-in-flight")
    assert second.headers["Retry-After"] == "1"
    assert (await alice.get("/v1/clients")).json()["items"] == []  # nothing was done


async def test_20_concurrent_requests_with_one_key_create_one_row(committed_api: Api) -> None:
    alice = committed_api.actor()
    headers = {"Idempotency-Key": "race-1"}
    responses = await asyncio.gather(
        *(
            alice.post("/v1/clients", json={"display_name": "Raced"}, headers=headers)
            for _ in range(20)
        )
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    in_flight = [r for r in responses if r.status_code == 409]
    assert all(r.headers.get("Retry-After") for r in in_flight)
    assert all(r.json()["type"].endswith(":idempotency-key-in-flight") for r in in_flight)
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    listed = (await alice.get("/v1/clients")).json()["items"]
    assert [c["display_name"] for c in listed] == ["Raced"]
    replay = await alice.post("/v1/clients", json={"display_name": "Raced"}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_no_caller_can_pose_as_another_by_the_shape_of_its_names(api: Api) -> None:
    """Organization names may hold a colon, and an identity provider may issue any `sub`:
    org "acme:east" with user "bob" is not org "acme" with user "east:bob", and a user whose
    `sub` is "api-key:<id>" is not that integration. Neither is handed the other's response."""
    headers = {"Idempotency-Key": "shape"}
    east_bob = api.actor(org="acme:east", sub="bob")
    acme_east_bob = api.actor(org="acme", sub="east:bob")
    first = await east_bob.post("/v1/clients", json={"display_name": "Bob's"}, headers=headers)
    second = await acme_east_bob.post(
        "/v1/clients", json={"display_name": "Bob's"}, headers=headers
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]

    admin = api.actor("admin", org="shape-org", sub="root")
    client = await api.client(admin, external_id="MRN-1")
    goal = await api.goal(admin, client["id"])
    created = await admin.post(
        "/v1/api-keys", json={"name": "EHR", "scopes": ["session_outcomes:write"]}
    )
    integration = {"Authorization": f"Bearer {created.json()['key']}", **headers}
    body = {"external_id": "ENC-1", "client_external_id": "MRN-1",
            "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "goals": [{"goal_id": goal["id"], "achievement_status": "improving"}]}  # fmt: skip
    stored = await api.http.post("/v1/session-outcomes", json=body, headers=integration)
    posing = api.actor("admin", org="shape-org", sub=f"api-key:{created.json()['id']}")
    answered = await posing.post("/v1/session-outcomes", json=body, headers=headers)
    assert "Idempotent-Replayed" not in answered.headers
    assert (stored.status_code, answered.status_code) == (201, 201), answered.text
    assert stored.json()["id"] != answered.json()["id"]  # an outcome of its own submitter
