"""Session outcomes through HTTP: all or nothing, natural idempotency, real concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api import Api

GAS = {"-2": "a", "-1": "b", "0": "c", "1": "d", "2": "e"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def ehr_key(api: Api, *scopes: str) -> dict[str, str]:
    admin = api.actor("admin", sub="root")
    response = await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": list(scopes)})
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def world(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice, external_id="MRN-9")
    goals = [
        await api.goal(alice, client["id"], gas_levels=GAS),
        await api.goal(alice, client["id"]),
    ]
    return client, goals


def outcome(goals: list[dict[str, Any]], /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "ENC-1",
        "client_external_id": "MRN-9",
        "occurred_at": iso(datetime.now(UTC) - timedelta(hours=1)),
        "clinician": "dr.okafor",
        "note": "Reviewed the diary.",
        "goals": [
            {"goal_id": goals[0]["id"], "value": 4, "gas_level": 1, "note": "four entries"},
            {"goal_id": goals[1]["id"], "achievement_status": "improving"},
        ],
    }
    body.update(overrides)
    return body


async def count(connection: AsyncConnection, table: str) -> int:
    """Rows of the organization these tests use: other tests' apps commit rows of their own."""
    query = text(f"SELECT count(*) FROM {table} WHERE org_id = 'org-a'")  # noqa: S608
    return int((await connection.execute(query)).scalar_one())


async def test_an_ehr_posts_an_outcome(api: Api, connection: AsyncConnection) -> None:
    client, goals = await world(api)
    headers = await ehr_key(api, "session_outcomes:write")
    response = await api.http.post("/v1/session-outcomes", json=outcome(goals), headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_id"] == client["id"]
    assert len(body["progress_event_ids"]) == 2
    alice = api.actor("clinician", sub="alice")
    event = (await alice.get(f"/v1/progress-events/{body['progress_event_ids'][0]}")).json()
    assert (event["kind"], event["source"], event["value"], event["gas_level"]) == (
        "session_outcome",
        "integration",
        4,
        1,
    )
    assert event["session_outcome_id"] == body["id"]
    goal = (await alice.get(f"/v1/goals/{goals[1]['id']}")).json()
    assert (goal["achievement_status"], goal["achievement_status_source"]) == (
        "improving",
        "clinician",
    )
    fetched = await api.http.get(f"/v1/session-outcomes/{body['id']}", headers=headers)
    assert fetched.json() == body
    assert list(fetched.json()) == list(body)
    assert await count(connection, "session_outcomes") == 1


async def test_a_value_taken_in_session_is_a_measurement_of_the_goal(api: Api) -> None:
    """An EHR's reading counts like one recorded in the app: in the summary, and in the
    goal's derived status, which goes back when the reading is retracted."""
    _, goals = await world(api)
    alice = api.actor("clinician", sub="alice")
    goal_url = f"/v1/goals/{goals[0]['id']}"
    body = outcome(goals, goals=[{"goal_id": goals[0]["id"], "value": 5}])
    response = await api.http.post(
        "/v1/session-outcomes", json=body, headers=await ehr_key(api, "session_outcomes:write")
    )
    assert response.status_code == 201, response.text
    progress = (await alice.get(f"{goal_url}/progress")).json()
    assert (progress["latest_value"], progress["percent_complete"]) == (5, 100)
    assert progress["latest_at"] == body["occurred_at"]
    assert progress["achievement_status"] == "achieved"
    goal = (await alice.get(goal_url)).json()
    assert (goal["achievement_status"], goal["achievement_status_source"]) == (
        "achieved",
        "derived",
    )
    (event_id,) = response.json()["progress_event_ids"]
    retract = await alice.post(f"/v1/progress-events/{event_id}/retract", json={"reason": "typo"})
    assert retract.status_code == 200, retract.text
    assert (await alice.get(f"{goal_url}/progress")).json()["latest_value"] is None
    assert (await alice.get(goal_url)).json()["achievement_status"] != "achieved"


async def test_an_outcome_dated_in_the_future_names_its_own_occurred_at(api: Api) -> None:
    _, goals = await world(api)
    headers = await ehr_key(api, "session_outcomes:write")
    late = outcome(goals, occurred_at=iso(datetime.now(UTC) + timedelta(hours=1)))
    response = await api.http.post("/v1/session-outcomes", json=late, headers=headers)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "occurred_at"]]


