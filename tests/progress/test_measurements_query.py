"""The summary's measurements query against a plain reading of what it promises, on many
generated timelines: each goal's recorded measurements inside the window, plus its latest two
whenever they were, each point once, oldest first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.auth.caller import Caller, Role
from app.progress.points import moment, seconds, with_measurement
from app.progress.repository import ProgressRepository
from app.progress.summary import TREND_WINDOW
from tests.api import Actor, Api

NOW = datetime.now(UTC)
SINCE = NOW - TREND_WINDOW
INSERT = text(
    "INSERT INTO progress_events (id, org_id, client_id, goal_id, kind, value, occurred_at,"
    " recorded_at, source, recorded_by, status)"
    " VALUES (:id, :org, :client, :goal, :kind, :value, :at, :at, 'clinician', 'alice', :status)"
)
# Days before now: inside the window, outside it, on its edge, and a few minutes ahead.
OFFSETS = st.one_of(
    st.floats(min_value=-0.003, max_value=200, allow_nan=False),
    st.sampled_from([0.0, TREND_WINDOW.days, TREND_WINDOW.days + 1e-6]),
)
STATUS = st.sampled_from(["recorded", "recorded", "recorded", "retracted"])
# A value is a measurement, whether a measurement or a session outcome carries it; a note
# carries none (the database refuses one).
EVENT = st.one_of(
    st.tuples(
        OFFSETS,
        st.sampled_from(["measurement", "measurement", "session_outcome"]),
        st.one_of(st.none(), st.floats(min_value=0, max_value=10, allow_nan=False)),
        STATUS,
    ),
    st.tuples(OFFSETS, st.just("note"), st.none(), STATUS),
)


def expected(events: list[dict[str, Any]]) -> list[tuple[float, float]]:
    counted = sorted(
        (e["at"], e["id"], e["value"])
        for e in events
        if e["value"] is not None and e["status"] == "recorded"
    )
    kept = {point for point in counted if point[0] >= SINCE} | set(counted[-2:])
    return [(seconds(at), value) for at, _, value in sorted(kept)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(timelines=st.lists(st.lists(EVENT, max_size=12), min_size=2, max_size=2))
async def test_window_plus_latest_two_in_time_order(
    api: Api, connection: AsyncConnection, timelines: list[list[tuple[Any, ...]]]
) -> None:
    org = f"points-{uuid.uuid4()}"
    alice = api.actor(org=org, sub="alice")
    client = await api.client(alice)
    goals = [await _goal(api, alice, client["id"]) for _ in timelines]
    written: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for goal_id, timeline in zip(goals, timelines, strict=True):
        written[goal_id] = []
        for days_ago, kind, value, status in timeline:
            row = {"id": uuid.uuid4(), "org": org, "client": uuid.UUID(client["id"]),
                   "goal": goal_id, "kind": kind, "value": value, "status": status,
                   "at": NOW - timedelta(days=days_ago)}  # fmt: skip
            await connection.execute(INSERT, row)
            written[goal_id].append(row)

    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    repository = ProgressRepository(session, Caller(org_id=org, subject="alice", role=Role.ADMIN))
    found = await repository.measurements(goals, since=SINCE)
    await session.close()

    for goal_id in goals:
        points = [(point.at, point.value) for point in found.get(goal_id, [])]
        assert points == expected(written[goal_id])
    # Another organization's caller sees none of it, whatever ids it names.
    stranger = ProgressRepository(session, Caller(org_id="other", subject="x", role=Role.ADMIN))
    assert await stranger.measurements(goals, since=SINCE) == {}


async def _goal(api: Api, actor: Actor, client_id: str) -> uuid.UUID:
    return uuid.UUID((await api.goal(actor, client_id))["id"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    timeline=st.lists(EVENT, max_size=12),
    new=st.tuples(OFFSETS, st.floats(min_value=0, max_value=10, allow_nan=False)),
)
async def test_the_points_read_before_a_measurement_and_it_are_those_read_after(
    api: Api,
    connection: AsyncConnection,
    timeline: list[tuple[Any, ...]],
    new: tuple[float, float],
) -> None:
    """Recording progress works out the goal's status before its event is written, from the
    points read before and the new one (`with_measurement`): exactly the points the query
    reads once it is written, ties in time ordered by id as the query orders them."""
    org = f"points-{uuid.uuid4()}"
    alice = api.actor(org=org, sub="alice")
    client = await api.client(alice)
    goal_id = await _goal(api, alice, client["id"])
    rows = [
        {"id": uuid.uuid4(), "org": org, "client": uuid.UUID(client["id"]), "goal": goal_id,
         "kind": kind, "value": value, "status": status, "at": NOW - timedelta(days=days_ago)}
        for days_ago, kind, value, status in timeline
    ]  # fmt: skip
    for row in rows:
        await connection.execute(INSERT, row)
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    repository = ProgressRepository(session, Caller(org_id=org, subject="alice", role=Role.ADMIN))

    days_ago, value = new
    measurement = {"id": uuid.uuid4(), "org": org, "client": uuid.UUID(client["id"]),
                   "goal": goal_id, "kind": "measurement", "value": value,
                   "status": "recorded", "at": NOW - timedelta(days=days_ago)}  # fmt: skip
    read = await repository.facts_and_measured(goal_id, since=SINCE)
    assert read is not None
    facts, measured, timezone = read
    assert (facts.id, timezone) == (goal_id, client["timezone"])
    predicted = with_measurement(
        measured,
        (seconds(measurement["at"]), measurement["id"], value),
        since=SINCE,
    )
    await connection.execute(INSERT, measurement)
    found = await repository.measurements([goal_id], since=SINCE)
    await session.close()
    assert list(predicted) == found[goal_id]
    assert [(point.at, point.value) for point in predicted] == expected([*rows, measurement])


EPOCHS = text(
    "SELECT array_agg(date_part('epoch', at) ORDER BY n)"
    " FROM unnest(CAST(:stamps AS timestamptz[])) WITH ORDINALITY AS t(at, n)"
)


def _flat(pairs: list[list[int]]) -> list[int]:
    return [n for pair in pairs for n in pair]


# Any microsecond from 1970 to 2242, when a float's step passes a microsecond, and the next.
LAST = 2**33 * 10**6 - 1
NEIGHBOURS = st.integers(min_value=0, max_value=LAST - 1).map(lambda n: [n + 1, n])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # it only reads
)
@given(microseconds=st.lists(NEIGHBOURS, min_size=1, max_size=10).map(_flat))
@example(microseconds=[1, 0, LAST, LAST - 1])
async def test_the_database_and_python_give_a_timestamp_the_same_seconds(
    connection: AsyncConnection, microseconds: list[int]
) -> None:
    """Points are read as `date_part('epoch', …)` and new ones made with `seconds`: the same
    float for the same microsecond, back to it by `moment`, and a microsecond later a larger
    float."""
    stamps = [datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=n) for n in microseconds]
    read = await connection.scalar(EPOCHS, {"stamps": stamps})
    assert read == [seconds(stamp) for stamp in stamps]
    assert [moment(value) for value in read] == stamps
    assert sorted(range(len(read)), key=read.__getitem__) == sorted(
        range(len(stamps)), key=stamps.__getitem__
    )
