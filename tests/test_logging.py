"""Logs carry ids and a request id on every line, never PHI, tokens or request bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.api import Api, smart_goal

CANARIES = {
    "display_name": "Canary-Name-Quokka-9901",
    "external_id": "Canary-MRN-Okapi-7702",
    "title": "Walk the Canary-Title-Axolotl-5503 route every morning",
    "description": "Canary-Description-Narwhal-6604 before breakfast, with a friend",
    "relevance": "Canary-Relevance-Pangolin-3305 matters because mornings are the hardest",
    "reason": "Canary-Reason-Tapir-1106",
    "note": "Canary-Note-Kakapo-8807",
    "step": "Canary-Step-Quoll-2208",
    "value": 7.123456789,
    "key_name": "Canary-KeyName-Dugong-4409",
    "encounter": "Canary-Encounter-Numbat-5510",
}


@pytest.mark.usefixtures("json_logs_at_info")
async def test_no_phi_or_tokens_in_logs_and_request_id_everywhere(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = api.actor("clinician", sub="alice")
    capsys.readouterr()
    client = await api.client(
        alice, display_name=CANARIES["display_name"], external_id=CANARIES["external_id"]
    )
    goal = await api.goal(
        alice,
        client["id"],
        title=CANARIES["title"],
        description=CANARIES["description"],
        relevance=CANARIES["relevance"],
    )
    url = f"/v1/goals/{goal['id']}"
    await alice.post(f"{url}/transition", json={"to": "active", "reason": CANARIES["reason"]})
    await alice.patch(url, json={"description": CANARIES["description"] + " again"})
    await alice.get(f"{url}/revisions")
    await alice.get("/v1/clients", params={"external_id": CANARIES["external_id"]})
    await alice.post(f"/v1/clients/{client['id']}/goals", json=smart_goal(category="nope"))
    await alice.post("/v1/goals/validate", json={"title": CANARIES["title"]})
    await api.http.get("/v1/clients", headers={"Authorization": "Bearer " + alice.token[:-3]})
    step = (await alice.post(f"{url}/steps", json={"title": CANARIES["step"]})).json()
    await alice.patch(f"/v1/steps/{step['id']}", json={"status": "done"})
    await alice.post(
        f"{url}/progress-events",
        json={"kind": "note", "note": CANARIES["note"]},
        headers={"Idempotency-Key": CANARIES["note"]},
    )
    measure = {**smart_goal()["measure"], "kind": "numeric"}
    numeric = await api.goal(alice, client["id"], measure=measure)
    event = await alice.post(
        f"/v1/goals/{numeric['id']}/progress-events",
        json={"kind": "measurement", "value": CANARIES["value"]},
    )
    await alice.post(
        f"/v1/progress-events/{event.json()['id']}/retract", json={"reason": CANARIES["reason"]}
    )
    await alice.get(f"{url}/progress")
    await alice.get(f"/v1/clients/{client['id']}/summary")
    admin = api.actor("admin", sub="root")
    key = (
        await admin.post(
            "/v1/api-keys",
            json={"name": CANARIES["key_name"], "scopes": ["session_outcomes:write"]},
        )
    ).json()["key"]
    await api.http.post(
        "/v1/session-outcomes",
        json={
            "external_id": CANARIES["encounter"],
            "client_id": client["id"],
            "occurred_at": datetime.now(UTC).isoformat(),
            "note": CANARIES["note"],
            "goals": [{"goal_id": goal["id"], "note": CANARIES["note"]}],
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    await admin.get("/v1/audit-events")

    logged = capsys.readouterr().out
    lines = [line for line in logged.splitlines() if line.strip()]
    assert len(lines) >= 9, logged  # one access line per request at least
    for canary in CANARIES.values():
        assert str(canary) not in logged
    assert key not in logged
    assert alice.token not in logged
    assert alice.token[:-3] not in logged
    records = [json.loads(line) for line in lines]
    assert all(record.get("request_id") for record in records), logged
    access = [record for record in records if record["event"] == "request"]
    assert len(access) == 20  # one access line for every request above
    # Every call did its work (so its logging path ran), but the two that are meant to fail.
    failures = sorted(
        (record["route"], record["status"]) for record in access if record["status"] >= 400
    )
    assert failures == [("/v1/clients", 401), ("/v1/clients/{client_id}/goals", 422)]
    assert {"method", "route", "status", "duration_ms", "org_id", "caller"} <= set(access[1])
    assert "/v1/goals/{goal_id}/transition" in {record["route"] for record in access}
