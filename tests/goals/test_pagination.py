"""Keyset pages: none skipped, none repeated, even while goals are being added."""

from __future__ import annotations

import pytest

from tests.api import Api


async def test_walk_105_goals_in_pages_of_7_while_inserting(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    client = await api.client(admin)
    original = [(await api.goal(admin, client["id"]))["id"] for _ in range(105)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = await admin.get("/v1/goals", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 7
        seen.extend(goal["id"] for goal in page["items"])
        pages += 1
        # Someone adds a goal while we page: it may show up at the end, never twice.
        await api.goal(admin, client["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 100, "pagination does not terminate"

    assert len(seen) == len(set(seen)), "a goal was repeated"
    assert set(original) <= set(seen), "a goal was skipped"
    assert seen[: len(original)] == original  # oldest first, in creation order


async def test_clients_and_revisions_page_too(api: Api) -> None:
    admin = api.actor("admin", sub="root")
    ids = [(await api.client(admin))["id"] for _ in range(5)]
    first = (await admin.get("/v1/clients", params={"limit": 2})).json()
    second = (
        await admin.get("/v1/clients", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [c["id"] for c in first["items"] + second["items"]] == ids[:4]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1000000", "abc"])
async def test_limit_out_of_range_is_422(api: Api, limit: str) -> None:
    response = await api.actor().get("/v1/goals", params={"limit": limit})
    assert response.status_code == 422


@pytest.mark.parametrize("cursor", ["garbage", "eyJhZnRlciI6IDF9", "%%%", "x" * 150])
async def test_foreign_cursor_is_400(api: Api, cursor: str) -> None:
    response = await api.actor().get("/v1/goals", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["title"] == "Bad request"
