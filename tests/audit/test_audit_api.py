"""The audit trail: every read, change and refused attempt, with names but never values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api import Api


async def test_reads_writes_and_denials_are_recorded(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    bob = api.actor("clinician", sub="bob")
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    await alice.get(f"/v1/goals/{goal['id']}")
    await alice.patch(
        f"/v1/goals/{goal['id']}", json={"priority": "low", "title": "Walk daily now"}
    )
    assert (await bob.get(f"/v1/goals/{goal['id']}")).status_code == 404
    robin = api.actor("client", sub="robin")
    assert (
        await robin.post(f"/v1/goals/{goal['id']}/transition", json={"to": "active"})
    ).status_code == 403

    events = (await admin.get("/v1/audit-events", params={"resource_id": goal["id"]})).json()[
        "items"
    ]
    summary = [(e["action"], e["actor_id"], e["outcome"], e["status_code"]) for e in events]
    assert summary == [
        ("transition_goal", "robin", "denied", 403),
        ("get_goal", "bob", "not_found", 404),
        ("update_goal", "alice", "success", 200),
        ("get_goal", "alice", "success", 200),
        ("create_goal", "alice", "success", 201),
    ]
    update = events[2]
    assert update["changed_fields"] == ["priority", "title"]
    assert update["resource_type"] == "goal"
    assert update["request_id"]
    assert "Walk daily now" not in str(events)


async def test_care_team_changes_name_the_clinician_let_in_or_out(api: Api) -> None:
    """Joining or leaving a care team grants or takes away access to a client's records: the
    trail names who acted, on which client, and which clinician, denied attempts included."""
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    robin = api.actor("client", sub="robin")
    client = await api.client(alice)
    bob = f"bob-{uuid.uuid4()}"  # the trail is the organization's, shared with other tests
    team = f"/v1/clients/{client['id']}/care-team"
    assert (await alice.put(f"{team}/{bob}")).status_code == 201
    assert (await robin.delete(f"{team}/{bob}")).status_code == 403
    assert (await alice.delete(f"{team}/{bob}")).status_code == 204
    await alice.get(team)

    events = (await admin.get("/v1/audit-events", params={"resource_id": client["id"]})).json()
    summary = [
        (e["action"], e["actor_id"], e["resource_type"], e["subject_id"], e["status_code"])
        for e in events["items"]
    ]
    assert summary == [
        ("get_care_team", "alice", "client", None, 200),
        ("remove_care_team_member", "alice", "client", bob, 204),
        ("remove_care_team_member", "robin", "client", bob, 403),
        ("add_care_team_member", "alice", "client", bob, 201),
        ("create_client", "alice", "client", None, 201),
    ]
    about_bob = (await admin.get("/v1/audit-events", params={"subject_id": bob})).json()
    assert [e["action"] for e in about_bob["items"]] == [
        "remove_care_team_member",
        "remove_care_team_member",
        "add_care_team_member",
    ]


async def test_a_refused_care_team_path_is_recorded_without_its_text(api: Api) -> None:
    """The subject a path names goes on the trail only once it is a valid id: an attempt with
    text too long for it, or with control characters, is recorded all the same."""
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    robin = api.actor("client", sub="robin")
    client = await api.client(alice)
    team = f"/v1/clients/{client['id']}/care-team"
    assert (await alice.put(f"{team}/{'x' * 256}")).status_code == 422
    assert (await robin.delete(f"{team}/bob%00")).status_code == 422
    events = (await admin.get("/v1/audit-events", params={"resource_id": client["id"]})).json()
    summary = [(e["action"], e["actor_id"], e["subject_id"], e["outcome"]) for e in events["items"]]
    assert summary[:2] == [
        ("remove_care_team_member", "robin", None, "rejected"),
        ("add_care_team_member", "alice", None, "rejected"),
    ]


async def test_only_field_names_of_the_operation_are_kept_and_statuses_as_answered(
    api: Api,
) -> None:
    """The trail is kept for good: a refused body's made-up keys (any text, health data
    included) never reach it, only the operation's own field names; and a body that is not
    JSON is recorded with the 400 it got."""
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    refused = await alice.patch(url, json={"priority": "low", "Jane Doe, HIV positive": 1})
    assert refused.status_code == 422
    broken = await alice.post(
        f"{url}/progress-events", content=b'{"kind":', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    anonymous = await api.http.post(
        f"{url}/progress-events", content=b'{"kind":', headers={"Content-Type": "application/json"}
    )
    assert anonymous.status_code == 401  # no credentials: that first, whatever the body
    events = (await admin.get("/v1/audit-events", params={"resource_id": goal["id"]})).json()
    recorded = [(e["action"], e["status_code"], e["changed_fields"]) for e in events["items"]]
    assert recorded[:2] == [
        ("record_progress_event", 400, []),
        ("update_goal", 422, ["priority"]),
    ]
    assert "Jane" not in str(events)


async def test_unauthenticated_attempts_and_integrations_are_recorded(
    api: Api, connection: AsyncConnection
) -> None:
    admin = api.actor("admin", sub="root")
    assert (await api.http.get("/v1/goals")).status_code == 401
    key = (await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": ["goals:read"]})).json()
    await api.http.get("/v1/goals", headers={"Authorization": f"Bearer {key['key']}"})
    rows = (
        await connection.execute(
            text("SELECT actor_type, outcome, credential_id::text FROM audit_events ORDER BY id")
        )
    ).all()
    assert ("anonymous", "denied", None) in rows
    assert ("integration", "success", key["id"]) in rows
    dump = (
        await connection.execute(
            text("SELECT string_agg(row_to_json(a)::text, '') FROM audit_events a")
        )
    ).scalar_one()
    assert key["key"] not in dump


async def test_a_revoked_keys_attempts_are_on_its_organizations_trail(api: Api) -> None:
    """A leaked key still in use after its revocation: each attempt is 401, recorded as
    that key's (its organization, its credential id), for the admin to see."""
    admin = api.actor("admin", sub="root")
    key = (await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": ["goals:read"]})).json()
    assert (await admin.delete(f"/v1/api-keys/{key['id']}")).status_code == 204
    bearer = {"Authorization": f"Bearer {key['key']}"}
    refused = await api.http.get("/v1/goals", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The API key is not valid or has been revoked."
    events = (await admin.get("/v1/audit-events")).json()["items"]
    attempts = [e for e in events if e["credential_id"] == key["id"]]
    assert [(e["actor_type"], e["action"], e["outcome"], e["status_code"]) for e in attempts] == [
        ("integration", "list_goals", "denied", 401)
    ]


async def test_only_admins_read_it_and_only_their_org(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    await api.client(alice)
    assert (await alice.get("/v1/audit-events")).status_code == 403
    other = api.actor("admin", org="org-b", sub="root")
    assert (await other.get("/v1/audit-events")).json()["items"] == []


async def test_the_trail_cannot_be_changed(api: Api, connection: AsyncConnection) -> None:
    await api.client(api.actor())
    for statement in (
        "UPDATE audit_events SET outcome = 'success'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "TRUNCATE audit_seals",
    ):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(statement))
        await savepoint.rollback()


async def test_refusals_replays_and_conflicts_are_recorded_as_answered(
    api: Api, connection: AsyncConnection
) -> None:
    started = datetime.now(UTC)  # rows that other tests' apps committed for good are older
    admin = api.actor("admin", sub="root")
    key = (await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": ["goals:read"]})).json()
    integration = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.http.get("/v1/clients", headers=integration)).status_code == 403
    headers = {"Idempotency-Key": "audit-replay"}
    first = await admin.post(
        "/v1/clients", json={"display_name": "R", "external_id": "E1"}, headers=headers
    )
    again = await admin.post(
        "/v1/clients", json={"display_name": "R", "external_id": "E1"}, headers=headers
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    duplicate = await admin.post("/v1/clients", json={"display_name": "R", "external_id": "E1"})
    assert duplicate.status_code == 409
    rows = (
        await connection.execute(
            text(
                "SELECT action, actor_type, outcome, status_code, resource_id FROM audit_events "
                "WHERE action IN ('list_clients', 'create_client') AND occurred_at >= :started "
                "ORDER BY occurred_at, id"
            ),
            {"started": started},
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("list_clients", "integration", "denied", 403, None),
        ("create_client", "user", "success", 201, first.json()["id"]),
        ("create_client", "user", "replayed", 201, first.json()["id"]),
        ("create_client", "user", "rejected", 409, None),
    ]
