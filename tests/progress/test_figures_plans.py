"""The summary queries' arrays are built from sorted subqueries (`figures._in_order`), with
no `ORDER BY` inside each `array_agg`. PostgreSQL keeps a subquery's order for the aggregate
above it only while nothing stands between the two: these tests read the plans PostgreSQL
makes for every statement that builds such arrays, for each role, and require each of those
aggregates to read its rows straight from the sort that orders them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.caller import Role
from app.driver import DriverQuery
from app.progress import figures
from bench.run import literal

NOW = datetime.now(UTC)
VALUES = {
    "caller_org": "org",
    "caller_subject": "sub",
    "goal_id": uuid.uuid4(),
    "goal_ids": [uuid.uuid4()],
    "client_id": uuid.uuid4(),
    "statuses": ["active"],
    "since": NOW,
    "habits_since": NOW,
}
SORTS = {"Sort", "Incremental Sort"}  # either keeps the order for the aggregate above it
PLAN_ORDER = ['action_steps."position"', "action_steps.id"]


def statements() -> Iterator[tuple[str, DriverQuery, int]]:
    """Each statement with arrays, and how many of its aggregates read a sorted subquery."""
    yield "measurements", figures.MEASUREMENTS_QUERY, 1
    for role in Role:
        yield f"facts and points ({role})", figures.facts_and_points_query(role), 1
        yield f"goal figures ({role})", figures.facts_and_figures_query(role), 2
        yield f"client figures ({role})", figures.client_figures_query(role), 2


def sorted_aggregates(node: dict[str, Any]) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """(output, input) of every aggregate in the plan that makes arrays without ORDER BY."""
    below = node.get("Plans", [])
    output = node.get("Output", [])
    if node["Node Type"] == "Aggregate" and any(
        column.startswith("array_agg(") and "ORDER BY" not in column for column in output
    ):
        yield output, below[0]
    for child in below:
        yield from sorted_aggregates(child)


def sort_key(node: dict[str, Any]) -> list[str]:
    """The sort key of the node an aggregate reads, if that node is a sort ([] if not)."""
    if node["Node Type"] not in SORTS:
        return []
    return [key.removesuffix("_1") for key in node["Sort Key"]]


@pytest.mark.parametrize(("name", "query", "expected"), list(statements()))
async def test_each_array_reads_its_sort_directly(
    connection: AsyncConnection, name: str, query: DriverQuery, expected: int
) -> None:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    # Planned as the service's connections plan it (`DB_PLAN_CACHE_MODE`): the generic plan
    # of the prepared statement, not one made for these values.
    await driver.execute("SET plan_cache_mode = force_generic_plan")
    await driver.execute(f"PREPARE planned AS {query.sql}")
    given = ", ".join(map(literal, query.arguments(VALUES)))  # EXECUTE takes no parameters
    try:
        found = await driver.fetchval(f"EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE planned({given})")
    finally:
        await driver.execute("DEALLOCATE planned")
        await driver.execute("RESET plan_cache_mode")
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]

    ordered = [
        (output, sort_key(source)) for output, source in sorted_aggregates(plan) if sort_key(source)
    ]
    assert len(ordered) == expected, name
    for output, key in ordered:
        if any("occurred_at" in column for column in output):
            assert [k.split(".")[-1] for k in key] == ["occurred_at", "id"], name
        else:
            assert key == PLAN_ORDER, name
    unsorted = [output for output, source in sorted_aggregates(plan) if not sort_key(source)]
    # Only the habits' completions: grouped per step by the join itself, each step's in time
    # order as its index reads them (a sort there is not needed).
    assert all("step_id" in " ".join(output) for output in unsorted), (name, unsorted)
