"""Progress summaries through HTTP: a worked example checked by hand, and bounded queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app import driver
from app.driver import DriverQuery
from app.progress.habits import habit_strength
from tests.api import Actor, Api, today_plus

GAS = {"-2": "none", "-1": "some", "0": "expected", "1": "more", "2": "much more"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@contextmanager
def count_queries(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def alice(api: Api) -> Actor:
    return api.actor("clinician", sub="alice")


async def test_worked_example(api: Api, alice: Actor) -> None:
    client = await api.client(alice)
    goal = await api.goal(
        alice,
        client["id"],
        start_date=today_plus(-28),
        target_date=today_plus(56),
        gas_levels=GAS,
    )
    url = f"/v1/goals/{goal['id']}"
    now = datetime.now(UTC)
    for days_ago, value in ((21, 1), (14, 2), (7, 2), (1, 3)):
        body = {
            "kind": "measurement",
            "value": value,
            "occurred_at": iso(now - timedelta(days=days_ago)),
        }
        assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201
    await alice.post(
        f"{url}/progress-events", json={"kind": "note", "note": "session", "gas_level": 1}
    )
    await alice.post(f"{url}/steps", json={"title": "one"})
    step = (await alice.post(f"{url}/steps", json={"title": "two"})).json()
    await alice.patch(f"/v1/steps/{step['id']}", json={"status": "done"})

    summary = (await alice.get(f"{url}/progress")).json()
    # By hand: baseline 1, target 5 (count, increase), 84 days from start to target.
    assert summary["baseline"] == 1
    assert summary["target"] == 5
    assert summary["latest_value"] == 3
    # (3 - 1) / (5 - 1) = 50 %
    assert summary["percent_complete"] == pytest.approx(50)
    # today is 28 of 84 days in: 1 + 4 * 28/84 = 2.333…
    assert summary["expected_value_today"] == pytest.approx(1 + 4 * 28 / 84, abs=0.01)
    assert summary["on_track"] is True
    # Least squares over x = weeks (-3, -2, -1, -1/7), y = (1, 2, 2, 3):
    # mean x = -1.5357, mean y = 2; deviations x: -1.4643, -0.4643, 0.5357, 1.3929;
    # Sxy = 1.4643 + 1.3929 = 2.8571; Sxx = 2.1441 + 0.2156 + 0.2870 + 1.9401 = 4.5867;
    # slope = 2.8571 / 4.5867 = 0.6229 per week.
    assert summary["trend"]["slope_per_week"] == pytest.approx(0.6229, abs=0.005)
    assert summary["trend"]["direction"] == "improving"
    # The line is at about 2.9 now and reaches 5 about 2.1 / 0.62 ≈ 3.4 weeks from now.
    projected = datetime.fromisoformat(summary["projected_achievement_date"]).date()
    assert now.date() + timedelta(days=14) <= projected <= now.date() + timedelta(days=35)
    assert summary["steps"] == {"total": 2, "done": 1, "completion_rate": 0.5}
    assert summary["event_count"] == 6  # 4 measurements, 1 note, 1 step completion
    assert summary["achievement_status"] == "improving"
    assert summary["achievement_status_source"] == "derived"
    assert summary["gas_t_score"] == pytest.approx(60)  # 50 + 10 * 1
    assert (await alice.get(url)).json()["achievement_status"] == "improving"


async def test_today_is_the_clients_day(api: Api, alice: Actor) -> None:
    """The expected value is read off the line on the client's today: in a zone where it is
    another day than in UTC right now (UTC+14 or UTC-11: at any moment one of them is), the
    goal is exactly halfway on its local day, not a day off."""
    now = datetime.now(UTC)
    zone = next(
        name
        for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
        if now.astimezone(ZoneInfo(name)).date() != now.date()
    )
    today = now.astimezone(ZoneInfo(zone)).date()
    client = await api.client(alice, timezone=zone)
    goal = await api.goal(
        alice,
        client["id"],
        start_date=(today - timedelta(days=28)).isoformat(),
        target_date=(today + timedelta(days=28)).isoformat(),
    )
    summary = (await alice.get(f"/v1/goals/{goal['id']}/progress")).json()
    assert summary["expected_value_today"] == pytest.approx(3)  # 1 + (5 - 1) * 28 / 56
    activated = await alice.post(f"/v1/goals/{goal['id']}/transition", json={"to": "active"})
    assert activated.status_code == 200, activated.text
    client_summary = (await alice.get(f"/v1/clients/{client['id']}/summary")).json()
    assert client_summary["next_review_due"] == (today + timedelta(days=90)).isoformat()


async def test_clinician_status_wins_until_cleared(api: Api, alice: Actor) -> None:
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    await alice.patch(url, json={"achievement_status": "not_attainable"})
    await alice.post(f"{url}/progress-events", json={"kind": "measurement", "value": 5})
    summary = (await alice.get(f"{url}/progress")).json()
    assert (summary["achievement_status"], summary["achievement_status_source"]) == (
        "not_attainable",
        "clinician",
    )
    cleared = (await alice.patch(url, json={"achievement_status": None})).json()
    assert cleared["achievement_status"] == "achieved"
    assert cleared["achievement_status_source"] == "derived"


async def test_progress_that_changes_the_derived_status_updates_the_goal(
    api: Api, alice: Actor
) -> None:
    """Not an edit by a person (the version, and so the ETag, stay), but the goal changed:
    `updated_at` moves, so that clients syncing with `updated_since` see the new status."""
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    assert goal["achievement_status"] != "achieved"
    recorded = await alice.post(f"{url}/progress-events", json={"kind": "measurement", "value": 5})
    assert recorded.status_code == 201, recorded.text
    after = (await alice.get(url)).json()
    assert after["achievement_status"] == "achieved"
    assert after["version"] == goal["version"]
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(goal["updated_at"])
    since = {"client_id": client["id"], "updated_since": goal["updated_at"]}
    listed = (await alice.get("/v1/goals", params=since)).json()["items"]
    assert [(item["id"], item["updated_at"]) for item in listed] == [
        (goal["id"], after["updated_at"])
    ]


async def test_latest_two_measurements_count_however_old(
    api: Api, alice: Actor, connection: AsyncConnection
) -> None:
    """The trend looks back eight weeks, but the latest value and "sustaining" come from the
    latest two measurements whenever they were taken."""
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    # A goal from half a year ago, so that progress may be dated months back.
    await connection.execute(
        text("UPDATE goals SET created_at = created_at - interval '180 days' WHERE id = :id"),
        {"id": goal["id"]},
    )
    now = datetime.now(UTC)
    for days_ago, value in ((120, 1), (100, 2), (95, 5), (90, 5)):
        body = {
            "kind": "measurement",
            "value": value,
            "occurred_at": iso(now - timedelta(days_ago)),
        }
        assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201

    summary = (await alice.get(f"{url}/progress")).json()
    assert summary["latest_value"] == 5
    assert datetime.fromisoformat(summary["latest_at"]) < now - timedelta(days=89)
    assert summary["trend"] is None  # nothing inside the eight weeks
    assert summary["achievement_status"] == "sustaining"  # 5 at 95 days and again at 90
    assert summary["event_count"] == 4
    assert (await alice.get(url)).json()["achievement_status"] == "sustaining"

    # Beside a goal measured this week, in the client's summary: each goal its own points.
    recent = await api.goal(alice, client["id"])
    for value in (2, 3):
        await alice.post(
            f"/v1/goals/{recent['id']}/progress-events",
            json={"kind": "measurement", "value": value},
        )
    both = (await alice.get(f"/v1/clients/{client['id']}/summary")).json()["goals"]
    latest = {item["goal_id"]: item["progress"]["latest_value"] for item in both}
    assert latest == {goal["id"]: 5, recent["id"]: 3}


async def test_latest_at_is_the_recorded_time_to_the_microsecond(api: Api, alice: Actor) -> None:
    """Times reach the summary as POSIX seconds (floats) and go back to the instant recorded,
    in the goal's progress and in the client's summary alike."""
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    latest = second.replace(microsecond=999999)  # recorded first, the later of the same second
    for at, value in ((latest, 2), (second.replace(microsecond=123457), 3)):
        body = {"kind": "measurement", "value": value, "occurred_at": iso(at)}
        assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201
    progress = (await alice.get(f"{url}/progress")).json()
    summary = (await alice.get(f"/v1/clients/{client['id']}/summary")).json()
    for read in (progress, summary["goals"][0]["progress"]):
        assert datetime.fromisoformat(read["latest_at"]) == latest
        assert read["latest_value"] == 2


BACKDATE_GOAL = text("UPDATE goals SET created_at = created_at - interval '10 days' WHERE id = :id")
BACKDATE_STEP = text(
    "UPDATE action_steps SET created_at = created_at - interval '10 days' WHERE id = :step"
)


async def test_habit_days_are_the_clients_days(
    api: Api, alice: Actor, connection: AsyncConnection
) -> None:
    """Two completions an hour apart, either side of midnight UTC: two kept days for a client
    in UTC, one for a client fourteen hours ahead, so the habit is weaker there."""
    day = datetime.now(UTC).date() - timedelta(days=3)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    strengths = {}
    for zone in ("UTC", "Pacific/Kiritimati"):
        client = await api.client(alice, timezone=zone)
        goal = await api.goal(alice, client["id"])
        url = f"/v1/goals/{goal['id']}"
        step = await alice.post(
            f"{url}/steps", json={"title": "walk", "recurrence": {"frequency": "daily"}}
        )
        for statement in (BACKDATE_GOAL, BACKDATE_STEP):
            await connection.execute(statement, {"id": goal["id"], "step": step.json()["id"]})
        # A microsecond either side: the days are worked out from floats (POSIX seconds).
        for moment in (midnight - timedelta(microseconds=1), midnight):
            body = {
                "kind": "step_completed",
                "step_id": step.json()["id"],
                "occurred_at": iso(moment),
            }
            assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201
        summary = (await alice.get(f"{url}/progress")).json()
        strengths[zone] = summary["habits"][0]["strength"]
    assert strengths["UTC"] > strengths["Pacific/Kiritimati"] > 0


BACKDATE_GOAL_200_DAYS = text(
    "UPDATE goals SET created_at = created_at - interval '200 days' WHERE id = :id"
)
BACKDATE_STEPS_200_DAYS = text(
    "UPDATE action_steps SET created_at = created_at - interval '200 days' WHERE goal_id = :id"
)


async def test_habits_are_the_live_recurring_steps_in_plan_order_and_their_completions(
    api: Api, alice: Actor, connection: AsyncConnection
) -> None:
    """A habit per live recurring step, in plan order (not id order), strong by its recorded
    completions on the client's days: not a one-off or deleted step's, nor a retracted one.
    The goal's own summary and its entry in the client's say the same."""
    zone = ZoneInfo("America/New_York")
    client = await api.client(alice, timezone="America/New_York")
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"

    async def step(title: str, recurrence: dict[str, Any] | None = None) -> str:
        response = await alice.post(f"{url}/steps", json={"title": title, "recurrence": recurrence})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    daily = await step("walk", {"frequency": "daily"})
    weekly = await step("swim", {"frequency": "weekly", "times": 3})
    once = await step("buy shoes")
    dropped = await step("run", {"frequency": "daily"})
    moved = await alice.patch(f"/v1/steps/{weekly}", json={"position": 0})
    assert moved.status_code == 200, moved.text
    for backdate in (BACKDATE_GOAL_200_DAYS, BACKDATE_STEPS_200_DAYS):
        await connection.execute(backdate, {"id": goal["id"]})
    now = datetime.now(UTC)

    async def complete(step_id: str, days_ago: int) -> str:
        at = iso(now - timedelta(days=days_ago))
        body = {"kind": "step_completed", "step_id": step_id, "occurred_at": at}
        response = await alice.post(f"{url}/progress-events", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    for days_ago in (1, 2, 3, 190):  # 190: before the habits' window
        await complete(daily, days_ago)
    mistake = await complete(daily, 4)
    retracted = await alice.post(f"/v1/progress-events/{mistake}/retract", json={"reason": "no"})
    assert retracted.status_code == 200, retracted.text
    for days_ago in (1, 5):
        await complete(weekly, days_ago)
    await complete(once, 1)
    await complete(dropped, 1)
    assert (await alice.delete(f"/v1/steps/{dropped}")).status_code == 204

    progress = (await alice.get(f"{url}/progress")).json()
    summary = (await alice.get(f"/v1/clients/{client['id']}/summary")).json()
    assert summary["goals"][0]["progress"] == {k: v for k, v in progress.items() if k != "goal_id"}
    habits = progress["habits"]
    assert [(h["step_id"], h["frequency"], h["times"]) for h in habits] == [
        (weekly, "weekly", 3),
        (daily, "daily", 1),
    ]
    today = now.astimezone(zone).date()
    start = (now - timedelta(days=180)).astimezone(zone).date()

    def strength(days_ago: tuple[int, ...], per_day: float) -> float:
        days = [(now - timedelta(days=n)).astimezone(zone).date() for n in days_ago]
        return habit_strength(days, start=start, end=today, times_per_day=per_day)

    assert [h["strength"] for h in habits] == [strength((1, 5), 3 / 7), strength((1, 2, 3), 1)]
    assert habits[1]["strength"] < strength((1, 2, 3, 4), 1)  # the retracted day is no credit


async def test_a_habit_counts_completions_from_before_its_step_was_added(
    api: Api, alice: Actor, connection: AsyncConnection
) -> None:
    """A habit kept before it went into the plan, its completions entered afterwards, is
    scored from the first of them, not from the day the step was added."""
    client = await api.client(alice, timezone="UTC")  # the dates below are UTC dates
    goal = await api.goal(alice, client["id"])
    await connection.execute(BACKDATE_GOAL_200_DAYS, {"id": goal["id"]})
    url = f"/v1/goals/{goal['id']}"
    step = await alice.post(
        f"{url}/steps", json={"title": "walk", "recurrence": {"frequency": "daily"}}
    )
    assert step.status_code == 201, step.text
    now = datetime.now(UTC)
    for days_ago in (12, 11, 10, 9):
        body = {"kind": "step_completed", "step_id": step.json()["id"],
                "occurred_at": iso(now - timedelta(days=days_ago))}  # fmt: skip
        assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201

    habits = (await alice.get(f"{url}/progress")).json()["habits"]

    days = [(now - timedelta(days=n)).date() for n in (12, 11, 10, 9)]
    # The service's today: the test's, or the next day's if midnight passed in between.
    ends = {now.date(), datetime.now(UTC).date()}
    expected = {habit_strength(days, start=days[0], end=end, times_per_day=1) for end in ends}
    assert habits[0]["strength"] in expected
    assert min(expected) > 0


async def make_client_with_goals(api: Api, alice: Actor, count: int) -> str:
    client = await api.client(alice)
    for index in range(count):
        goal = await api.goal(alice, client["id"], gas_levels=GAS, is_focus=index == 0)
        url = f"/v1/goals/{goal['id']}"
        await alice.post(f"{url}/transition", json={"to": "active"})
        await alice.post(f"{url}/progress-events", json={"kind": "measurement", "value": 2})
        await alice.post(
            f"{url}/progress-events", json={"kind": "note", "note": "n", "gas_level": index % 3 - 1}
        )
        await alice.post(
            f"{url}/steps", json={"title": "walk", "recurrence": {"frequency": "daily"}}
        )
    return str(client["id"])


@pytest.fixture
def driver_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements run on the driver (app/driver.py), which SQLAlchemy's events miss."""
    queries: list[str] = []
    run = driver._run

    async def recording(pooled: Any, query: DriverQuery, *args: Any, **kwargs: Any) -> Any:
        queries.append(query.sql)
        return await run(pooled, query, *args, **kwargs)

    monkeypatch.setattr(driver, "_run", recording)
    return queries


