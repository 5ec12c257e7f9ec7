"""Action-plan steps through HTTP: order, moves, completion, who may do what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.pagination import encode_cursor
from tests.api import Actor, Api


@pytest.fixture
def alice(api: Api) -> Actor:
    return api.actor("clinician", sub="alice")


@pytest.fixture
async def goal(api: Api, alice: Actor) -> dict[str, Any]:
    client = await api.client(alice, user_subject="robin")
    return await api.goal(alice, client["id"])


async def add_steps(alice: Actor, goal_id: str, *titles: str) -> list[dict[str, Any]]:
    steps = []
    for title in titles:
        response = await alice.post(f"/v1/goals/{goal_id}/steps", json={"title": title})
        assert response.status_code == 201, response.text
        steps.append(response.json())
    return steps


async def plan(alice: Actor, goal_id: str) -> list[tuple[str, int]]:
    items = (await alice.get(f"/v1/goals/{goal_id}/steps")).json()["items"]
    return [(step["title"], step["position"]) for step in items]


async def test_new_steps_go_last_and_positions_are_dense(
    alice: Actor, goal: dict[str, Any]
) -> None:
    created = await add_steps(alice, goal["id"], "a", "b", "c")
    assert [s["position"] for s in created] == [0, 1, 2]
    assert created[0]["status"] == "todo"
    inserted = await alice.post(
        f"/v1/goals/{goal['id']}/steps", json={"title": "first", "position": 0}
    )
    assert inserted.json()["position"] == 0
    assert await plan(alice, goal["id"]) == [("first", 0), ("a", 1), ("b", 2), ("c", 3)]


async def test_moving_a_step_renumbers_the_rest(alice: Actor, goal: dict[str, Any]) -> None:
    a, _b, _c, d = await add_steps(alice, goal["id"], "a", "b", "c", "d")
    moved = await alice.patch(f"/v1/steps/{d['id']}", json={"position": 1})
    assert moved.status_code == 200
    assert moved.json()["position"] == 1
    assert await plan(alice, goal["id"]) == [("a", 0), ("d", 1), ("b", 2), ("c", 3)]
    await alice.patch(f"/v1/steps/{a['id']}", json={"position": 99})
    assert await plan(alice, goal["id"]) == [("d", 0), ("b", 1), ("c", 2), ("a", 3)]


async def test_delete_closes_the_gap_and_hides_the_step(alice: Actor, goal: dict[str, Any]) -> None:
    _a, b, _c = await add_steps(alice, goal["id"], "a", "b", "c")
    assert (await alice.delete(f"/v1/steps/{b['id']}")).status_code == 204
    assert await plan(alice, goal["id"]) == [("a", 0), ("c", 1)]
    assert (await alice.get(f"/v1/steps/{b['id']}")).status_code == 404
    assert (await alice.delete(f"/v1/steps/{b['id']}")).status_code == 204  # idempotent
    assert await plan(alice, goal["id"]) == [("a", 0), ("c", 1)]


async def test_done_sets_completed_at_and_records_progress(
    api: Api, alice: Actor, goal: dict[str, Any]
) -> None:
    (step,) = await add_steps(alice, goal["id"], "Set a reminder")
    robin = api.actor("client", sub="robin")
    done = await robin.patch(f"/v1/steps/{step['id']}", json={"status": "done"})
    assert done.status_code == 200, done.text
    assert done.json()["completed_at"] is not None
    events = (await alice.get(f"/v1/goals/{goal['id']}/progress-events")).json()["items"]
    assert [(e["kind"], e["step_id"], e["source"]) for e in events] == [
        ("step_completed", step["id"], "client")
    ]
    reopened = await robin.patch(f"/v1/steps/{step['id']}", json={"status": "in_progress"})
    assert reopened.json()["completed_at"] is None
    summary = (await alice.get(f"/v1/goals/{goal['id']}/progress")).json()
    assert summary["steps"] == {"total": 1, "done": 0, "completion_rate": 0.0}


async def test_clients_may_only_change_status(api: Api, alice: Actor, goal: dict[str, Any]) -> None:
    (step,) = await add_steps(alice, goal["id"], "a")
    robin = api.actor("client", sub="robin")
    assert (await robin.patch(f"/v1/steps/{step['id']}", json={"title": "x"})).status_code == 403
    assert (
        await robin.post(f"/v1/goals/{goal['id']}/steps", json={"title": "x"})
    ).status_code == 403
    assert (await robin.delete(f"/v1/steps/{step['id']}")).status_code == 403
    assert (await robin.get(f"/v1/steps/{step['id']}")).status_code == 200


async def test_outsiders_get_404(api: Api, alice: Actor, goal: dict[str, Any]) -> None:
    (step,) = await add_steps(alice, goal["id"], "a")
    for outsider in (
        api.actor("clinician", sub="bob"),
        api.actor("admin", org="org-b", sub="root"),
        api.actor("client", sub="sam"),
    ):
        assert (await outsider.get(f"/v1/steps/{step['id']}")).status_code == 404
        assert (await outsider.get(f"/v1/goals/{goal['id']}/steps")).status_code == 404
        response = await outsider.patch(f"/v1/steps/{step['id']}", json={"status": "done"})
        assert response.status_code in (403, 404)


async def test_if_match_on_steps(alice: Actor, goal: dict[str, Any]) -> None:
    (step,) = await add_steps(alice, goal["id"], "a")
    url = f"/v1/steps/{step['id']}"
    assert (
        await alice.patch(url, json={"title": "b"}, headers={"If-Match": '"1"'})
    ).status_code == 200
    stale = await alice.patch(url, json={"title": "c"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    # DELETE honours it too: a plan edited since is not removed from under its editor.
    assert (await alice.delete(url, headers={"If-Match": '"1"'})).status_code == 412
    assert (await alice.get(url)).status_code == 200
    deleted = await alice.delete(url, headers={"If-Match": '"2"'})
    assert deleted.status_code == 204
    assert (deleted.content, deleted.headers.get("content-type")) == (b"", None)  # no body at all
    assert (await alice.get(url)).status_code == 404


async def test_a_move_is_an_edit_of_the_step_and_honours_if_match(
    alice: Actor, goal: dict[str, Any]
) -> None:
    """Moving a step changes it (a new version, ETag and `updated_at`), so a stale If-Match
    is refused like for any other edit; the steps renumbered around it keep their versions."""
    a, b, c = await add_steps(alice, goal["id"], "a", "b", "c")
    url = f"/v1/steps/{c['id']}"
    moved = await alice.patch(url, json={"position": 0}, headers={"If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["version"], moved.headers["ETag"]) == (2, '"2"')
    assert moved.json()["updated_at"] > c["updated_at"]
    assert moved.json() == (await alice.get(url)).json()  # as stored, to the microsecond
    stale = await alice.patch(url, json={"position": 2}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert await plan(alice, goal["id"]) == [("c", 0), ("a", 1), ("b", 2)]
    for step in (a, b):
        now = (await alice.get(f"/v1/steps/{step['id']}")).json()
        assert now["version"] == 1
        assert now["updated_at"] == moved.json()["updated_at"]  # their position changed then
    unmoved = await alice.patch(url, json={"position": 0}, headers={"If-Match": '"2"'})
    assert unmoved.json()["version"] == 2  # already there: nothing changed
    last = await alice.patch(f"/v1/steps/{b['id']}", json={"position": 99})
    assert (last.json()["position"], last.json()["version"]) == (2, 1)  # the end already


async def test_recurrence_and_validation(alice: Actor, goal: dict[str, Any]) -> None:
    url = f"/v1/goals/{goal['id']}/steps"
    daily = await alice.post(url, json={"title": "Walk", "recurrence": {"frequency": "daily"}})
    assert daily.json()["recurrence"] == {"frequency": "daily", "times": 1}
    for body in (
        {"title": "x", "recurrence": {"frequency": "hourly"}},
        {"title": "x", "recurrence": {"frequency": "weekly", "times": 8}},
        {"title": "x", "position": -1},
        {"title": "x", "status": "done"},
        {"title": ""},
    ):
        assert (await alice.post(url, json=body)).status_code == 422, body


async def test_one_off_steps_are_not_habits_and_done_is_one_version(
    alice: Actor, goal: dict[str, Any]
) -> None:
    url = f"/v1/goals/{goal['id']}/steps"
    once = (await alice.post(url, json={"title": "Book the appointment"})).json()
    daily = (
        await alice.post(url, json={"title": "Walk", "recurrence": {"frequency": "daily"}})
    ).json()
    done = await alice.patch(f"/v1/steps/{once['id']}", json={"status": "done"})
    assert done.json()["version"] == once["version"] + 1
    assert done.headers["ETag"] == f'"{once["version"] + 1}"'
    habits = (await alice.get(f"/v1/goals/{goal['id']}/progress")).json()["habits"]
    assert [h["step_id"] for h in habits] == [daily["id"]]


async def test_steps_of_closed_goals_cannot_be_ticked(alice: Actor, goal: dict[str, Any]) -> None:
    (step,) = await add_steps(alice, goal["id"], "a")
    await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": "entered_in_error"})
    response = await alice.patch(f"/v1/steps/{step['id']}", json={"status": "done"})
    assert response.status_code == 409
    events = (await alice.get(f"/v1/goals/{goal['id']}/progress-events")).json()["items"]
    assert events == []


async def test_a_page_after_a_step_removed_since_starts_where_it_was(
    alice: Actor, goal: dict[str, Any]
) -> None:
    """The cursor's step removed between two pages: the steps after it moved up into its
    place, and the next page starts there, skipping none."""
    steps = await add_steps(alice, goal["id"], "a", "b", "c", "d", "e", "f")
    url = f"/v1/goals/{goal['id']}/steps"
    first = (await alice.get(url, params={"limit": 3})).json()
    assert [step["title"] for step in first["items"]] == ["a", "b", "c"]
    assert (await alice.delete(f"/v1/steps/{steps[2]['id']}")).status_code == 204
    rest = (await alice.get(url, params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [step["title"] for step in rest["items"]] == ["d", "e", "f"]


async def test_the_plan_comes_in_pages_in_position_order(
    api: Api, alice: Actor, goal: dict[str, Any]
) -> None:
    """`limit` and `cursor` as on every list; `limit=100` gets any plan whole."""
    await add_steps(alice, goal["id"], "a", "b", "c", "d", "e")
    url = f"/v1/goals/{goal['id']}/steps"
    titles, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await alice.get(url, params=params)).json()
        titles += [step["title"] for step in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (titles, pages) == (["a", "b", "c", "d", "e"], 3)
    whole = (await alice.get(url, params={"limit": 100})).json()
    assert [s["position"] for s in whole["items"]] == [0, 1, 2, 3, 4]
    assert whole["next_cursor"] is None
    await add_steps(alice, goal["id"], *(f"more {n}" for n in range(16)))  # 21 in all
    default = (await alice.get(url)).json()
    assert (len(default["items"]), default["next_cursor"] is not None) == (20, True)
    # A cursor names a step of this plan; another plan's leaves nothing after it.
    other = await api.goal(alice, goal["client_id"])
    (elsewhere,) = await add_steps(alice, other["id"], "x")
    first = (await alice.get(url, params={"limit": 1})).json()
    assert first["next_cursor"] is not None
    foreign = encode_cursor(uuid.UUID(elsewhere["id"]))
    assert (await alice.get(url, params={"cursor": foreign})).json()["items"] == []
    assert (await alice.get(url, params={"cursor": "short"})).status_code == 400
