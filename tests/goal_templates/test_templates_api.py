"""Goal templates through HTTP: a template plus dates is a goal that can become active."""

from __future__ import annotations

from typing import get_args

from app.goals.vocabulary import Category
from tests.api import Api, today_plus


async def test_templates_cover_every_area_and_create_active_goals(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    response = await alice.get("/v1/goal-templates", params={"limit": 100})
    assert response.status_code == 200
    templates = response.json()["items"]
    categories = {t["category"] for t in templates}
    assert categories == set(get_args(Category))  # every category of API.md, `other` too
    client = await api.client(alice)
    for template in templates:
        body = {**template["goal"], "start_date": today_plus(0), "target_date": today_plus(84)}
        goal = await alice.post(f"/v1/clients/{client['id']}/goals", json=body)
        assert goal.status_code == 201, (template["id"], goal.text)
        goal_id = goal.json()["id"]
        for step in template["suggested_steps"]:
            created = await alice.post(f"/v1/goals/{goal_id}/steps", json=step)
            assert created.status_code == 201, (template["id"], created.text)
        active = await alice.post(f"/v1/goals/{goal_id}/transition", json={"to": "active"})
        assert active.status_code == 200, (template["id"], active.text)


async def test_filter_by_category_and_auth(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    sleep = (await alice.get("/v1/goal-templates", params={"category": "sleep"})).json()["items"]
    assert sleep
    assert {t["category"] for t in sleep} == {"sleep"}
    assert (await api.http.get("/v1/goal-templates")).status_code == 401


async def test_templates_come_in_pages_like_every_list(api: Api) -> None:
    alice = api.actor("clinician", sub="alice")
    whole = (await alice.get("/v1/goal-templates", params={"limit": 100})).json()
    assert whole["next_cursor"] is None
    from_the_start = await alice.get("/v1/goal-templates", params={"limit": 100, "cursor": ""})
    assert from_the_start.json() == whole  # an empty cursor, as on every list
    ids, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await alice.get("/v1/goal-templates", params=params)).json()
        assert len(page["items"]) <= 7
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == [t["id"] for t in whole["items"]]
    assert len((await alice.get("/v1/goal-templates")).json()["items"]) == 20  # the default
    assert ids == sorted(ids)  # by id: any id is a place to continue from
    rest = await alice.get("/v1/goal-templates", params={"cursor": "p", "limit": 100})
    assert [t["id"] for t in rest.json()["items"]] == [i for i in ids if i > "p"]