async def test_client_summary_costs_the_same_queries_for_2_or_20_goals(
    api: Api, alice: Actor, app: FastAPI, driver_queries: list[str]
) -> None:
    small = await make_client_with_goals(api, alice, 2)
    large = await make_client_with_goals(api, alice, 20)
    driver_queries.clear()
    with count_queries(app) as few:
        small_summary = (await alice.get(f"/v1/clients/{small}/summary")).json()
    few_on_driver = len(driver_queries)
    with count_queries(app) as many:
        large_summary = (await alice.get(f"/v1/clients/{large}/summary")).json()
    many_on_driver = len(driver_queries) - few_on_driver
    assert len(small_summary["goals"]) == 2
    assert len(large_summary["goals"]) == 20
    # One query on the driver: the client, its goals, their figures and habits. Through
    # SQLAlchemy: the audit row (a test binds it to its connection), nothing else.
    assert (many_on_driver, len(many)) == (few_on_driver, len(few)) == (1, 1), many
    assert large_summary["focus_goal_id"] == large_summary["goals"][0]["goal_id"]
    assert large_summary["goals"][0]["progress"]["habits"][0]["frequency"] == "daily"
    assert large_summary["next_review_due"] == today_plus(90)


async def test_a_goals_progress_is_its_entry_in_the_client_summary_in_one_query(
    api: Api, alice: Actor, driver_queries: list[str]
) -> None:
    """A goal's summary reads its facts, figures and habits in one query; a client's reads
    them for all its goals in one too: the same figures either way."""
    client = await make_client_with_goals(api, alice, 3)
    driver_queries.clear()
    summary = (await alice.get(f"/v1/clients/{client}/summary")).json()
    assert len(driver_queries) == 1, driver_queries
    for entry in summary["goals"]:
        driver_queries.clear()
        progress = await alice.get(f"/v1/goals/{entry['goal_id']}/progress")
        assert progress.status_code == 200, progress.text
        assert progress.json() == {"goal_id": entry["goal_id"], **entry["progress"]}
        assert len(driver_queries) == 1, driver_queries
    assert {entry["progress"]["gas_t_score"] for entry in summary["goals"]} == {40, 50, 60}
    assert all(entry["progress"]["habits"] for entry in summary["goals"])


