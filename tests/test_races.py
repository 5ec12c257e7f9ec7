"""Concurrent requests with real commits on separate connections."""

from __future__ import annotations

import asyncio
import random

from tests.api import Api


async def test_concurrent_step_moves_keep_positions_dense_and_unique(committed_api: Api) -> None:
    alice = committed_api.actor("clinician", sub="alice")
    client = await committed_api.client(alice)
    goal = await committed_api.goal(alice, client["id"])
    steps = []
    for index in range(6):
        response = await alice.post(f"/v1/goals/{goal['id']}/steps", json={"title": f"s{index}"})
        steps.append(response.json()["id"])

    rng = random.Random(7)  # noqa: S311 - picks test moves, nothing secret
    moves = [
        alice.patch(f"/v1/steps/{rng.choice(steps)}", json={"position": rng.randrange(6)})
        for _ in range(12)
    ]
    results = await asyncio.gather(*moves)
    assert [r.status_code for r in results] == [200] * 12, [r.text for r in results]

    plan = (await alice.get(f"/v1/goals/{goal['id']}/steps")).json()["items"]
    assert sorted(step["position"] for step in plan) == list(range(6))
    assert sorted(step["id"] for step in plan) == sorted(steps)


async def test_concurrent_moves_of_one_step_each_start_from_where_it_is(
    committed_api: Api,
) -> None:
    """Each move reads the step again once it holds the plan's lock. A move that started from
    the position read before it waited skipped itself as "already there" when the other move
    had taken the step away meanwhile, and answered 200 with a position the step was not at."""
    alice = committed_api.actor("clinician", sub="alice")
    client = await committed_api.client(alice)
    goal = await committed_api.goal(alice, client["id"])
    for title in ("a", "b", "c"):
        await alice.post(f"/v1/goals/{goal['id']}/steps", json={"title": title})
    steps = (await alice.get(f"/v1/goals/{goal['id']}/steps")).json()["items"]
    url = f"/v1/steps/{steps[1]['id']}"  # at position 1
    answers = await asyncio.gather(
        alice.patch(url, json={"position": 0}), alice.patch(url, json={"position": 1})
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    final = (await alice.get(url)).json()
    last = [a.json() for a in answers if a.json()["version"] == final["version"]]
    assert last == [final]  # the move that committed last said where the step is


async def test_two_clinicians_patch_the_same_version_one_wins(committed_api: Api) -> None:
    alice = committed_api.actor("clinician", sub="alice")
    admin = committed_api.actor("admin", sub="root")
    client = await committed_api.client(alice)
    goal = await committed_api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    first, second = await asyncio.gather(
        alice.patch(url, json={"priority": "low"}, headers={"If-Match": '"1"'}),
        admin.patch(url, json={"priority": "medium"}, headers={"If-Match": '"1"'}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    final = (await alice.get(url)).json()
    assert final["version"] == 2
    revisions = (await alice.get(f"{url}/revisions")).json()["items"]
    assert [r["action"] for r in revisions] == ["created", "updated"]


async def test_concurrent_focus_switches_leave_one_focus_goal(committed_api: Api) -> None:
    alice = committed_api.actor("clinician", sub="alice")
    client = await committed_api.client(alice)
    goals = [(await committed_api.goal(alice, client["id"]))["id"] for _ in range(5)]
    results = await asyncio.gather(
        *(alice.patch(f"/v1/goals/{goal_id}", json={"is_focus": True}) for goal_id in goals)
    )
    assert [r.status_code for r in results] == [200] * 5, [r.text for r in results]
    listed = (await alice.get(f"/v1/clients/{client['id']}/goals")).json()["items"]
    assert sum(goal["is_focus"] for goal in listed) == 1
