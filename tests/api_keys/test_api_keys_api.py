"""API keys through HTTP: shown once, stored as a hash, scoped, revocable at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api_keys.secrets import generate_key, is_well_formed
from tests.api import Actor, Api


async def issue(admin: Actor, *scopes: str) -> dict[str, Any]:
    response = await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_key_is_shown_once_and_stored_only_as_a_hash(
    api: Api, connection: AsyncConnection
) -> None:
    admin = api.actor("admin", sub="root")
    created = await issue(admin, "goals:read")
    key = created["key"]
    assert key.startswith("tgk_")
    assert is_well_formed(key)
    assert created["key_prefix"] == key[:10]
    listed = (await admin.get("/v1/api-keys")).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    dump = (await connection.execute(text("SELECT row_to_json(k)::text FROM api_keys k"))).scalars()
    assert all(key not in row and key[4:] not in row for row in dump)


async def test_a_replayed_issue_makes_no_second_key_and_the_key_is_never_stored(
    api: Api, connection: AsyncConnection
) -> None:
    """Idempotency keeps each POST's response for replays: for a new API key, without the
    key itself, which would otherwise sit in the database for a day, usable by anyone who
    reads it (a backup, a replica, a support query)."""
    admin = api.actor("admin", sub="root")
    body = {"name": "EHR", "scopes": ["goals:read"]}
    headers = {"Idempotency-Key": "issue-ehr-key"}
    first = await admin.post("/v1/api-keys", json=body, headers=headers)
    assert first.status_code == 201, first.text
    key = first.json()["key"]
    replay = await admin.post("/v1/api-keys", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == {**first.json(), "key": None}
    assert [k["id"] for k in (await admin.get("/v1/api-keys")).json()["items"]] == [
        first.json()["id"]
    ]
    stored = await connection.execute(
        text("SELECT convert_from(response_body, 'UTF8') FROM idempotency_keys")
    )
    assert [row for row in stored.scalars() if key in row or key[4:] in row] == []
    assert (await api.http.get("/v1/goals", headers=bearer(key))).status_code == 200
    gone = await admin.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "k-2"})
    assert (await admin.delete(f"/v1/api-keys/{gone.json()['id']}")).status_code == 204
    again = await admin.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "k-2"})
    assert again.status_code == 404  # the key it made is revoked: gone, as at its address


async def test_scopes_decide_what_an_integration_may_call(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    client = await api.client(admin)
    goal = await api.goal(admin, client["id"])
    reader = (await issue(admin, "goals:read"))["key"]
    assert (
        await api.http.get(f"/v1/goals/{goal['id']}", headers=bearer(reader))
    ).status_code == 200
    assert (await api.http.get("/v1/goals", headers=bearer(reader))).json()["items"]
    no_scope = await api.http.get(f"/v1/clients/{client['id']}", headers=bearer(reader))
    assert no_scope.status_code == 403
    assert no_scope.json()["required_scope"] == "clients:read"
    write = await api.http.patch(
        f"/v1/goals/{goal['id']}", json={"priority": "low"}, headers=bearer(reader)
    )
    assert write.status_code == 403
    keys = await api.http.get("/v1/api-keys", headers=bearer(reader))
    assert keys.status_code == 403


async def test_a_key_is_read_at_its_location_without_the_key_until_revoked(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    response = await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": ["goals:read"]})
    created = response.json()
    assert response.headers["Location"] == f"/v1/api-keys/{created['id']}"
    read = await admin.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.json() == {name: value for name, value in created.items() if name != "key"}
    assert (await api.http.get("/v1/goals", headers=bearer(created["key"]))).status_code == 200
    assert (await admin.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    assert (await admin.get(f"/v1/api-keys/{created['id']}")).status_code == 404
    (listed,) = (await admin.get("/v1/api-keys")).json()["items"]
    assert listed["revoked_at"] is not None
    assert listed["last_used_at"] is not None


async def test_revoked_key_is_401_at_once_and_last_used_is_kept(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    created = await issue(admin, "goals:read")
    assert (await api.http.get("/v1/goals", headers=bearer(created["key"]))).status_code == 200
    used = (await admin.get("/v1/api-keys")).json()["items"][0]
    assert used["last_used_at"] is not None
    assert (await admin.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    response = await api.http.get("/v1/goals", headers=bearer(created["key"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await admin.delete(f"/v1/api-keys/{created['id']}")).status_code == 204


async def test_bad_keys_are_401(api: Api) -> None:
    for key in ("tgk_short", generate_key(), generate_key()[:-1] + "x", "tgk_" + "A" * 38):
        assert (await api.http.get("/v1/goals", headers=bearer(key))).status_code == 401, key


async def test_only_admins_manage_keys_and_other_orgs_are_404(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    created = await issue(admin, "goals:read")
    alice = api.actor("clinician", sub="alice")
    assert (
        await alice.post("/v1/api-keys", json={"name": "x", "scopes": ["goals:read"]})
    ).status_code == 403
    assert (await alice.get("/v1/api-keys")).status_code == 403
    assert (await alice.get(f"/v1/api-keys/{created['id']}")).status_code == 403
    other = api.actor("admin", org="org-b", sub="root")
    assert (await other.delete(f"/v1/api-keys/{created['id']}")).status_code == 404
    not_found = await other.get(f"/v1/api-keys/{created['id']}")
    assert not_found.status_code == 404
    assert not_found.json()["detail"] == "No API key with this id in your organization."
    assert (await other.get("/v1/api-keys")).json()["items"] == []
    bad = await admin.post("/v1/api-keys", json={"name": "x", "scopes": ["everything"]})
    assert bad.status_code == 422


async def test_an_org_a_key_cannot_see_org_b(api: Api) -> None:
    admin_b = api.actor("admin", org="org-b", sub="root")
    client_b = await api.client(admin_b)
    goal_b = await api.goal(admin_b, client_b["id"])
    key_a = (await issue(api.actor("admin", sub="root"), "goals:read"))["key"]
    response = await api.http.get(f"/v1/goals/{goal_b['id']}", headers=bearer(key_a))
    assert response.status_code == 404
