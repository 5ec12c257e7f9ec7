"""Progress events through HTTP: validation against the goal, append-only, retraction, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.api import Actor, Api, smart_goal


@pytest.fixture
def alice(api: Api) -> Actor:
    return api.actor("clinician", sub="alice")


@pytest.fixture
def robin(api: Api) -> Actor:
    return api.actor("client", sub="robin")


@pytest.fixture
async def client_id(api: Api, alice: Actor) -> str:
    return str((await api.client(alice, user_subject="robin"))["id"])


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


SCALE = {
    "name": "Anxiety before meetings",
    "unit": "points",
    "kind": "scale",
    "direction": "decrease",
    "baseline": 8,
    "target": 4,
    "scale_min": 0,
    "scale_max": 10,
}
GAS = {"-2": "a", "-1": "b", "0": "c", "1": "d", "2": "e"}


async def make_goal(api: Api, alice: Actor, client_id: str, **overrides: Any) -> str:
    return str((await api.goal(alice, client_id, **overrides))["id"])


async def test_client_records_a_measurement(
    api: Api, alice: Actor, robin: Actor, client_id: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    response = await robin.post(
        f"/v1/goals/{goal_id}/progress-events",
        json={"kind": "measurement", "value": 3, "note": "good week"},
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["source"] == "client"
    assert event["recorded_by"] == "robin"
    assert event["status"] == "recorded"
    assert response.headers["Location"] == f"/v1/progress-events/{event['id']}"
    assert (await alice.get(f"/v1/progress-events/{event['id']}")).json() == event


async def test_a_time_sent_with_an_offset_comes_back_in_utc(
    api: Api, alice: Actor, client_id: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    local = datetime.now(UTC).astimezone(timezone(timedelta(hours=1))) - timedelta(hours=1)
    response = await alice.post(
        f"/v1/goals/{goal_id}/progress-events",
        json={"kind": "note", "note": "late session", "occurred_at": local.isoformat()},
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["occurred_at"] == iso(local.astimezone(UTC))
    assert (await alice.get(f"/v1/progress-events/{event['id']}")).json() == event


@pytest.mark.parametrize(
    ("measure", "value"),
    [
        (SCALE, 11),
        (SCALE, -1),
        ({**SCALE, "kind": "boolean", "direction": "increase", "baseline": 0, "target": 1}, 2),
        ({**SCALE, "kind": "count", "direction": "increase", "baseline": 1, "target": 5}, -1),
        ({**SCALE, "kind": "count", "direction": "increase", "baseline": 1, "target": 5}, 2.5),
    ],
)
async def test_values_are_checked_against_the_measure(
    api: Api, alice: Actor, client_id: str, measure: dict[str, Any], value: float
) -> None:
    goal_id = await make_goal(api, alice, client_id, measure=measure)
    response = await alice.post(
        f"/v1/goals/{goal_id}/progress-events", json={"kind": "measurement", "value": value}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "value"]


async def test_event_rules(api: Api, alice: Actor, robin: Actor, client_id: str) -> None:
    goal_id = await make_goal(api, alice, client_id)
    url = f"/v1/goals/{goal_id}/progress-events"
    now = datetime.now(UTC)
    bad = [
        {"kind": "measurement"},
        {"kind": "note"},
        {"kind": "note", "note": "x", "value": 1},
        {"kind": "measurement", "value": 2, "gas_level": 1},
        {"kind": "measurement", "value": 2, "occurred_at": iso(now + timedelta(hours=1))},
        {"kind": "measurement", "value": 2, "occurred_at": iso(now - timedelta(days=400))},
        {"kind": "measurement", "value": 2, "occurred_at": "2026-11-20"},
        {"kind": "measurement", "value": 2, "occurred_at": 1764000000},
        {"kind": "measurement", "value": "2"},
        {"kind": "session_outcome", "note": "x"},
        {"kind": "step_completed"},
        {"kind": "step_completed", "step_id": "01935c4e-0000-7000-8000-000000000000"},
        {"kind": "measurement", "value": 2, "source": "clinician"},
    ]
    for body in bad:
        response = await alice.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
    skew = await alice.post(
        url,
        json={"kind": "measurement", "value": 2, "occurred_at": iso(now + timedelta(minutes=4))},
    )
    assert skew.status_code == 201
    judged = await robin.post(
        url, json={"kind": "note", "note": "x", "achievement_status": "achieved"}
    )
    assert judged.status_code == 403
    assert len((await alice.get(url)).json()["items"]) == 1


async def test_a_query_timestamp_or_a_missing_step_is_explained_not_patterned(
    api: Api, alice: Actor, client_id: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    url = f"/v1/goals/{goal_id}/progress-events"
    for sent in ("2026-11-20", "2026-11-20T08:00:00 01:00"):  # a date; a + sent unencoded
        listed = await alice.get(url, params={"occurred_after": sent})
        assert listed.status_code == 422
        (error,) = listed.json()["errors"]
        assert error["loc"] == ["query", "occurred_after"]
        assert error["msg"].startswith("must be an RFC 3339 timestamp with an offset")
        assert "%2B" in error["msg"]
    no_step = await alice.post(url, json={"kind": "step_completed"})
    assert no_step.status_code == 422
    assert no_step.json()["errors"] == [
        {
            "loc": ["body", "step_id"],
            "msg": "A completed step needs the step's `step_id`.",
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize("sent", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_a_moment_past_year_1_or_9999_once_in_utc_is_422_not_500(
    api: Api, alice: Actor, client_id: str, sent: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    url = f"/v1/goals/{goal_id}/progress-events"
    posted = await alice.post(url, json={"kind": "note", "note": "x", "occurred_at": sent})
    assert posted.status_code == 422, posted.text
    assert posted.json()["errors"][0]["loc"] == ["body", "occurred_at"]
    # Our validator's words as they are, without pydantic's "Value error, " before them.
    assert (
        posted.json()["errors"][0]["msg"] == "This moment is outside years 1 to 9999 once in UTC."
    )
    outcome = await alice.post(
        "/v1/session-outcomes",
        json={"external_id": "S-range", "client_id": client_id, "occurred_at": sent,
              "goals": [{"goal_id": goal_id, "value": 3}]},
    )  # fmt: skip
    assert outcome.status_code == 422, outcome.text
    for path, name in (
        (url, "occurred_after"),
        (url, "occurred_before"),
        ("/v1/goals", "updated_since"),
        ("/v1/audit-events", "occurred_after"),
    ):
        listed = await api.actor("admin", sub="root").get(path, params={name: sent})
        assert listed.status_code == 422, (path, name, listed.text)
        assert listed.json()["errors"][0]["loc"] == ["query", name]
    assert (await alice.get(url)).json()["items"] == []


async def test_timestamps_take_a_lowercase_t_and_nanoseconds(
    api: Api, alice: Actor, client_id: str
) -> None:
    """RFC 3339 allows `t` and any number of fraction digits; Go and Java write nanoseconds.
    They are kept to the microsecond, as PostgreSQL keeps them."""
    goal_id = await make_goal(api, alice, client_id)
    url = f"/v1/goals/{goal_id}/progress-events"
    moment = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=123456)
    sent = moment.strftime("%Y-%m-%dt%H:%M:%S.123456789Z")
    posted = await alice.post(url, json={"kind": "note", "note": "x", "occurred_at": sent})
    assert posted.status_code == 201, posted.text
    assert posted.json()["occurred_at"] == iso(moment)
    after = (moment - timedelta(seconds=1)).strftime("%Y-%m-%dt%H:%M:%S.999999999z")
    listed = await alice.get(url, params={"occurred_after": after})
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["items"]] == [posted.json()["id"]]


async def test_gas_level_only_on_goals_with_levels(api: Api, alice: Actor, client_id: str) -> None:
    goal_id = await make_goal(api, alice, client_id, gas_levels=GAS)
    url = f"/v1/goals/{goal_id}/progress-events"
    ok = await alice.post(url, json={"kind": "note", "note": "session", "gas_level": 1})
    assert ok.status_code == 201
    assert (
        await alice.post(url, json={"kind": "note", "note": "x", "gas_level": 3})
    ).status_code == 422


async def test_retract_marks_and_never_deletes(
    api: Api, alice: Actor, robin: Actor, client_id: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    own = (
        await robin.post(
            f"/v1/goals/{goal_id}/progress-events", json={"kind": "measurement", "value": 3}
        )
    ).json()
    theirs = (
        await alice.post(
            f"/v1/goals/{goal_id}/progress-events", json={"kind": "measurement", "value": 4}
        )
    ).json()
    assert (
        await robin.post(f"/v1/progress-events/{theirs['id']}/retract", json={"reason": "no"})
    ).status_code == 403
    retracted = await robin.post(
        f"/v1/progress-events/{own['id']}/retract", json={"reason": "wrong goal"}
    )
    assert retracted.status_code == 200
    body = retracted.json()
    assert (body["status"], body["retracted_by"], body["retraction_reason"]) == (
        "retracted",
        "robin",
        "wrong goal",
    )
    again = await alice.post(f"/v1/progress-events/{own['id']}/retract", json={"reason": "x"})
    assert again.status_code == 409
    assert again.json()["retracted_at"] == body["retracted_at"]  # RFC 3339, as in the event
    assert again.json()["retracted_at"].endswith("Z")
    listed = (await alice.get(f"/v1/goals/{goal_id}/progress-events")).json()["items"]
    assert {e["id"] for e in listed} == {own["id"], theirs["id"]}
    summary = (await alice.get(f"/v1/goals/{goal_id}/progress")).json()
    assert summary["latest_value"] == 4
    assert summary["event_count"] == 1


async def test_closed_goals_take_no_progress(api: Api, alice: Actor, client_id: str) -> None:
    goal_id = await make_goal(api, alice, client_id)
    judged = await alice.post(
        f"/v1/goals/{goal_id}/progress-events",
        json={"kind": "note", "note": "x", "achievement_status": "achieved"},
    )
    await alice.post(f"/v1/goals/{goal_id}/transition", json={"to": "cancelled"})
    response = await alice.post(
        f"/v1/goals/{goal_id}/progress-events", json={"kind": "measurement", "value": 3}
    )
    assert response.status_code == 409
    goal = (await alice.get(f"/v1/goals/{goal_id}")).json()
    retract = await alice.post(
        f"/v1/progress-events/{judged.json()['id']}/retract", json={"reason": "wrong goal"}
    )
    assert retract.status_code == 409  # nor is its progress changed: the goal stays as closed
    assert (await alice.get(f"/v1/goals/{goal_id}")).json() == goal
    event = (await alice.get(f"/v1/progress-events/{judged.json()['id']}")).json()
    assert event["status"] == "recorded"


async def test_measurement_needs_a_measure(api: Api, alice: Actor, client_id: str) -> None:
    body = smart_goal()
    del body["measure"]
    goal = (await alice.post(f"/v1/clients/{client_id}/goals", json=body)).json()
    response = await alice.post(
        f"/v1/goals/{goal['id']}/progress-events", json={"kind": "measurement", "value": 3}
    )
    assert response.status_code == 422


async def test_paging_newest_first_with_filters(api: Api, alice: Actor, client_id: str) -> None:
    goal_id = await make_goal(api, alice, client_id)
    url = f"/v1/goals/{goal_id}/progress-events"
    start = datetime.now(UTC) - timedelta(days=20)
    created = []
    for day in range(15):
        kind = (
            {"kind": "note", "note": f"day {day}"}
            if day % 5 == 0
            else {"kind": "measurement", "value": day % 6}
        )
        body = {**kind, "occurred_at": iso(start + timedelta(days=day))}
        created.append((await alice.post(url, json=body)).json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = (await alice.get(url, params=params)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(created))
    notes = (await alice.get(url, params={"kind": "note"})).json()["items"]
    assert len(notes) == 3
    window = await alice.get(
        url,
        params={
            "occurred_after": iso(start + timedelta(days=9, hours=12)),
            "occurred_before": iso(start + timedelta(days=12, hours=12)),
        },
    )
    assert len(window.json()["items"]) == 3
    bad_cursor = await alice.get(url, params={"cursor": "short"})
    assert bad_cursor.status_code == 400
    # One error, at the parameter itself: not one per branch of its `str | None` type.
    assert [e["loc"] for e in bad_cursor.json()["errors"]] == [["query", "cursor"]]
    bad_kind = await alice.get(url, params={"kind": ["note", "bogus"]})
    assert bad_kind.status_code == 422
    assert [e["loc"] for e in bad_kind.json()["errors"]] == [["query", "kind", 1]]
    no_such_day = await alice.get(url, params={"occurred_before": "2026-02-30T00:00:00Z"})
    assert no_such_day.status_code == 422
    assert [e["loc"] for e in no_such_day.json()["errors"]] == [["query", "occurred_before"]]


async def test_a_clinicians_judgement_with_progress_becomes_the_goals(
    api: Api, alice: Actor, client_id: str
) -> None:
    goal_id = await make_goal(api, alice, client_id)
    response = await alice.post(
        f"/v1/goals/{goal_id}/progress-events",
        json={"kind": "note", "note": "reviewed", "achievement_status": "sustaining"},
    )
    assert response.status_code == 201
    goal = (await alice.get(f"/v1/goals/{goal_id}")).json()
    assert (goal["achievement_status"], goal["achievement_status_source"]) == (
        "sustaining",
        "clinician",
    )
    revision = (await alice.get(f"/v1/goals/{goal_id}/revisions")).json()["items"][-1]
    assert revision["reason"] == "recorded with progress"


async def test_retracting_an_event_withdraws_the_judgement_it_carried(
    api: Api, alice: Actor, client_id: str
) -> None:
    """The judgement that stands is the latest one not made with a retracted event: an
    earlier event's, a clinician's edit, or none (the status follows progress again). A
    later edit outlives the retraction of an earlier event."""
    goal_id = await make_goal(api, alice, client_id)
    goal_url = f"/v1/goals/{goal_id}"

    async def judge(status: str) -> str:
        body = {"kind": "note", "note": "reviewed", "achievement_status": status}
        response = await alice.post(f"{goal_url}/progress-events", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def retract(event_id: str) -> None:
        retracted = await alice.post(
            f"/v1/progress-events/{event_id}/retract", json={"reason": "wrong client"}
        )
        assert retracted.status_code == 200, retracted.text

    async def status() -> tuple[str | None, str | None]:
        goal = (await alice.get(goal_url)).json()
        return goal["achievement_status"], goal["achievement_status_source"]

    achieved = await judge("achieved")
    sustaining = await judge("sustaining")
    await retract(sustaining)
    assert await status() == ("achieved", "clinician")
    revision = (await alice.get(f"{goal_url}/revisions")).json()["items"][-1]
    assert revision["progress_event_id"] == sustaining
    assert revision["reason"] == "the progress event that set it was retracted"
    assert revision["changes"] == [
        {"field": "achievement_status", "before": "sustaining", "after": "achieved"}
    ]
    await retract(achieved)
    assert await status() == ("in_progress", "derived")  # no judgement left: progress decides

    patched = await alice.patch(goal_url, json={"achievement_status": "worsening"})
    assert patched.status_code == 200, patched.text
    await retract(await judge("achieved"))
    assert await status() == ("worsening", "clinician")  # the edit before it stands again
    later = await judge("achieved")
    assert (await alice.patch(goal_url, json={"achievement_status": "not_achieved"})).is_success
    await retract(later)
    assert await status() == ("not_achieved", "clinician")  # the edit after it still stands
    again = await judge("sustaining")
    await judge("sustaining")  # the same judgement again: it changes nothing, and stands
    await retract(again)
    assert await status() == ("sustaining", "clinician")


async def test_a_judgement_sent_late_does_not_overwrite_a_newer_one(
    api: Api, alice: Actor, client_id: str
) -> None:
    """An EHR syncing last week's session today: its judgement is kept with its event, as
    what was judged then, but the goal's status is the newest judgement by when it was made,
    an event's (when it happened) or a clinician's edit."""
    goal_id = await make_goal(api, alice, client_id)
    goal_url = f"/v1/goals/{goal_id}"
    now = datetime.now(UTC)

    async def judge(status: str, ago: timedelta | None) -> str:
        body = {"kind": "note", "note": "session", "achievement_status": status}
        if ago is not None:  # else it happens now, as the server dates it
            body["occurred_at"] = iso(now - ago)
        response = await alice.post(f"{goal_url}/progress-events", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["achievement_status"] == status
        return str(response.json()["id"])

    async def status() -> str | None:
        return str((await alice.get(goal_url)).json()["achievement_status"])

    recent = await judge("improving", timedelta(hours=1))
    await judge("worsening", timedelta(days=3))
    assert await status() == "improving"
    retracted = await alice.post(
        f"/v1/progress-events/{recent}/retract", json={"reason": "wrong goal"}
    )
    assert retracted.status_code == 200, retracted.text
    assert await status() == "worsening"  # the one left, though sent before the other
    assert (await alice.patch(goal_url, json={"achievement_status": "no_change"})).is_success
    await judge("achieved", timedelta(days=1))  # before the edit
    assert await status() == "no_change"
    await judge("achieved", None)
    assert await status() == "achieved"


async def test_a_late_judgement_that_does_not_stand_still_counts_as_progress(
    api: Api, alice: Actor, client_id: str
) -> None:
    """A clinician cleared the status (progress decides again); a measurement at the target,
    sent with a judgement dated before that clearing: the judgement does not stand, and the
    measurement moves the derived status as any other would."""
    goal_id = await make_goal(api, alice, client_id)
    goal_url = f"/v1/goals/{goal_id}"
    assert (await alice.patch(goal_url, json={"achievement_status": "worsening"})).is_success
    assert (await alice.patch(goal_url, json={"achievement_status": None})).is_success
    earlier = iso(datetime.now(UTC) - timedelta(hours=1))
    body = {"kind": "measurement", "value": 5, "achievement_status": "worsening",
            "occurred_at": earlier}  # fmt: skip
    assert (await alice.post(f"{goal_url}/progress-events", json=body)).status_code == 201
    goal = (await alice.get(goal_url)).json()
    progress = (await alice.get(f"{goal_url}/progress")).json()
    assert (goal["achievement_status"], goal["achievement_status_source"]) == (
        progress["achievement_status"],
        "derived",
    )
    assert goal["achievement_status"] == "achieved"


async def test_every_change_of_the_status_is_in_the_history(
    api: Api, alice: Actor, client_id: str
) -> None:
    """What progress derives is kept as a `derived` revision, by the request that changed it,
    so each revision's `before` is the one before's `after`; a clinician taking over the
    derived status at the same value is a judgement all the same (a revision, a new version),
    which a judgement dated before it does not overwrite."""
    goal_id = await make_goal(api, alice, client_id)
    goal_url = f"/v1/goals/{goal_id}"
    created = (await alice.get(goal_url)).json()
    progress = (await alice.get(f"{goal_url}/progress")).json()
    assert (created["achievement_status"], created["achievement_status_source"]) == (
        progress["achievement_status"],
        "derived",
    )  # from the start, not null until the first event
    recorded = await alice.post(
        f"{goal_url}/progress-events", json={"kind": "measurement", "value": 5}
    )
    assert recorded.status_code == 201, recorded.text
    judged = await alice.post(
        f"{goal_url}/progress-events",
        json={"kind": "note", "note": "reviewed", "achievement_status": "improving"},
    )
    retracted = await alice.post(
        f"/v1/progress-events/{judged.json()['id']}/retract", json={"reason": "wrong goal"}
    )
    assert retracted.status_code == 200, retracted.text
    revisions = (await alice.get(f"{goal_url}/revisions")).json()["items"]
    statuses = [
        (r["action"], change["before"], change["after"])
        for r in revisions
        for change in r["changes"]
        if change["field"] == "achievement_status"
    ]
    derived = progress["achievement_status"]
    assert statuses == [
        ("created", None, derived),
        ("derived", derived, "achieved"),
        ("updated", "achieved", "improving"),
        ("updated", "improving", None),
        ("derived", None, "achieved"),
    ]
    assert {r["actor_subject"] for r in revisions} == {"alice"}

    current = (await alice.get(goal_url)).json()
    taken_over = await alice.patch(
        goal_url,
        json={"achievement_status": current["achievement_status"]},
        headers={"If-Match": f'"{current["version"]}"'},
    )
    assert taken_over.status_code == 200, taken_over.text
    assert taken_over.json()["version"] == current["version"] + 1
    assert taken_over.json()["achievement_status_source"] == "clinician"
    earlier = iso(datetime.now(UTC) - timedelta(hours=1))
    late = {"kind": "note", "note": "x", "achievement_status": "worsening", "occurred_at": earlier}
    assert (await alice.post(f"{goal_url}/progress-events", json=late)).status_code == 201
    assert (await alice.get(goal_url)).json()["achievement_status"] == "achieved"


async def test_a_client_cannot_retract_what_an_integration_recorded_by_its_name(
    api: Api,
) -> None:
    """An identity provider may issue any `sub`, "api-key:<id>" included: a client so named
    still recorded nothing an integration with that key sent."""
    admin = api.actor("admin", org="posing-org", sub="root")
    key = (
        await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": ["session_outcomes:write"]})
    ).json()
    posing_as = f"api-key:{key['id']}"
    client = await api.client(admin, user_subject=posing_as, external_id="MRN-P")
    goal = await api.goal(admin, client["id"])
    outcome = {"external_id": "ENC-P", "client_external_id": "MRN-P",
               "occurred_at": iso(datetime.now(UTC) - timedelta(hours=1)),
               "goals": [{"goal_id": goal["id"], "note": "from the EHR"}]}  # fmt: skip
    sent = await api.http.post(
        "/v1/session-outcomes", json=outcome, headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert sent.status_code == 201, sent.text
    (event_id,) = sent.json()["progress_event_ids"]
    client_user = api.actor("client", org="posing-org", sub=posing_as)
    refused = await client_user.post(
        f"/v1/progress-events/{event_id}/retract", json={"reason": "mine?"}
    )
    assert refused.status_code == 403
    own = await client_user.post(
        f"/v1/goals/{goal['id']}/progress-events", json={"kind": "note", "note": "mine"}
    )
    retracted = await client_user.post(
        f"/v1/progress-events/{own.json()['id']}/retract", json={"reason": "typo"}
    )
    assert retracted.status_code == 200