async def test_client_gas_t_score(api: Api, alice: Actor) -> None:
    client = await api.client(alice)
    # Two goals, weights 1 and 2, levels +1 and -1:
    # T = 50 + 10 * (1*1 + 2*-1) / sqrt(0.7*(1+4) + 0.3*(1+2)^2) = 50 - 10/sqrt(6.2) = 45.984
    for weight, level in ((1, 1), (2, -1)):
        goal = await api.goal(alice, client["id"], gas_levels=GAS, gas_weight=weight)
        await alice.post(
            f"/v1/goals/{goal['id']}/progress-events",
            json={"kind": "note", "note": "session", "gas_level": level},
        )
    await api.goal(alice, client["id"])  # no GAS levels: not counted
    summary = (await alice.get(f"/v1/clients/{client['id']}/summary")).json()
    assert summary["gas_t_score"] == pytest.approx(45.984, abs=0.001)
    assert summary["next_review_due"] is None  # nothing active yet
    assert summary["focus_goal_id"] is None


async def test_a_completed_goal_still_counts_in_the_clients_gas_score(
    api: Api, alice: Actor
) -> None:
    """Kiresuk & Sherman score every goal set for the client: finishing one at +2 must not
    lower the score. Goals dropped or entered in error do not count; the summary's `goals`
    are the open ones."""
    client = await api.client(alice)
    goals = {}
    for name, level in (("done", 2), ("open", -1), ("dropped", -2), ("mistake", -2)):
        goal = await api.goal(alice, client["id"], gas_levels=GAS)
        recorded = await alice.post(
            f"/v1/goals/{goal['id']}/progress-events",
            json={"kind": "note", "note": "session", "gas_level": level},
        )
        assert recorded.status_code == 201, recorded.text
        goals[name] = goal["id"]
    url = f"/v1/clients/{client['id']}/summary"
    for name, path in (
        ("done", ["active", "completed"]),
        ("dropped", ["cancelled"]),
        ("mistake", ["entered_in_error"]),
    ):
        for status in path:
            moved = await alice.post(f"/v1/goals/{goals[name]}/transition", json={"to": status})
            assert moved.status_code == 200, moved.text
    summary = (await alice.get(url)).json()
    # Weights 1, levels +2 and -1: T = 50 + 10 * 1 / sqrt(0.7 * 2 + 0.3 * 4) = 56.202
    assert summary["gas_t_score"] == pytest.approx(56.202, abs=0.001)
    assert [entry["goal_id"] for entry in summary["goals"]] == [goals["open"]]


