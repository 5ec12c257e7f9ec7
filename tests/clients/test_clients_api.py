"""Clients and care teams through HTTP."""

from __future__ import annotations

import uuid

from tests.api import Api


async def test_clinician_creates_client_and_joins_its_care_team(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    response = await alice.post(
        "/v1/clients",
        json={"display_name": "R. M.", "external_id": "MRN-1", "timezone": "Europe/London"},
    )
    assert response.status_code == 201
    client = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/clients/{client['id']}"
    assert uuid.UUID(client["id"]).version == 7
    assert client["timezone"] == "Europe/London"

    team = (await alice.get(f"/v1/clients/{client['id']}/care-team")).json()
    assert [m["clinician_subject"] for m in team["members"]] == ["alice"]


async def test_duplicate_external_id_in_org_is_409_but_other_org_may_reuse_it(api: Api) -> None:
    admin_a = api.actor("admin", org="org-a", sub="root")
    admin_b = api.actor("admin", org="org-b", sub="root")
    await api.client(admin_a, external_id="MRN-7")
    duplicate = await admin_a.post(
        "/v1/clients", json={"display_name": "X", "external_id": "MRN-7"}
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert "external_id" in duplicate.json()["detail"]
    await api.client(admin_b, external_id="MRN-7")


async def test_client_role_cannot_create_clients(api: Api) -> None:
    robin = api.actor("client", sub="robin")
    response = await robin.post("/v1/clients", json={"display_name": "Me"})
    assert response.status_code == 403


async def test_visibility_by_role(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    alice = api.actor("clinician", sub="alice")
    bob = api.actor("clinician", sub="bob")
    robin = api.actor("client", sub="robin")
    mine = await api.client(alice, user_subject="robin")
    other = await api.client(admin, display_name="Someone else")

    assert (await alice.get(f"/v1/clients/{mine['id']}")).status_code == 200
    assert (await bob.get(f"/v1/clients/{mine['id']}")).status_code == 404
    assert (await robin.get(f"/v1/clients/{mine['id']}")).status_code == 200
    assert (await robin.get(f"/v1/clients/{other['id']}")).status_code == 404
    assert (await admin.get(f"/v1/clients/{mine['id']}")).status_code == 200

    listed = {c["id"] for c in (await alice.get("/v1/clients")).json()["items"]}
    assert listed == {mine["id"]}
    assert {c["id"] for c in (await robin.get("/v1/clients")).json()["items"]} == {mine["id"]}
    assert {c["id"] for c in (await admin.get("/v1/clients")).json()["items"]} >= {
        mine["id"],
        other["id"],
    }


async def test_care_team_add_and_remove_controls_access(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    bob = api.actor("clinician", sub="bob")
    client = await api.client(alice)
    url = f"/v1/clients/{client['id']}"

    assert (await bob.get(url)).status_code == 404
    added = await alice.put(f"{url}/care-team/bob")
    assert added.status_code == 201
    assert (await alice.put(f"{url}/care-team/bob")).status_code == 200  # idempotent
    assert (await bob.get(url)).status_code == 200

    assert (await alice.delete(f"{url}/care-team/bob")).status_code == 204
    assert (await bob.get(url)).status_code == 404
    assert (await alice.delete(f"{url}/care-team/bob")).status_code == 404
    # A subject is matched exactly: one that is blank, or padded with spaces, is refused.
    for blank in ("%20", "%20bob", "bob%09"):
        refused = await alice.put(f"{url}/care-team/{blank}")
        assert refused.status_code == 422, blank
    team = (await alice.get(f"{url}/care-team")).json()
    assert [member["clinician_subject"] for member in team["members"]] == ["alice"]


async def test_client_role_cannot_change_care_team(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    robin = api.actor("client", sub="robin")
    client = await api.client(alice, user_subject="robin")
    response = await robin.put(f"/v1/clients/{client['id']}/care-team/mallory")
    assert response.status_code == 403


async def test_patch_client_with_if_match(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice)
    url = f"/v1/clients/{client['id']}"
    ok = await alice.patch(url, json={"timezone": "America/New_York"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["timezone"] == "America/New_York"
    assert ok.json()["version"] == 2
    assert ok.headers["ETag"] == '"2"'

    stale = await alice.patch(url, json={"display_name": "New"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await alice.get(url)).json()["display_name"] == "Test client"


async def test_client_validation(api: Api) -> None:
    alice = api.actor()
    # Not IANA zones: the server's own (a file beside the zones on Debian), and tzdata's
    # placeholder for an unset one.
    for zone in ("Mars/Base", "localtime", "Factory", "posixrules"):
        bad_zone = await alice.post("/v1/clients", json={"display_name": "X", "timezone": zone})
        assert bad_zone.status_code == 422, zone
        assert bad_zone.json()["errors"][0]["loc"] == ["body", "timezone"]
    for zone in ("UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "Pacific/Chatham"):
        created = await alice.post("/v1/clients", json={"display_name": "X", "timezone": zone})
        assert created.status_code == 201, (zone, created.text)
    for blank in ({"display_name": "   "}, {"display_name": "R. M.", "external_id": " MRN-1"}):
        refused = await alice.post("/v1/clients", json=blank)
        assert refused.status_code == 422, blank
    null_name = await alice.post("/v1/clients", json={"display_name": None})
    assert null_name.status_code == 422
    client = await api.client(alice)
    cleared = await alice.patch(f"/v1/clients/{client['id']}", json={"display_name": None})
    assert cleared.status_code == 422


async def test_find_client_by_external_id(api: Api) -> None:
    admin = api.actor("admin")
    wanted = await api.client(admin, external_id="EHR-42")
    await api.client(admin, external_id="EHR-43")
    page = (await admin.get("/v1/clients", params={"external_id": "EHR-42"})).json()
    assert [c["id"] for c in page["items"]] == [wanted["id"]]
