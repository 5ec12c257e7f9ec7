"""HTTP for action-plan steps."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response, status

from app.auth.dependencies import ServiceDependency
from app.http import CREATED_WITH_LOCATION, IfMatchHeader, etag, parse_if_match
from app.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, decode_cursor
from app.problems import problem_responses
from app.steps.schemas import StepCreate, StepRead, StepUpdate
from app.steps.service import StepService
from app.transaction import domain_router

router = domain_router("steps")


StepServiceDep = Annotated[StepService, Depends(ServiceDependency(StepService))]


def _step_response(step_read: StepRead, response: Response) -> StepRead:
    response.headers["ETag"] = etag(step_read.version)
    return step_read


@router.post(
    "/v1/goals/{goal_id:uuid}/steps",
    status_code=status.HTTP_201_CREATED,
    summary="Add a step to a goal's action plan",
    responses={**problem_responses(403, 404, 409, 415), **CREATED_WITH_LOCATION},
)
async def create_step(
    goal_id: uuid.UUID, body: StepCreate, service: StepServiceDep, response: Response
) -> StepRead:
    """A new step goes last unless you give `position`; the steps after it move down one.
    Clinicians and admins only. A plan holds at most 100 steps (409 past that); the plan of a
    cancelled, rejected or entered-in-error goal is closed (409)."""
    step = await service.create(goal_id, body)
    response.headers["Location"] = f"/v1/steps/{step.id}"
    return _step_response(StepRead.model_validate(step), response)


@router.get(
    "/v1/goals/{goal_id:uuid}/steps",
    summary="A goal's action plan, in order",
    responses=problem_responses(404),
)
async def list_steps(
    goal_id: uuid.UUID,
    service: StepServiceDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[StepRead]:
    """The plan's steps in `position` order (0, 1, 2, …, no gaps), in pages. A plan holds at
    most 100 steps, so `limit=100` always gets it whole. A page continues after the position
    its cursor's step has now (or had, if it was removed since: the next page starts where it
    was). Another step moved, inserted or removed meanwhile may be seen twice or not at all,
    so read a plan being edited again from the start."""
    steps, next_cursor = await service.plan_page(goal_id, after=decode_cursor(cursor), limit=limit)
    return Page[StepRead](
        items=[StepRead.model_validate(step) for step in steps], next_cursor=next_cursor
    )


@router.get("/v1/steps/{step_id:uuid}", summary="Get a step", responses=problem_responses(404))
async def get_step(step_id: uuid.UUID, service: StepServiceDep, response: Response) -> StepRead:
    """One step; its `ETag` is what `If-Match` wants when you change it."""
    return _step_response(StepRead.model_validate(await service.get(step_id)), response)


@router.patch(
    "/v1/steps/{step_id:uuid}",
    summary="Change a step, tick it off, or move it",
    responses=problem_responses(403, 404, 409, 412, 415),
)
async def update_step(
    step_id: uuid.UUID,
    body: StepUpdate,
    service: StepServiceDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> StepRead:
    """Clients may change only `status` on their own goals; clinicians and admins may change
    everything. `status: done` sets `completed_at` and records a `step_completed` progress event;
    leaving `done` clears `completed_at`. A new `position` moves the step and renumbers the rest
    (a move is a change of the step: a new version). 409 on a closed goal's plan."""
    step = await service.update(step_id, body, parse_if_match(if_match))
    return _step_response(StepRead.model_validate(step), response)


@router.delete(
    "/v1/steps/{step_id:uuid}",
    summary="Remove a step from the plan",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,  # no body, so no Content-Type either
    responses=problem_responses(403, 404, 409, 412),
)
async def delete_step(
    step_id: uuid.UUID, service: StepServiceDep, if_match: IfMatchHeader = None
) -> None:
    """The step leaves the plan and the others close the gap. Progress recorded against it is
    kept. Clinicians and admins only. With `If-Match`, only the version you last read is
    removed (412 if it changed since). Deleting a step that is already gone is a 204 too.
    The plan of a cancelled, rejected or entered-in-error goal is closed: 409."""
    await service.delete(step_id, parse_if_match(if_match))
