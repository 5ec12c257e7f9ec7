"""HTTP for goals: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from app.auth.dependencies import ServiceDependency
from app.goals.lifecycle import LifecycleStatus
from app.goals.repository import GoalFilters
from app.goals.schemas import (
    GoalCreate,
    GoalDraft,
    GoalRead,
    GoalUpdate,
    RevisionRead,
    TransitionRequest,
)
from app.goals.service import GoalService, to_read
from app.goals.smart import SmartReport
from app.goals.vocabulary import Category
from app.http import (
    CREATED_WITH_LOCATION,
    IfMatchHeader,
    TimestampText,
    etag,
    parse_if_match,
    parse_timestamp,
)
from app.limits import charge_listed
from app.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, decode_cursor
from app.problems import problem_responses
from app.schemas import Absent
from app.transaction import domain_router

router = domain_router("goals")


GoalServiceDep = Annotated[
    GoalService, Depends(ServiceDependency(lambda session, caller, _: GoalService(session, caller)))
]
StatusFilter = Annotated[
    list[LifecycleStatus] | Absent,
    Query(description="Only goals in these lifecycle statuses (repeat to give several)."),
]
CategoryFilter = Annotated[
    list[Category] | Absent, Query(description="Only goals in these categories.")
]
UpdatedSince = Annotated[
    TimestampText | Absent,
    Query(description="Only goals changed at or after this time (RFC 3339), for syncing."),
]


def _goal_response(goal_read: GoalRead, response: Response) -> GoalRead:
    response.headers["ETag"] = etag(goal_read.version)
    return goal_read


async def _list(
    request: Request,
    service: GoalService,
    filters: GoalFilters,
    limit: int,
    cursor: str | None,
) -> Page[GoalRead]:
    goals, next_cursor = await service.search(filters, after=decode_cursor(cursor), limit=limit)
    await charge_listed(request, len(goals))
    return Page[GoalRead](items=goals, next_cursor=next_cursor)


@router.post(
    "/v1/clients/{client_id:uuid}/goals",
    status_code=status.HTTP_201_CREATED,
    summary="Create (propose) a goal for a client",
    responses={**problem_responses(403, 404, 409, 415), **CREATED_WITH_LOCATION},
)
async def create_goal(
    client_id: uuid.UUID, body: GoalCreate, service: GoalServiceDep, response: Response
) -> GoalRead:
    """Every new goal starts as `proposed`, whoever writes it, and carries its SMART report so
    the form can show what is missing. It need not be SMART yet; it must be before it becomes
    `active`. Clients may propose goals for themselves."""
    goal = await service.create(client_id, body)
    response.headers["Location"] = f"/v1/goals/{goal.id}"
    return _goal_response(to_read(goal), response)


@router.get(
    "/v1/clients/{client_id:uuid}/goals",
    summary="List a client's goals",
    responses=problem_responses(400, 404),
)
async def list_client_goals(
    request: Request,
    client_id: uuid.UUID,
    service: GoalServiceDep,
    lifecycle_status: StatusFilter = None,
    category: CategoryFilter = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[GoalRead]:
    """The client's goals, oldest first, in pages. 404 if you may not see the client."""
    return await list_goals(
        request, service, client_id, lifecycle_status, category, updated_since, limit, cursor
    )


@router.get(
    "/v1/goals", summary="List all goals you may see", responses=problem_responses(400, 404)
)
async def list_goals(
    request: Request,
    service: GoalServiceDep,
    client_id: Annotated[uuid.UUID | Absent, Query(description="Only this client's goals.")] = None,
    lifecycle_status: StatusFilter = None,
    category: CategoryFilter = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[GoalRead]:
    """Goals across the clients you may see (a clinician: their care teams), oldest first.
    Pages are keyset-based: walking them while goals are added never skips or repeats one."""
    filters = GoalFilters(
        client_id=client_id,
        lifecycle_statuses=tuple(lifecycle_status or ()),
        categories=tuple(category or ()),
        updated_since=parse_timestamp(updated_since, "updated_since"),
    )
    return await _list(request, service, filters, limit, cursor)


@router.post(
    "/v1/goals/validate",
    summary="Check a draft goal against SMART (saves nothing)",
    responses=problem_responses(415),
)
async def validate_goal(body: GoalDraft, _service: GoalServiceDep) -> SmartReport:
    """A dry run for goal forms: send what is written so far and get, for each SMART criterion,
    pass/warn/fail with messages and suggestions to show the person writing it."""
    return GoalService.validate(body)


@router.get("/v1/goals/{goal_id:uuid}", summary="Get a goal", responses=problem_responses(404))
async def get_goal(goal_id: uuid.UUID, service: GoalServiceDep, response: Response) -> GoalRead:
    """One goal with its current SMART report. The `ETag` header is what `If-Match` wants."""
    return _goal_response(await service.read(goal_id), response)


@router.patch(
    "/v1/goals/{goal_id:uuid}",
    summary="Change a goal",
    responses=problem_responses(400, 403, 404, 409, 412, 415),
)
async def update_goal(
    goal_id: uuid.UUID,
    body: GoalUpdate,
    service: GoalServiceDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GoalRead:
    """Change the fields you send; every change is kept in the goal's revisions. Send `If-Match`
    with the ETag you read: if someone changed the goal since, you get 412, not a lost update.
    An `active` goal must stay SMART (422 with the report otherwise). Setting `is_focus` moves
    the client's focus here. A cancelled, rejected or entered-in-error goal is closed for good:
    409."""
    goal = await service.update(goal_id, body, parse_if_match(if_match))
    return _goal_response(to_read(goal), response)


@router.post(
    "/v1/goals/{goal_id:uuid}/transition",
    summary="Move a goal through its lifecycle",
    responses=problem_responses(400, 403, 404, 409, 412, 415),
)
async def transition_goal(
    goal_id: uuid.UUID,
    body: TransitionRequest,
    service: GoalServiceDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GoalRead:
    """Allowed moves: proposed → planned, accepted, active, rejected, cancelled; planned →
    accepted, active, cancelled; accepted → active, on_hold, cancelled; active → on_hold,
    completed, cancelled; on_hold → active, cancelled; completed → active (reopen); anything →
    entered_in_error. Any other move is 409 with `allowed`. Becoming `active` needs a passing
    SMART report (422 with `smart` otherwise). Clinicians and admins only. `If-Match` with the
    ETag you read makes it 412 if the goal changed since, as for a PATCH."""
    goal = await service.transition(goal_id, body.to, body.reason, parse_if_match(if_match))
    return _goal_response(to_read(goal), response)


@router.get(
    "/v1/goals/{goal_id:uuid}/revisions",
    summary="A goal's history of changes",
    responses=problem_responses(400, 404),
)
async def list_goal_revisions(
    goal_id: uuid.UUID,
    request: Request,
    service: GoalServiceDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[RevisionRead]:
    """Every create, change and transition, oldest first: who (`actor_subject`, `actor_role`),
    when, which fields went from what to what, and why."""
    revisions, next_cursor = await service.revisions(
        goal_id, after=decode_cursor(cursor), limit=limit
    )
    await charge_listed(request, len(revisions))
    items = [RevisionRead.from_row(revision) for revision in revisions]
    return Page[RevisionRead](items=items, next_cursor=next_cursor)
