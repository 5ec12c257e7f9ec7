"""HTTP for the audit trail (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.audit.repository import AuditFilters, AuditRepository
from app.audit.schemas import AuditEventRead, Outcome
from app.auth.caller import Role
from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.http import TimestampText, parse_timestamp
from app.pagination import (
    DEFAULT_LIMIT,
    LimitQuery,
    Page,
    TimedCursorQuery,
    decode_timed_cursor,
    encode_timed_cursor,
    split_page,
)
from app.permissions import require_role
from app.problems import problem_responses
from app.schemas import Absent, Identifier
from app.transaction import domain_router

router = domain_router("audit")
Text = Annotated[Identifier | Absent, Query()]


@router.get("/v1/audit-events", summary="The audit trail", responses=problem_responses(403))
async def list_audit_events(
    caller: CallerDep,
    session: SessionDep,
    actor_id: Text = None,
    action: Text = None,
    resource_type: Text = None,
    resource_id: Text = None,
    subject_id: Annotated[
        Identifier | Absent,
        Query(
            description="Only events about this person: a clinician let into or out of a care team."
        ),
    ] = None,
    outcome: Annotated[Outcome | Absent, Query()] = None,
    occurred_after: Annotated[TimestampText | Absent, Query()] = None,
    occurred_before: Annotated[TimestampText | Absent, Query()] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: TimedCursorQuery = None,
) -> Page[AuditEventRead]:
    """Admins only. Every read and change of client data in your organization, and every
    refused attempt, newest first: who (user or integration, and which API key), what
    operation, on which record, the outcome, the request id, and the names of the fields a
    change sent (never their values)."""
    require_role(caller, Role.ADMIN, action="read the audit trail")
    filters = AuditFilters(
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        subject_id=subject_id,
        outcome=outcome,
        occurred_after=parse_timestamp(occurred_after, "occurred_after"),
        occurred_before=parse_timestamp(occurred_before, "occurred_before"),
    )
    rows = await AuditRepository(session).search(
        caller.org_id, filters, before=decode_timed_cursor(cursor), limit=limit + 1
    )
    items, next_cursor = split_page(
        rows, limit, lambda event: encode_timed_cursor(event.occurred_at, event.id)
    )
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(event) for event in items], next_cursor=next_cursor
    )
