"""Goals through HTTP: create, read, list, change, focus, revisions, validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import Actor, Api, smart_goal, today_plus


@pytest.fixture
def alice(api: Api) -> Actor:
    return api.actor("clinician", sub="alice")


@pytest.fixture
async def client_id(api: Api, alice: Actor) -> str:
    return str((await api.client(alice, user_subject="robin"))["id"])


async def test_create_goal_starts_proposed_with_smart_report(alice: Actor, client_id: str) -> None:
    response = await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())
    assert response.status_code == 201
    goal = response.json()
    assert goal["lifecycle_status"] == "proposed"
    assert goal["client_id"] == client_id
    assert goal["expressed_by"] == "clinician"
    assert goal["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/goals/{goal['id']}"
    assert goal["smart"]["passed"] is True
    assert set(goal["smart"]["criteria"]) == {
        "specific",
        "measurable",
        "achievable",
        "relevant",
        "time_bound",
    }
    fetched = await alice.get(f"/v1/goals/{goal['id']}")
    assert fetched.json() == goal


async def test_goal_that_is_not_smart_is_still_saved_as_a_proposal(
    alice: Actor, client_id: str
) -> None:
    response = await alice.post(
        f"/v1/clients/{client_id}/goals", json={"title": "be happier", "category": "other"}
    )
    assert response.status_code == 201
    smart = response.json()["smart"]
    assert smart["passed"] is False
    assert smart["criteria"]["specific"]["status"] == "fail"
    assert smart["criteria"]["specific"]["suggestions"]


async def test_client_proposes_own_goal_as_client(api: Api, client_id: str) -> None:
    robin = api.actor("client", sub="robin")
    url = f"/v1/clients/{client_id}/goals"
    response = await robin.post(url, json=smart_goal(expressed_by=None))
    assert response.status_code == 201
    assert response.json()["expressed_by"] == "client"
    assert response.json()["lifecycle_status"] == "proposed"
    # Said otherwise, it is refused (as a PATCH of it is), never quietly changed.
    posing = await robin.post(url, json=smart_goal(expressed_by="clinician"))
    assert posing.status_code == 403
    assert "expressed_by" in posing.json()["detail"]
    assert (await robin.post(url, json=smart_goal(expressed_by="client"))).status_code == 201


async def test_client_cannot_create_goal_for_someone_else(api: Api, alice: Actor) -> None:
    other = await api.client(alice, user_subject="sam")
    robin = api.actor("client", sub="robin")
    response = await robin.post(f"/v1/clients/{other['id']}/goals", json=smart_goal())
    assert response.status_code == 404


async def test_patch_records_revision_and_bumps_version(alice: Actor, client_id: str) -> None:
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    url = f"/v1/goals/{goal['id']}"
    response = await alice.patch(
        url, json={"priority": "low", "target_date": today_plus(120)}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["priority"] == "low"
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'

    revisions = (await alice.get(f"{url}/revisions")).json()["items"]
    assert [r["action"] for r in revisions] == ["created", "updated"]
    changes = {c["field"]: c for c in revisions[1]["changes"]}
    assert set(changes) == {"priority", "target_date"}
    assert changes["priority"]["before"] == "high"
    assert changes["priority"]["after"] == "low"
    assert revisions[1]["actor_subject"] == "alice"
    assert revisions[1]["actor_role"] == "clinician"


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    alice: Actor, client_id: str
) -> None:
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    url = f"/v1/goals/{goal['id']}"
    assert (await alice.patch(url, json={"priority": "low"})).status_code == 200
    stale = await alice.patch(url, json={"priority": "medium"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert (await alice.get(url)).json()["priority"] == "low"
    garbage = await alice.patch(url, json={"priority": "medium"}, headers={"If-Match": "abc"})
    assert garbage.status_code == 400  # not an entity-tag at all
    assert garbage.json()["errors"][0]["msg"].startswith("must be the ETag a response gave")
    for not_ours in ('"abc"', '"1", "3"', 'W/"1"'):  # well-formed, and no tag names version 2
        refused = await alice.patch(
            url, json={"priority": "medium"}, headers={"If-Match": not_ours}
        )
        assert refused.status_code == 412, not_ours
    listed = await alice.patch(url, json={"priority": "high"}, headers={"If-Match": '"1", "2"'})
    assert listed.status_code == 200  # a list matches if any of its tags does
    assert listed.headers["ETag"] == '"3"'


async def test_changing_what_the_derived_status_depends_on_derives_it_again(
    api: Api, alice: Actor, client_id: str
) -> None:
    """The stored status is the one the goal's progress summary derives, after an edit of the
    measure or the dates as after progress: never `achieved` against a target since raised."""
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    url = f"/v1/goals/{goal['id']}"
    recorded = await alice.post(f"{url}/progress-events", json={"kind": "measurement", "value": 5})
    assert recorded.status_code == 201, recorded.text
    assert (await alice.get(url)).json()["achievement_status"] == "achieved"
    raised = await alice.patch(url, json={"measure": {**goal["measure"], "target": 9}})
    assert raised.status_code == 200, raised.text
    derived = (await alice.get(f"{url}/progress")).json()["achievement_status"]
    assert derived != "achieved"
    assert raised.json()["achievement_status"] == derived
    assert (await alice.get(url)).json()["achievement_status"] == derived
    lowered = await alice.patch(url, json={"measure": {**goal["measure"], "target": 5}})
    assert lowered.json()["achievement_status"] == "achieved"


async def test_patch_without_change_keeps_version_and_adds_no_revision(
    alice: Actor, client_id: str
) -> None:
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    url = f"/v1/goals/{goal['id']}"
    response = await alice.patch(url, json={"priority": goal["priority"]})
    assert response.json()["version"] == 1
    assert len((await alice.get(f"{url}/revisions")).json()["items"]) == 1


async def test_active_goal_must_stay_smart(alice: Actor, client_id: str) -> None:
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    url = f"/v1/goals/{goal['id']}"
    assert (await alice.post(f"{url}/transition", json={"to": "active"})).status_code == 200
    response = await alice.patch(url, json={"target_date": today_plus(-10)})
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("smart-validation-failed")
    assert body["smart"]["criteria"]["time_bound"]["status"] == "fail"
    assert (await alice.get(url)).json()["target_date"] == goal["target_date"]


async def test_only_one_focus_goal_per_client_and_switch_is_recorded(
    alice: Actor, client_id: str
) -> None:
    first = (
        await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal(is_focus=True))
    ).json()
    second = (
        await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal(is_focus=True))
    ).json()
    assert second["is_focus"] is True
    first_now = (await alice.get(f"/v1/goals/{first['id']}")).json()
    assert first_now["is_focus"] is False
    revisions = (await alice.get(f"/v1/goals/{first['id']}/revisions")).json()["items"]
    assert revisions[-1]["changes"] == [{"field": "is_focus", "before": True, "after": False}]

    moved = await alice.patch(f"/v1/goals/{first['id']}", json={"is_focus": True})
    assert moved.json()["is_focus"] is True
    assert (await alice.get(f"/v1/goals/{second['id']}")).json()["is_focus"] is False


async def test_client_may_edit_own_proposal_only(api: Api, alice: Actor, client_id: str) -> None:
    robin = api.actor("client", sub="robin")
    own = (await robin.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    assert (
        await robin.patch(f"/v1/goals/{own['id']}", json={"priority": "low"})
    ).status_code == 200
    forbidden = await robin.patch(f"/v1/goals/{own['id']}", json={"achievement_status": "achieved"})
    assert forbidden.status_code == 403

    theirs = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    response = await robin.patch(f"/v1/goals/{theirs['id']}", json={"priority": "low"})
    assert response.status_code == 403


async def test_clinician_sets_achievement_status(alice: Actor, client_id: str) -> None:
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    response = await alice.patch(
        f"/v1/goals/{goal['id']}", json={"achievement_status": "improving"}
    )
    assert response.status_code == 200
    assert response.json()["achievement_status"] == "improving"


async def test_list_filters(alice: Actor, client_id: str, api: Api) -> None:
    sleep = (
        await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal(category="sleep"))
    ).json()
    other = (await alice.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    await alice.post(f"/v1/goals/{other['id']}/transition", json={"to": "active"})
    second_client = await api.client(alice)
    elsewhere = await api.goal(alice, second_client["id"])

    def ids(page: Any) -> list[str]:
        return [g["id"] for g in page.json()["items"]]

    assert ids(await alice.get("/v1/goals")) == [sleep["id"], other["id"], elsewhere["id"]]
    assert ids(await alice.get("/v1/goals", params={"client_id": client_id})) == [
        sleep["id"],
        other["id"],
    ]
    assert ids(await alice.get(f"/v1/clients/{client_id}/goals")) == [sleep["id"], other["id"]]
    assert ids(await alice.get("/v1/goals", params={"category": "sleep"})) == [sleep["id"]]
    assert ids(await alice.get("/v1/goals", params={"lifecycle_status": "active"})) == [other["id"]]
    both = await alice.get(
        "/v1/goals", params=[("lifecycle_status", "active"), ("lifecycle_status", "proposed")]
    )
    assert len(ids(both)) == 3
    later = await alice.get("/v1/goals", params={"updated_since": "2999-01-01T00:00:00Z"})
    assert ids(later) == []
    bad = await alice.get("/v1/goals", params={"lifecycle_status": "finished"})
    assert bad.status_code == 422


async def test_unknown_fields_and_bounds_are_rejected(alice: Actor, client_id: str) -> None:
    url = f"/v1/clients/{client_id}/goals"
    typo = await alice.post(url, json=smart_goal(titel="typo"))
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["loc"] == ["body", "titel"]
    for body in (
        smart_goal(title="x" * 201),
        smart_goal(lifecycle_status="active"),
        smart_goal(org_id="org-b"),
        smart_goal(gas_levels={"0": "as expected"}),
        smart_goal(gas_weight=0),
        smart_goal(title="nul\u0000byte"),
        smart_goal(measure={**smart_goal()["measure"], "baseline": "NaN"}),
    ):
        response = await alice.post(url, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    listed = (await alice.get(url)).json()["items"]
    assert listed == []


async def test_gas_levels_read_from_minus_two_to_two_wherever_they_are_read(
    api: Api, alice: Actor, client_id: str
) -> None:
    """jsonb keeps an object's keys in an order of its own ("0", "1", "2", "-1", "-2");
    clients show the scale in the order they get it."""
    levels = {"2": "e", "0": "c", "-2": "a", "1": "d", "-1": "b"}
    goal = await api.goal(alice, client_id, gas_levels=levels)
    reads = [
        goal,
        (await alice.get(f"/v1/goals/{goal['id']}")).json(),
        (await alice.get("/v1/goals", params={"client_id": client_id})).json()["items"][0],
    ]
    for read in reads:
        assert list(read["gas_levels"].items()) == sorted(levels.items(), key=lambda i: int(i[0]))


async def test_validate_is_a_dry_run(alice: Actor, client_id: str) -> None:
    report = await alice.post("/v1/goals/validate", json={"title": "be happier"})
    assert report.status_code == 200
    body = report.json()
    assert body["passed"] is False
    assert body["criteria"]["specific"]["status"] == "fail"
    good = (await alice.post("/v1/goals/validate", json=smart_goal())).json()
    assert good == {**good, "passed": True, "score": 5}
    assert (await alice.get("/v1/goals")).json()["items"] == []


async def test_focus_is_for_open_goals_and_chosen_by_clinicians(
    api: Api, alice: Actor, client_id: str
) -> None:
    open_goal = await api.goal(alice, client_id, is_focus=True)
    closed = await api.goal(alice, client_id)
    await alice.post(f"/v1/goals/{closed['id']}/transition", json={"to": "cancelled"})
    refused = await alice.patch(f"/v1/goals/{closed['id']}", json={"is_focus": True})
    assert refused.status_code == 409
    assert (await alice.get(f"/v1/goals/{open_goal['id']}")).json()["is_focus"] is True
    robin = api.actor("client", sub="robin")
    proposal = await robin.post(f"/v1/clients/{client_id}/goals", json=smart_goal(is_focus=True))
    assert proposal.status_code == 403
    own = (await robin.post(f"/v1/clients/{client_id}/goals", json=smart_goal())).json()
    assert (await robin.patch(f"/v1/goals/{own['id']}", json={"is_focus": True})).status_code == 403
