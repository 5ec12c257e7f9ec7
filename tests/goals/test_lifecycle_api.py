"""The lifecycle table, exercised move by move through the API."""

from __future__ import annotations

from collections import deque

import pytest

from app.goals.lifecycle import TRANSITIONS, LifecycleStatus, allowed_targets
from tests.api import Actor, Api, smart_goal

S = LifecycleStatus

# The contract's table, written out again so the code's table is checked against it.
CONTRACT = {
    S.PROPOSED: {S.PLANNED, S.ACCEPTED, S.ACTIVE, S.REJECTED, S.CANCELLED},
    S.PLANNED: {S.ACCEPTED, S.ACTIVE, S.CANCELLED},
    S.ACCEPTED: {S.ACTIVE, S.ON_HOLD, S.CANCELLED},
    S.ACTIVE: {S.ON_HOLD, S.COMPLETED, S.CANCELLED},
    S.ON_HOLD: {S.ACTIVE, S.CANCELLED},
    S.COMPLETED: {S.ACTIVE},
    S.CANCELLED: set(),
    S.REJECTED: set(),
    S.ENTERED_IN_ERROR: set(),
}
EXPECTED = {
    status: targets | ({S.ENTERED_IN_ERROR} if status is not S.ENTERED_IN_ERROR else set())
    for status, targets in CONTRACT.items()
}
LEGAL = [(a, b) for a, targets in EXPECTED.items() for b in sorted(targets)]
ILLEGAL = [
    (S.PROPOSED, S.COMPLETED),
    (S.PROPOSED, S.ON_HOLD),
    (S.PLANNED, S.PROPOSED),
    (S.ACTIVE, S.PROPOSED),
    (S.ACTIVE, S.ACCEPTED),
    (S.ON_HOLD, S.COMPLETED),
    (S.COMPLETED, S.CANCELLED),
    (S.CANCELLED, S.ACTIVE),
    (S.REJECTED, S.PROPOSED),
    (S.ENTERED_IN_ERROR, S.ACTIVE),
    (S.ENTERED_IN_ERROR, S.ENTERED_IN_ERROR),
    (S.ACTIVE, S.ACTIVE),
]


def path_to(target: LifecycleStatus) -> list[LifecycleStatus]:
    """The shortest sequence of moves from `proposed` to `target`."""
    previous: dict[LifecycleStatus, LifecycleStatus | None] = {S.PROPOSED: None}
    queue = deque([S.PROPOSED])
    while queue:
        status = queue.popleft()
        for nxt in sorted(EXPECTED[status]):
            if nxt not in previous:
                previous[nxt] = status
                queue.append(nxt)
    steps: list[LifecycleStatus] = []
    node: LifecycleStatus | None = target
    while node is not None and node is not S.PROPOSED:
        steps.append(node)
        node = previous[node]
    return list(reversed(steps))


def test_code_table_matches_contract() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.fixture
def alice(api: Api) -> Actor:
    return api.actor("clinician", sub="alice")


async def goal_in(api: Api, alice: Actor, status: LifecycleStatus) -> str:
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    for step in path_to(status):
        response = await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": step})
        assert response.status_code == 200, response.text
    return str(goal["id"])


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
async def test_every_legal_move(
    api: Api, alice: Actor, source: LifecycleStatus, target: LifecycleStatus
) -> None:
    goal_id = await goal_in(api, alice, source)
    response = await alice.post(
        f"/v1/goals/{goal_id}/transition", json={"to": target, "reason": "agreed in session"}
    )
    assert response.status_code == 200, response.text
    goal = response.json()
    assert goal["lifecycle_status"] == target
    assert goal["status_reason"] == "agreed in session"
    revision = (await alice.get(f"/v1/goals/{goal_id}/revisions")).json()["items"][-1]
    assert revision["action"] == "transitioned"
    assert revision["reason"] == "agreed in session"
    status_change = next(c for c in revision["changes"] if c["field"] == "lifecycle_status")
    assert (status_change["before"], status_change["after"]) == (source, target)


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
async def test_illegal_moves_are_409_naming_allowed_targets(
    api: Api, alice: Actor, source: LifecycleStatus, target: LifecycleStatus
) -> None:
    goal_id = await goal_in(api, alice, source)
    response = await alice.post(f"/v1/goals/{goal_id}/transition", json={"to": target})
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == source
    assert body["allowed"] == [s.value for s in allowed_targets(source)]
    assert (await alice.get(f"/v1/goals/{goal_id}")).json()["lifecycle_status"] == source


