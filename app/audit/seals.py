"""A hash chain over the audit trail, so that a changed, removed or slipped-in record shows.

The trail's triggers refuse UPDATE and DELETE to the service's own statements; whoever can
drop a trigger (a superuser, the schema owner) could still rewrite it. A seal hashes a run of
audit events, in id order, after the previous seal's hash: change anything sealed and the
chain no longer checks (`python -m app.cli verify-audit`). Each seal's hash is logged as it
is made, so a copy of the chain lives outside the database too.

Events are sealed only once they are older than `GRACE`, far longer than any transaction
here runs: an event is hashed once no earlier id can still be committing. The rows are put
into words by PostgreSQL itself, column by named column, with timestamps in UTC whatever
the session's time zone.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

GRACE = timedelta(minutes=5)
SEAL_INTERVAL = timedelta(minutes=1)
BATCH = 10_000  # events per seal
GENESIS = b""  # the hash before the first seal
_NO_EVENT = uuid.UUID(int=0)
_LOCK = 0x6175646974  # one sealer at a time across workers and replicas ("audit")

_log = structlog.get_logger("app.audit")

# Every column, named (a column added later must not change how sealed rows read), and the
# events' digest after the previous hash. `{events}` is one of the two row sets below.
_DIGEST = """
SELECT count(*) AS events,
       (array_agg(e.id ORDER BY e.id DESC))[1] AS through_id,
       sha256(CAST(:previous AS bytea) || convert_to(coalesce(string_agg(json_build_array(
           e.id, e.org_id,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           e.actor_type, e.actor_id, e.actor_role, e.credential_id, e.action, e.resource_type,
           e.resource_id, e.outcome, e.status_code, e.request_id, e.changed_fields)::text,
           E'\\n' ORDER BY e.id), ''), 'UTF8')) AS hash
FROM ({events}) AS e
"""
_OLD_ENOUGH = (
    "SELECT * FROM audit_events WHERE id > :after"
    " AND occurred_at < clock_timestamp() - make_interval(secs => :grace)"
    " ORDER BY id LIMIT :batch"
)
_BETWEEN = "SELECT * FROM audit_events WHERE id > :after AND id <= :through"
_PENDING = text(_DIGEST.replace("{events}", _OLD_ENOUGH))
_SEALED = text(_DIGEST.replace("{events}", _BETWEEN))
_LAST_SEAL = text("SELECT through_id, hash FROM audit_seals ORDER BY id DESC LIMIT 1")
_ADD_SEAL = text(
    "INSERT INTO audit_seals (through_id, events, previous_hash, hash, sealed_at) "
    "VALUES (:through_id, :events, :previous, :hash, clock_timestamp()) RETURNING id"
)
_ALL_SEALS = text("SELECT id, through_id, events, previous_hash, hash FROM audit_seals ORDER BY id")
_UNSEALED_BEFORE = text("SELECT count(*) FROM audit_events WHERE id <= :through AND id > :after")


async def seal_pending(connection: AsyncConnection, *, grace: timedelta = GRACE) -> int:
    """Seals what is old enough, in seals of up to `BATCH` events, in the connection's
    transaction (the caller commits). Returns how many events it sealed; none if another
    worker is sealing right now."""
    locked = await connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK})
    if not locked:
        return 0
    last = (await connection.execute(_LAST_SEAL)).first()
    after, previous = (last.through_id, bytes(last.hash)) if last else (_NO_EVENT, GENESIS)
    sealed = 0
    while True:
        batch = (
            await connection.execute(
                _PENDING,
                {
                    "after": after,
                    "previous": previous,
                    "grace": grace.total_seconds(),
                    "batch": BATCH,
                },
            )
        ).one()
        if not batch.events:
            return sealed
        seal_id = await connection.scalar(
            _ADD_SEAL,
            {"through_id": batch.through_id, "events": batch.events, "previous": previous,
             "hash": bytes(batch.hash)},
        )  # fmt: skip
        _log.info("audit sealed", seal=seal_id, events=batch.events, hash=bytes(batch.hash).hex())
        sealed += batch.events
        after, previous = batch.through_id, bytes(batch.hash)


@dataclass(frozen=True)
class ChainCheck:
    seals: int
    events: int
    broken_at: int | None  # the first seal that does not check, if any
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify_chain(connection: AsyncConnection) -> ChainCheck:
    """Recomputes every seal from the events it covers and the seal before it."""
    after, previous = _NO_EVENT, GENESIS
    seals = events = 0
    for seal in (await connection.execute(_ALL_SEALS)).all():
        found = (
            await connection.execute(
                _SEALED, {"after": after, "through": seal.through_id, "previous": previous}
            )
        ).one()
        problem = _mismatch(seal, found, previous)
        if problem:
            return ChainCheck(seals, events, broken_at=seal.id, reason=problem)
        seals, events = seals + 1, events + seal.events
        after, previous = seal.through_id, bytes(seal.hash)
    return ChainCheck(seals, events, broken_at=None)


def _mismatch(seal: Any, found: Any, previous: bytes) -> str:
    if bytes(seal.previous_hash) != previous:
        return "it does not follow the seal before it"
    if found.events != seal.events:
        return f"it sealed {seal.events} events; {found.events} are there now"
    if bytes(found.hash) != bytes(seal.hash):
        return "an event it sealed has changed"
    return ""


async def seal_periodically(engine: AsyncEngine) -> None:
    """Runs for the life of a worker; only one worker seals at a time (an advisory lock)."""
    while True:
        try:
            async with engine.begin() as connection:
                await seal_pending(connection)
        except Exception as exc:  # seal later; never take the worker down
            _log.warning("audit sealing failed", error=type(exc).__name__)
        await asyncio.sleep(SEAL_INTERVAL.total_seconds())
