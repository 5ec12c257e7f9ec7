"""A realistic data set for the benchmark, written with COPY (minutes of API calls otherwise).

One organization; `clients` clients with `goals_per_client` active goals each, three steps per
goal (one a daily habit), one revision per goal, and `events` progress events spread over the
last 120 days (measurements mostly, some step completions and notes).
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
import uuid_utils.compat

from app.progress.figures import MEASUREMENTS_QUERY
from app.progress.points import Point
from app.progress.summary import TREND_WINDOW, MeasureSpec, status_from_measurements

ORG = "bench"
GAS = {"-2": "none", "-1": "some", "0": "expected", "1": "more", "2": "much more"}
MEASURE = {
    "name": "Evenings with a feelings entry",
    "unit": "evenings per week",
    "kind": "count",
    "direction": "increase",
    "baseline": 1,
    "target": 5,
}


@dataclass
class Seeded:
    client_ids: list[uuid.UUID] = field(default_factory=list)
    goal_ids: list[uuid.UUID] = field(default_factory=list)


def _id() -> uuid.UUID:
    return uuid_utils.compat.uuid7()


async def seed(dsn: str, *, clients: int, goals_per_client: int, events: int) -> Seeded:
    rng = random.Random(42)  # noqa: S311 - reproducible test data, nothing secret
    now = datetime.now(UTC)
    today = now.date()
    seeded = Seeded()
    client_rows, goal_rows, revision_rows, step_rows = [], [], [], []
    steps_by_goal: dict[uuid.UUID, list[uuid.UUID]] = {}
    for c in range(clients):
        client_id = _id()
        seeded.client_ids.append(client_id)
        created = now - timedelta(days=150)
        client_rows.append(
            (client_id, ORG, f"B-{c}", f"Bench client {c}", f"user-{c}", "UTC", "bench", 1,
             created, created)
        )  # fmt: skip
        for g in range(goals_per_client):
            goal_id = _id()
            seeded.goal_ids.append(goal_id)
            goal_rows.append(
                (goal_id, ORG, client_id, f"Write one feeling down each evening ({g})",
                 "Use the notes app before bed to name a feeling and what set it off.",
                 "emotional_awareness", "medium", json.dumps(MEASURE), today - timedelta(days=30),
                 today + timedelta(days=60), "Noticing feelings early helps at home.", "clinician",
                 g == 0, "active", None, created, None, None,
                 json.dumps(GAS) if g % 2 == 0 else None, 1.0, "bench", 1, created, created)
            )  # fmt: skip
            revision_rows.append(
                (_id(), ORG, goal_id, "created", "bench", "clinician", created, "{}", None)
            )
            steps = []
            for s in range(3):
                step_id = _id()
                steps.append(step_id)
                recurrence = json.dumps({"frequency": "daily", "times": 1}) if s == 0 else None
                step_rows.append(
                    (step_id, ORG, client_id, goal_id, f"Step {s}", None, s,
                     "done" if s == 2 else "todo", None, recurrence, None, "bench", None, 1,
                     created, created)
                )  # fmt: skip
            steps_by_goal[goal_id] = steps

    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "clients",
            records=client_rows,
            columns=["id", "org_id", "external_id", "display_name", "user_subject", "timezone",
                     "created_by", "version", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "goals",
            records=goal_rows,
            columns=["id", "org_id", "client_id", "title", "description", "category", "priority",
                     "measure", "start_date", "target_date", "relevance", "expressed_by",
                     "is_focus", "lifecycle_status", "status_reason", "status_changed_at",
                     "achievement_status", "achievement_status_source", "gas_levels",
                     "gas_weight", "created_by", "version", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "goal_revisions",
            records=revision_rows,
            columns=["id", "org_id", "goal_id", "action", "actor_subject", "actor_role",
                     "changed_at", "changes", "reason"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "action_steps",
            records=step_rows,
            columns=["id", "org_id", "client_id", "goal_id", "title", "description", "position",
                     "status", "due_date", "recurrence", "completed_at", "created_by",
                     "deleted_at", "version", "created_at", "updated_at"],
        )  # fmt: skip
        goal_client = {row[0]: row[2] for row in goal_rows}
        batch: list[tuple[object, ...]] = []
        for index in range(events):
            goal_id = seeded.goal_ids[index % len(seeded.goal_ids)]
            at = now - timedelta(seconds=rng.randrange(120 * 86400))
            roll = rng.random()
            kind, value, step_id, note, gas = (
                "measurement",
                float(rng.randint(0, 6)),
                None,
                None,
                None,
            )
            if roll < 0.15:
                kind, value, step_id = "step_completed", None, steps_by_goal[goal_id][0]
            elif roll < 0.2:
                kind, value, note, gas = "note", None, "Session note", rng.randint(-2, 2)
            batch.append(
                (_id(), ORG, goal_client[goal_id], goal_id, step_id, kind, value,
                 gas if goal_rows[index % len(goal_rows)][18] else None, note, at, at,
                 "clinician", "bench", "recorded")
            )  # fmt: skip
            if len(batch) == 50_000:
                await _copy_events(connection, batch)
                batch = []
        if batch:
            await _copy_events(connection, batch)
        # As autovacuum would have by now on a database that grew to this size over months:
        # statistics for the planner, and the visibility map that index-only scans rely on.
        await connection.execute("VACUUM ANALYZE")
        # After ANALYZE: planned without statistics, its query scanned the whole table per goal.
        await _derive_statuses(connection, seeded.goal_ids, start=today - timedelta(days=30),
                               target=today + timedelta(days=60), now=now)  # fmt: skip
        await connection.execute("VACUUM ANALYZE goals")
        # And as its checkpoints would have: a million rows are a gigabyte of WAL, whose
        # checkpoint would otherwise write it out while the load runs (slowing even the raw
        # baseline by a tenth). Only a superuser or pg_checkpoint may; else the load shares it.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CHECKPOINT")
    finally:
        await connection.close()
    return seeded


async def _derive_statuses(
    connection: asyncpg.Connection,
    goal_ids: list[uuid.UUID],
    *,
    start: date,
    target: date,
    now: datetime,
) -> None:
    """Each goal's derived achievement status, as the service keeps it after every event: with
    none stored, the first event on each goal would also rewrite the goal, which a service
    that has been up for a while does only when a goal's status changes."""
    measure = MeasureSpec(**{k: v for k, v in MEASURE.items() if k not in ("name", "unit")})
    values = {"caller_org": ORG, "caller_subject": "bench", "since": now - TREND_WINDOW}
    for first in range(0, len(goal_ids), 1000):
        values["goal_ids"] = goal_ids[first : first + 1000]
        rows = await connection.fetch(MEASUREMENTS_QUERY.sql, *MEASUREMENTS_QUERY.arguments(values))
        statuses = [
            status_from_measurements(
                measure=measure, measurements=list(map(Point, row["times"], row["values"])),
                start_date=start, target_date=target, now=now,
            )
            for row in rows
        ]  # fmt: skip
        await connection.execute(
            "UPDATE goals SET achievement_status = s.status, achievement_status_source = 'derived'"
            " FROM unnest($1::uuid[], $2::text[]) AS s(id, status) WHERE goals.id = s.id",
            [row["goal_id"] for row in rows], statuses,
        )  # fmt: skip


async def _copy_events(connection: asyncpg.Connection, rows: list[tuple[object, ...]]) -> None:
    await connection.copy_records_to_table(
        "progress_events",
        records=rows,
        columns=["id", "org_id", "client_id", "goal_id", "step_id", "kind", "value", "gas_level",
                 "note", "occurred_at", "recorded_at", "source", "recorded_by", "status"],
    )  # fmt: skip
