"""A hash chain over the audit trail, so that a changed, removed or slipped-in record shows.

The trail's triggers refuse UPDATE and DELETE to the service's own statements; whoever can
drop a trigger (a superuser, the schema owner) could still rewrite it. A seal hashes a run of
audit events, in id order, after the previous seal's hash: change anything sealed and the
chain no longer checks (`python -m app.cli verify-audit`). Each seal's hash is logged as it
is made, so a copy of the chain lives outside the database too.

Events are sealed only once they are older than `GRACE`, far longer than any transaction
here runs: an event is hashed once no earlier id can still be committing. The rows are put
into words by PostgreSQL itself (`SealRepository`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.audit.repository import SealRepository

GRACE = timedelta(minutes=5)
SEAL_INTERVAL = timedelta(minutes=1)
BATCH = 10_000  # events per seal
GENESIS = b""  # the hash before the first seal
_NO_EVENT = uuid.UUID(int=0)

_log = structlog.get_logger("app.audit")


async def seal_pending(connection: AsyncConnection, *, grace: timedelta = GRACE) -> int:
    """Seals what is old enough, in seals of up to `BATCH` events, in the connection's
    transaction (the caller commits). Returns how many events it sealed; none if another
    worker is sealing right now."""
    seals = SealRepository(connection)
    if not await seals.try_lock():
        return 0
    last = await seals.last()
    after, previous = (last.through_id, bytes(last.hash)) if last else (_NO_EVENT, GENESIS)
    sealed = 0
    while True:
        run = await seals.digest_old_enough(after, previous, grace=grace, batch=BATCH)
        if not run.events:
            return sealed
        seal_id = await seals.add(run.through_id, run.events, previous, bytes(run.hash))
        _log.info("audit sealed", seal=seal_id, events=run.events, hash=bytes(run.hash).hex())
        sealed += run.events
        after, previous = run.through_id, bytes(run.hash)


@dataclass(frozen=True)
class ChainCheck:
    seals: int
    events: int
    broken_at: int | None  # the first seal that does not check, if any
    reason: str = ""
    unsealed: int = 0  # events after the last seal: sealed once GRACE old

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify_chain(connection: AsyncConnection) -> ChainCheck:
    """Recomputes every seal from the events it covers and the seal before it."""
    repository = SealRepository(connection)
    after, previous = _NO_EVENT, GENESIS
    seals = events = 0
    for seal in await repository.all():
        found = await repository.digest_between(after, seal.through_id, previous)
        problem = _mismatch(seal, found, previous)
        if problem:
            return ChainCheck(seals, events, broken_at=seal.id, reason=problem)
        seals, events = seals + 1, events + seal.events
        after, previous = seal.through_id, bytes(seal.hash)
    unsealed = await repository.count_after(after)
    return ChainCheck(seals, events, broken_at=None, unsealed=unsealed)


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