async def test_a_measurement_recorded_now_counts_in_the_status_it_sets(
    api: Api, alice: Actor
) -> None:
    """Recording progress works out the goal's status from its measurements read before the
    event is written (app/driver.py holds the INSERT back); an event sent without
    `occurred_at` is dated after that read, and must count as the summary read afterwards
    counts it: here, the rise from 2 to 4 in three days is what makes the goal improving."""
    client = await api.client(alice)
    goal = await api.goal(
        alice, client["id"], start_date=today_plus(-28), target_date=today_plus(56)
    )
    url = f"/v1/goals/{goal['id']}"
    three_days_ago = iso(datetime.now(UTC) - timedelta(days=3))
    for body in (
        {"kind": "measurement", "value": 2, "occurred_at": three_days_ago},
        {"kind": "measurement", "value": 4},
    ):
        assert (await alice.post(f"{url}/progress-events", json=body)).status_code == 201
    summary = (await alice.get(f"{url}/progress")).json()
    assert summary["achievement_status"] == "improving"
    assert (await alice.get(url)).json()["achievement_status"] == "improving"


async def test_a_client_summary_lists_only_open_goals_and_only_for_a_visible_client(
    api: Api, alice: Actor
) -> None:
    """The client and its open goals are read in one query: a client with none is still a
    summary (not a 404), a closed goal is left out, a client sees their own, and another
    organization's client, one whose care team the clinician is not on, or another client's
    record for a client, is a 404 as any client read is."""
    client = await api.client(alice, user_subject="robin")
    url = f"/v1/clients/{client['id']}/summary"
    empty = await alice.get(url)
    assert empty.status_code == 200, empty.text
    assert (empty.json()["goals"], empty.json()["focus_goal_id"]) == ([], None)
    kept = await api.goal(alice, client["id"], title="Walk every day")
    closed = await api.goal(alice, client["id"], title="Given up")
    cancel = {"to": "cancelled"}
    cancelled = await alice.post(f"/v1/goals/{closed['id']}/transition", json=cancel)
    assert cancelled.status_code == 200, cancelled.text
    summary = (await alice.get(url)).json()
    assert [(goal["goal_id"], goal["title"]) for goal in summary["goals"]] == [
        (kept["id"], "Walk every day")
    ]
    robin = api.actor("client", sub="robin")  # the client, on their own record
    assert [goal["goal_id"] for goal in (await robin.get(url)).json()["goals"]] == [kept["id"]]
    other = await api.client(alice)
    refused = [
        (api.actor(org="org-elsewhere"), url),
        (api.actor(sub="not-on-the-team"), url),
        (robin, f"/v1/clients/{other['id']}/summary"),
    ]
    for stranger, address in refused:
        hidden = await stranger.get(address)
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["detail"] == "No client with this id is visible to you."
