"""Writes held back in a change (app/driver.py), sent in as few statements as may be.

Consecutive writes go as one statement, each but the last in a WITH clause: PostgreSQL runs
every part once, with one snapshot, all or nothing; three writes are one round trip where they
were three. The parts of one statement cannot see each other's rows, so a write joins only if
it changes a table no other part names and names no table another part changes; else it starts
the next statement, which sees what the one before it wrote, as when each write was a
statement of its own. Independence is read from the SQL alone: a table whose triggers read or
write another table (ours have none; the audit trail's only refuse UPDATE and DELETE) must
not be written by a `DriverQuery` that may join others (`DriverQuery.table`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.driver import DriverQuery

Write = tuple["DriverQuery", list[Any]]  # a statement and its positional values


def batches(writes: list[Write]) -> Iterator[tuple[str, list[Any]]]:
    """The statements `writes` go as, in order, each with its values."""
    batch: list[Write] = []
    for write in writes:
        if batch and not _independent(write[0], [query for query, _ in batch]):
            yield _joined(batch)
            batch = []
        batch.append(write)
    if batch:
        yield _joined(batch)


def _independent(query: DriverQuery, others: list[DriverQuery]) -> bool:
    return query.table is not None and not any(
        _mentions(query.sql, other.table) or _mentions(other.sql, query.table) for other in others
    )


@cache
def _mentions(sql: str, table: str | None) -> bool:
    return table is None or re.search(rf"\b{table}\b", sql) is not None


def _joined(batch: list[Write]) -> tuple[str, list[Any]]:
    if len(batch) == 1:
        return batch[0][0].sql, batch[0][1]
    sql = combined(tuple((query.sql, len(arguments)) for query, arguments in batch))
    return sql, [value for _, arguments in batch for value in arguments]


_PARAMETER = re.compile(r"\$(\d+)")


def _shifted(number: re.Match[str], *, by: int) -> str:
    return f"${int(number[1]) + by}"


@cache  # a handful of combinations, each prepared once per connection by asyncpg
def combined(parts: tuple[tuple[str, int], ...]) -> str:
    """`WITH w0 AS (first), w1 AS (second) last`, each part's `$n` moved past the parameters
    of the parts before it (none of these parts holds a literal: see `DriverQuery.table`)."""
    renumbered, offset = [], 0
    for sql, count in parts:
        renumbered.append(_PARAMETER.sub(partial(_shifted, by=offset), sql))
        offset += count
    *first, last = renumbered
    return "WITH " + ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(first)) + " " + last