async def test_activation_requires_a_passing_smart_report(api: Api, alice: Actor) -> None:
    client = await api.client(alice)
    draft = smart_goal()
    del draft["measure"]
    goal = (await alice.post(f"/v1/clients/{client['id']}/goals", json=draft)).json()
    response = await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": "active"})
    assert response.status_code == 422
    body = response.json()
    assert body["smart"]["passed"] is False
    assert body["smart"]["criteria"]["measurable"]["status"] == "fail"
    assert (await alice.get(f"/v1/goals/{goal['id']}")).json()["lifecycle_status"] == "proposed"


async def test_a_transition_with_a_stale_if_match_is_412_and_changes_nothing(
    api: Api, alice: Actor
) -> None:
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    read = await alice.get(url)
    assert (await alice.patch(url, json={"priority": "low"})).status_code == 200
    stale = await alice.post(
        f"{url}/transition", json={"to": "planned"}, headers={"If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 412, stale.text
    assert (await alice.get(url)).json()["lifecycle_status"] == "proposed"
    current = (await alice.get(url)).headers["ETag"]
    moved = await alice.post(
        f"{url}/transition", json={"to": "planned"}, headers={"If-Match": current}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["lifecycle_status"] == "planned"


async def test_clients_cannot_transition(api: Api, alice: Actor) -> None:
    client = await api.client(alice, user_subject="robin")
    goal = await api.goal(alice, client["id"])
    robin = api.actor("client", sub="robin")
    response = await robin.post(f"/v1/goals/{goal['id']}/transition", json={"to": "active"})
    assert response.status_code == 403


async def test_closing_the_focus_goal_clears_focus(api: Api, alice: Actor) -> None:
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"], is_focus=True)
    response = await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": "cancelled"})
    assert response.json()["is_focus"] is False


async def test_unknown_target_is_422(api: Api, alice: Actor) -> None:
    goal_id = await goal_in(api, alice, S.PROPOSED)
    response = await alice.post(f"/v1/goals/{goal_id}/transition", json={"to": "finished"})
    assert response.status_code == 422


@pytest.mark.parametrize("closing", ["cancelled", "entered_in_error"])
async def test_a_closed_goal_and_its_plan_take_no_more_edits(api: Api, closing: str) -> None:
    """Closed for good (no move leads out of it): no edit of the goal nor of its plan, as no
    progress; each refused with 409, and nothing changed."""
    alice = api.actor("clinician", sub="alice")
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    steps = f"/v1/goals/{goal['id']}/steps"
    step = (await alice.post(steps, json={"title": "Walk"})).json()
    closed = await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": closing})
    assert closed.status_code == 200, closed.text
    before = [
        (await alice.get(url)).json()
        for url in (f"/v1/goals/{goal['id']}", steps, f"/v1/steps/{step['id']}")
    ]
    refused = [
        await alice.patch(f"/v1/goals/{goal['id']}", json={"title": "Walk to work daily"}),
        await alice.patch(f"/v1/goals/{goal['id']}", json={"achievement_status": "achieved"}),
        await alice.post(steps, json={"title": "Run"}),
        await alice.patch(f"/v1/steps/{step['id']}", json={"title": "Jog"}),
        await alice.patch(f"/v1/steps/{step['id']}", json={"status": "done"}),
        await alice.delete(f"/v1/steps/{step['id']}"),
    ]
    assert [r.status_code for r in refused] == [409] * len(refused)
    assert all(closing in r.json()["detail"] for r in refused)
    after = [
        (await alice.get(url)).json()
        for url in (f"/v1/goals/{goal['id']}", steps, f"/v1/steps/{step['id']}")
    ]
    assert after == before
