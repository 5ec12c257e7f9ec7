"""Concurrent requests with real commits on separate connections."""

from __future__ import annotations

import asyncio
import random

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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


async def test_a_move_starts_from_where_the_step_is_once_it_holds_the_plans_lock(
    app: FastAPI, committed_api: Api
) -> None:
    """A move reads its step, then waits for the plan's lock (the goal's row). Whatever
    committed meanwhile, it must start from the step as it is then: read before the wait, the
    step moved away (a to 1, b to 0 here) still looked "already at 1", and the move answered
    200 with position 1 while the step stayed at 0."""
    alice = committed_api.actor("clinician", sub="alice")
    client = await committed_api.client(alice)
    goal = await committed_api.goal(alice, client["id"])
    for title in ("a", "b", "c"):
        await alice.post(f"/v1/goals/{goal['id']}/steps", json={"title": title})
    a, b, _ = (await alice.get(f"/v1/goals/{goal['id']}/steps")).json()["items"]
    async with app.state.engine.connect() as other:
        await other.execute(
            text("SELECT 1 FROM goals WHERE id = :goal FOR UPDATE"), {"goal": goal["id"]}
        )
        move = asyncio.create_task(
            alice.patch(f"/v1/steps/{b['id']}", json={"position": 1})  # where b is now
        )
        await _until_a_request_waits_for_a_lock(other)
        swap = "UPDATE action_steps SET position = position + 10 WHERE id IN (:a, :b)"
        await other.execute(text(swap), {"a": a["id"], "b": b["id"]})
        for step, position in ((a, 1), (b, 0)):
            await other.execute(
                text("UPDATE action_steps SET position = :position WHERE id = :id"),
                {"position": position, "id": step["id"]},
            )
        await other.commit()
        moved = await move
    assert moved.status_code == 200, moved.text
    assert moved.json()["position"] == 1
    plan = (await alice.get(f"/v1/goals/{goal['id']}/steps")).json()["items"]
    assert [(step["title"], step["position"]) for step in plan] == [("a", 0), ("b", 1), ("c", 2)]


async def _until_a_request_waits_for_a_lock(connection: AsyncConnection) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        if await connection.scalar(waiting):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the move never waited for the plan's lock")


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
