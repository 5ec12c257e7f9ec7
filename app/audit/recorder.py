"""Writes one audit event per request to client data, from what the route already knows.

Successful requests are recorded in their own transaction (so the record and the change commit
together); refused or failed ones in a separate one after the rollback, so that denied
attempts are on the record too.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import structlog
from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.audit.writer import AuditWriter
from app.auth.caller import Caller, Role
from app.db import new_id, utcnow
from app.driver import DriverQuery, execute
from app.errors import status_of
from app.idempotency.service import Replay
from app.middleware import BODY_METHODS
from app.resources import resource_of, subject_of

_log = structlog.get_logger("app.audit")


def _action(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "name", "unknown"))


def _outcome(status: int, response: Response | None) -> str:
    if response is not None and response.headers.get("Idempotent-Replayed") == "true":
        return "replayed"
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "not_found"
    return "rejected" if status < 500 else "error"


async def _changed_fields(request: Request) -> list[str]:
    """The body's field names that the operation's body model has: the trail is kept for
    good, and the names a caller sends are any text it likes (a refused body's too)."""
    fields = _body_fields(request.scope.get("route"))
    if request.method not in BODY_METHODS or not fields:
        return []
    try:  # parsed once: FastAPI keeps what it parsed on the request
        body: Any = await request.json() if await request.body() else None
    except Exception:  # an unreadable or cut-off body has no field names to record
        return []
    return sorted(key for key in body if key in fields) if isinstance(body, dict) else []


def _body_fields(route: object) -> frozenset[str]:
    """The top-level field names (and aliases) of `route`'s body model; none without one."""
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return frozenset()
    return _model_fields(model)


@cache
def _model_fields(model: type[BaseModel]) -> frozenset[str]:
    names = set(model.model_fields)
    names.update(info.alias for info in model.model_fields.values() if info.alias)
    return frozenset(names)


def _actor_type(caller: Caller | None) -> str:
    if caller is None:
        return "anonymous"
    return "integration" if caller.role is Role.INTEGRATION else "user"


async def _row(request: Request, status: int, response: Response | None) -> dict[str, Any]:
    """The audit row's values by column."""
    caller: Caller | None = getattr(request.state, "caller", None)
    kind, identifier = resource_of(request, response)
    values = {
        "id": new_id(),
        "org_id": caller.org_id if caller else None,
        "occurred_at": utcnow(),
        "actor_type": _actor_type(caller),
        "actor_id": caller.subject if caller else None,
        "actor_role": caller.role.value if caller else None,
        "credential_id": caller.credential_id if caller else None,
        "action": _action(request),
        "resource_type": kind,
        "resource_id": identifier,
        "outcome": _outcome(status, response),
        "status_code": status,
        "request_id": getattr(request.state, "request_id", None),
        "changed_fields": await _changed_fields(request),
        "subject_id": subject_of(request),
    }
    return values


async def record_success(request: Request, session: AsyncSession, response: Response) -> None:
    """A change's record, in the change's own transaction: both commit, or neither."""
    await execute(session, AUDIT_QUERY, await _row(request, response.status_code, response))


async def record_read(request: Request, response: Response) -> None:
    """A read's record, committed with other reads' (app/audit/writer.py) before it answers."""
    writer: AuditWriter = request.app.state.audit_writer
    await writer.write(
        tuple(AUDIT_QUERY.arguments(await _row(request, response.status_code, response)))
    )


# Every request is audited, so this INSERT is on every request's path: compiled once, it runs
# on the driver (app/driver.py) with positional values; read audit rows go in batches of
# those values (app/audit/writer.py).
AUDIT_QUERY = DriverQuery(insert(cast(Table, AuditEvent.__table__)))
INSERT_AUDIT = AUDIT_QUERY.sql
COLUMNS = AUDIT_QUERY.names


async def record_failure(request: Request, exc: Exception) -> None:
    """After the request's transaction rolled back: record the attempt on its own."""
    replayed = exc.response if isinstance(exc, Replay) else None
    status = replayed.status_code if replayed is not None else status_of(exc)
    if status == 503:
        # The database is the problem: waiting for another connection would double the
        # caller's wait and most likely fail too.
        _log.warning("audit record skipped: database unavailable", action=_action(request))
        return
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    try:
        async with sessionmaker() as session:
            await execute(session, AUDIT_QUERY, await _row(request, status, replayed))
            await session.commit()
    except Exception as failure:  # the original error matters more than its audit record
        _log.error("audit record failed", error=type(failure).__name__)
