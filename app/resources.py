"""Which record a request is about, and whether a caller may still see it.

The audit trail names the record of every request; a replayed idempotent response is given
only to a caller who may still see the record it is about (a clinician taken off the care
team since, or the same subject with a lesser role, gets 404 like any other request of
theirs about it). Each domain says how to tell whether its records are visible
(`visible_with`), so that this module knows none of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.schemas import Identifier

# Path parameters that name the record a request is about (no route has two of them).
RESOURCE_PARAMS = {
    "client_id": "client",
    "goal_id": "goal",
    "step_id": "step",
    "event_id": "progress_event",
    "outcome_id": "session_outcome",
    "key_id": "api_key",
}
# Path parameters that name whom a request is about besides its record: a care team's member.
SUBJECT_PARAMS = ("clinician_subject",)
# What a 201 from each create operation made.
CREATED = {
    "create_client": "client",
    "create_goal": "goal",
    "create_step": "step",
    "record_progress_event": "progress_event",
    "create_session_outcome": "session_outcome",
    "create_api_key": "api_key",
}

Visible = Callable[[AsyncSession, Caller, uuid.UUID], Awaitable[bool]]
_VISIBLE: dict[str, Visible] = {}


def resource_of(request: Request, response: Response | None) -> tuple[str | None, str | None]:
    """The type and id of the record `request` is about: the one its path names, or the one
    a create made (named by its Location, else its body's `id`)."""
    kind = identifier = None
    for name, resource_type in RESOURCE_PARAMS.items():
        if name in request.path_params:
            kind, identifier = resource_type, str(request.path_params[name])
            break
    operation = getattr(request.scope.get("route"), "name", "")
    if response is not None and response.status_code in (200, 201) and operation in CREATED:
        location = response.headers.get("location", "")
        try:  # the new record's address names it; else its body does
            identifier = str(uuid.UUID(location.rsplit("/", 1)[-1]))
        except ValueError:
            try:
                identifier = str(json.loads(bytes(response.body))["id"])
            except (ValueError, KeyError, TypeError):
                return kind, identifier
        kind = CREATED[operation]
    return kind, identifier


def subject_of(request: Request) -> str | None:
    """Whom `request` is about besides its record, if its path names someone by a valid id: a
    refused path's text (too long, control characters) is the caller's to choose, and its
    attempt is recorded without it."""
    for name in SUBJECT_PARAMS:
        if name in request.path_params:
            try:
                return _SUBJECT.validate_python(str(request.path_params[name]))
            except ValidationError:
                return None
    return None


_SUBJECT: TypeAdapter[str] = TypeAdapter(Identifier)


def visible_with(resource_type: str) -> Callable[[Visible], Visible]:
    """Registers how to tell whether a caller may see a record of `resource_type`."""

    def register(check: Visible) -> Visible:
        _VISIBLE[resource_type] = check
        return check

    return register


async def can_see(
    session: AsyncSession, caller: Caller, resource_type: str, resource_id: uuid.UUID
) -> bool:
    """Whether `caller` may see the record; a type nobody registered is not visible."""
    check = _VISIBLE.get(resource_type)
    return check is not None and await check(session, caller, resource_id)
