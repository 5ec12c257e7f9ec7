"""Idempotency-Key on every POST (Stripe's rules, per caller).

The first request with a key runs and its response is stored in the same transaction as its
work. Within 24 hours the same key and request get that stored response again (with
`Idempotent-Replayed: true`); the same key with a different request is 422; the same key while
the first request is still running is 409 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import Header, Request, Response
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.caller import Caller
from app.auth.dependencies import get_caller
from app.db import new_id, utcnow
from app.idempotency.repository import IdempotencyRepository, Owner
from app.problems import IdempotencyKeyInFlight, IdempotencyKeyReused, NotFound
from app.resources import can_see, resource_of
from app.schemas import Absent

RETENTION = timedelta(hours=24)
# A replay for a caller who may no longer see what the first request was about (taken off the
# care team since, or the same subject with another role): 404, as any request of theirs
# about it is.
NO_LONGER_VISIBLE = "What this request was about is not visible to you."
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True, slots=True)
class PendingKey:
    owner: Owner
    key: str
    request_hash: str


class Replay(Exception):
    """Raised instead of running the handler: the stored response goes out instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("idempotent replay")
        self.response = response


def owner_of(caller: Caller) -> Owner:
    return caller.org_id, caller.principal


def fingerprint(request: Request, body: bytes) -> str:
    """What makes two requests the same one: method, path, query and body, the body by its
    JSON value. A retry that serializes the same object with other spacing or key order is
    the same request (Stripe compares parameters, not bytes); so is `1e0` for `1.0`, but not
    `1` for `1.0`, which JSON tells apart. A body that is not JSON counts by its bytes."""
    return _digest(request, _canonical(body))


def _byte_fingerprint(request: Request, body: bytes) -> str:
    """The fingerprint of keys stored before bodies counted by their JSON value. Only those
    keys can match it (a body's JSON value hashing like another body's bytes would be a
    SHA-256 collision), and they expire within RETENTION of that change: then this can go."""
    return _digest(request, body)


def _digest(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode())
        digest.update(b"\x1f")
    digest.update(body)
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes:
    """The body's JSON value, written one way: sorted keys, no spaces, ASCII only (so a lone
    surrogate, which JSON allows and UTF-8 cannot carry, is escaped). A body that is not JSON,
    or nested too deep to write, is itself: the handler refuses it, and nothing is stored."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        return body


IdempotencyKeyHeader = Annotated[
    Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]
    | Absent,
    Header(
        description="Any unique string (a UUID is ideal), up to 255 visible ASCII characters. "
        "Retrying with the same key within 24 h returns the first response instead of doing "
        "the work twice."
    ),
]


async def idempotency_guard(request: Request, idempotency_key: IdempotencyKeyHeader = None) -> None:
    if idempotency_key is None:
        return
    caller = await get_caller.authenticate(request)
    owner = owner_of(caller)
    body = await request.body()
    request_hash = fingerprint(request, body)
    repository = IdempotencyRepository(request.state.session)
    if not await repository.try_lock(owner, idempotency_key):
        raise IdempotencyKeyInFlight(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
    stored = await repository.find(owner, idempotency_key, utcnow())
    if stored is None:
        request.state.idempotency = PendingKey(owner, idempotency_key, request_hash)
        return
    if stored.request_hash != request_hash and (
        stored.request_hash != _byte_fingerprint(request, body)
    ):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key."
        )
    if stored.resource_type is not None and stored.resource_id is not None:
        session = request.state.session
        if not await can_see(session, caller, stored.resource_type, stored.resource_id):
            raise NotFound(NO_LONGER_VISIBLE)
    headers = {**stored.response_headers, "Idempotent-Replayed": "true"}
    raise Replay(Response(stored.response_body, stored.status_code, headers=headers))


def stored_without(*fields: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency for a route whose response carries a secret shown once (a new API key):
    the response stored for replays has these top-level fields set to null, so the secret
    never sits in the database, not even for a day. A replay says the work was done and
    what was made, but cannot show the secret again."""

    async def leave_out_of_replays(request: Request) -> None:
        request.state.replay_without = fields

    return leave_out_of_replays


def _without(body: bytes, fields: tuple[str, ...]) -> bytes:
    document: dict[str, Any] = json.loads(body)
    document.update(dict.fromkeys(fields))
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


async def remember_response(request: Request, response: Response) -> None:
    """Called by the route class inside the request's transaction, before it commits."""
    pending: PendingKey | None = getattr(request.state, "idempotency", None)
    if pending is None:
        return
    body = bytes(response.body)
    secret_fields: tuple[str, ...] = getattr(request.state, "replay_without", ())
    if secret_fields and 200 <= response.status_code < 300:
        body = _without(body, secret_fields)
    now = utcnow()
    headers = {name: value for name, value in response.headers.items() if name in REPLAYED_HEADERS}
    resource_type, resource_id = resource_of(request, response)
    await IdempotencyRepository(request.state.session).save(
        {
            "id": new_id(),
            "org_id": pending.owner[0],
            "principal": pending.owner[1],
            "key": pending.key,
            "request_hash": pending.request_hash,
            "status_code": response.status_code,
            "response_body": body,
            "response_headers": headers,
            "resource_type": resource_type if resource_id else None,
            "resource_id": uuid.UUID(resource_id) if resource_id else None,
            "created_at": now,
            "expires_at": now + RETENTION,
        }
    )


async def purge_expired(repository: IdempotencyRepository, now: datetime | None = None) -> int:
    return await repository.purge(now or utcnow())


PURGE_INTERVAL = timedelta(minutes=15)


async def purge_periodically(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Runs for the life of a worker: keeps the table to about a day of keys."""
    log = structlog.get_logger("app.idempotency")
    while True:
        try:
            async with sessionmaker() as session:
                purged = await purge_expired(IdempotencyRepository(session))
                await session.commit()
            if purged:
                log.info("purged idempotency keys", count=purged)
        except Exception as exc:  # keep purging later; never take the worker down
            log.warning("idempotency purge failed", error=type(exc).__name__)
        await asyncio.sleep(PURGE_INTERVAL.total_seconds())