async def test_same_body_again_is_200_with_the_first_response(
    api: Api, connection: AsyncConnection
) -> None:
    _, goals = await world(api)
    headers = await ehr_key(api, "session_outcomes:write")
    body = outcome(goals)
    first = await api.http.post("/v1/session-outcomes", json=body, headers=headers)
    again = await api.http.post("/v1/session-outcomes", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert list(again.json()) == list(first.json())  # in the same order too: jsonb has its own
    assert await count(connection, "progress_events") == 2
    changed = await api.http.post(
        "/v1/session-outcomes", json={**body, "note": "different"}, headers=headers
    )
    assert changed.status_code == 409
    assert await count(connection, "progress_events") == 2
    audited = await connection.execute(
        text(
            "SELECT outcome, status_code FROM audit_events WHERE org_id = 'org-a' "
            "AND action = 'create_session_outcome' ORDER BY occurred_at, id"
        )
    )
    assert audited.all() == [("success", 201), ("replayed", 200), ("rejected", 409)]


async def test_one_bad_goal_stores_nothing(api: Api, connection: AsyncConnection) -> None:
    _, goals = await world(api)
    alice = api.actor("clinician", sub="alice")
    stranger = await api.client(alice)
    foreign = await api.goal(alice, stranger["id"])
    headers = await ehr_key(api, "session_outcomes:write")
    events_before = await count(connection, "progress_events")
    bad_bodies = [
        outcome(goals, goals=[{"goal_id": goals[0]["id"], "value": 4}, {"goal_id": foreign["id"]}]),
        outcome(
            goals,
            goals=[
                {"goal_id": goals[0]["id"], "value": 4},
                {"goal_id": goals[1]["id"], "gas_level": 1},
            ],
        ),
        outcome(goals, goals=[{"goal_id": goals[0]["id"], "value": 99.5}]),
        outcome(goals, occurred_at=iso(datetime.now(UTC) + timedelta(days=1))),
        outcome(goals, client_external_id="nobody"),
    ]
    statuses = []
    for body in bad_bodies:
        response = await api.http.post("/v1/session-outcomes", json=body, headers=headers)
        statuses.append(response.status_code)
    assert statuses == [422, 422, 422, 422, 404]
    first_error = (
        await api.http.post("/v1/session-outcomes", json=bad_bodies[0], headers=headers)
    ).json()
    assert first_error["errors"][0]["loc"] == ["body", "goals", 1, "goal_id"]
    assert await count(connection, "progress_events") == events_before
    assert await count(connection, "session_outcomes") == 0


async def test_unsafe_input_is_refused_not_500(api: Api, connection: AsyncConnection) -> None:
    _, goals = await world(api)
    headers = await ehr_key(api, "session_outcomes:write")
    for body in (
        outcome(goals, external_id="x'; DROP TABLE goals; --"),
        outcome(goals, note="\u0000"),
        outcome(goals, clinician="x" * 300),
        outcome(goals, goals=[]),
        outcome(goals, goals=[{"goal_id": goals[0]["id"], "achievement_status": "great"}]),
        outcome(goals, extra="field"),
        outcome(goals, client_id=goals[0]["client_id"]),
        {k: v for k, v in outcome(goals).items() if k != "client_external_id"},
    ):
        response = await api.http.post("/v1/session-outcomes", json=body, headers=headers)
        assert response.status_code in (201, 422), response.text
    # The quoted SQL is just an id: stored verbatim, harming nothing.
    assert await count(connection, "goals") == 2
    assert await count(connection, "session_outcomes") == 1


async def test_scope_and_roles(api: Api) -> None:
    _, goals = await world(api)
    reader = await ehr_key(api, "goals:read")
    assert (
        await api.http.post("/v1/session-outcomes", json=outcome(goals), headers=reader)
    ).status_code == 403
    alice = api.actor("clinician", sub="alice")
    assert (await alice.post("/v1/session-outcomes", json=outcome(goals))).status_code == 201
    robin = api.actor("client", sub="robin")
    assert (await robin.post("/v1/session-outcomes", json=outcome(goals))).status_code == 403


async def test_50_concurrent_identical_posts_store_one_outcome(committed_api: Api) -> None:
    _, goals = await world(committed_api)
    headers = await ehr_key(committed_api, "session_outcomes:write")
    body = outcome(goals)
    responses = await asyncio.gather(
        *(
            committed_api.http.post("/v1/session-outcomes", json=body, headers=headers)
            for _ in range(50)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], {r.status_code: r.text for r in responses}
    assert len({r.json()["id"] for r in responses}) == 1
    alice = committed_api.actor("clinician", sub="alice")
    events = (await alice.get(f"/v1/goals/{goals[0]['id']}/progress-events")).json()["items"]
    assert len([e for e in events if e["kind"] == "session_outcome"]) == 1
