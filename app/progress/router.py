"""HTTP for progress events and summaries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from app.auth.dependencies import ServiceDependency
from app.http import CREATED_WITH_LOCATION, TimestampText, parse_timestamp
from app.limits import charge_listed
from app.pagination import DEFAULT_LIMIT, LimitQuery, Page, TimedCursorQuery, decode_timed_cursor
from app.problems import problem_responses
from app.progress.repository import EventFilters
from app.progress.schemas import (
    ClientSummary,
    EventCreate,
    EventKind,
    EventRead,
    GoalProgress,
    RetractRequest,
)
from app.progress.service import ProgressService
from app.schemas import Absent
from app.transaction import domain_router

router = domain_router("progress")


ProgressServiceDep = Annotated[ProgressService, Depends(ServiceDependency(ProgressService))]
KindFilter = Annotated[
    list[EventKind] | Absent, Query(description="Only these kinds (repeat to give several).")
]
After = Annotated[
    TimestampText | Absent, Query(description="Only events that occurred after this.")
]
Before = Annotated[
    TimestampText | Absent, Query(description="Only events that occurred before this.")
]


@router.post(
    "/v1/goals/{goal_id:uuid}/progress-events",
    status_code=status.HTTP_201_CREATED,
    summary="Record progress on a goal",
    responses={**problem_responses(403, 404, 409, 415), **CREATED_WITH_LOCATION},
)
async def record_progress_event(
    goal_id: uuid.UUID, body: EventCreate, service: ProgressServiceDep, response: Response
) -> EventRead:
    """Append a measurement (its `value` checked against the goal's measure: within the scale,
    0/1 for yes/no, a whole number for counts), a completed step, or a note. `occurred_at`
    defaults to now; it may not be in the future (5 minutes of clock skew allowed) nor long
    before the goal existed. `source` and `recorded_by` come from your token, never the body.
    Events are never changed or deleted: retract a mistake instead."""
    event = await service.record(goal_id, body)
    response.headers["Location"] = f"/v1/progress-events/{event.id}"
    return event


@router.get(
    "/v1/goals/{goal_id:uuid}/progress-events",
    summary="A goal's progress events, newest first",
    responses=problem_responses(404),
)
async def list_progress_events(
    goal_id: uuid.UUID,
    request: Request,
    service: ProgressServiceDep,
    kind: KindFilter = None,
    occurred_after: After = None,
    occurred_before: Before = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: TimedCursorQuery = None,
) -> Page[EventRead]:
    """Newest `occurred_at` first, retracted events included (see `status`), in keyset pages."""
    filters = EventFilters(
        kinds=tuple(kind or ()),
        occurred_after=parse_timestamp(occurred_after, "occurred_after"),
        occurred_before=parse_timestamp(occurred_before, "occurred_before"),
    )
    events, next_cursor = await service.search(
        goal_id, filters, before=decode_timed_cursor(cursor), limit=limit
    )
    await charge_listed(request, len(events))
    return Page[EventRead](
        items=[EventRead.model_validate(event) for event in events], next_cursor=next_cursor
    )


@router.get(
    "/v1/progress-events/{event_id:uuid}",
    summary="Get a progress event",
    responses=problem_responses(404),
)
async def get_progress_event(event_id: uuid.UUID, service: ProgressServiceDep) -> EventRead:
    """One event, including whether and why it was retracted."""
    return EventRead.model_validate(await service.get(event_id))


@router.post(
    "/v1/progress-events/{event_id:uuid}/retract",
    summary="Retract a progress event recorded by mistake",
    responses=problem_responses(403, 404, 409, 415),
)
async def retract_progress_event(
    event_id: uuid.UUID, body: RetractRequest, service: ProgressServiceDep
) -> EventRead:
    """Marks the event `retracted` with your reason; it stays on the record but no longer
    counts in summaries. Clients may retract what they recorded; clinicians anything. 409 if
    it is already retracted."""
    return EventRead.model_validate(await service.retract(event_id, body.reason))


@router.get(
    "/v1/goals/{goal_id:uuid}/progress",
    summary="How a goal is going",
    responses=problem_responses(404),
)
async def get_goal_progress(goal_id: uuid.UUID, service: ProgressServiceDep) -> GoalProgress:
    """Latest value against baseline and target, percent complete (direction-aware), where the
    straight line from baseline to target says the client would be today, whether they are on
    track, the 8-week trend (null until the readings in it span a day) and when it would reach
    the target, step completion and habit strength, and the achievement status (derived,
    unless a clinician set it)."""
    summary = await service.goal_summary(goal_id)
    return GoalProgress(goal_id=goal_id, **summary.model_dump())


@router.get(
    "/v1/clients/{client_id:uuid}/summary",
    summary="A client's goals at a glance",
    responses=problem_responses(404),
)
async def get_client_summary(client_id: uuid.UUID, service: ProgressServiceDep) -> ClientSummary:
    """Each open goal with its progress, the focus goal, the client's Goal Attainment Scaling
    T-score, and when the next review is due."""
    return await service.client_summary(client_id)
