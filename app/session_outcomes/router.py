"""HTTP for session outcomes posted by EHR integrations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Response, status
from fastapi.responses import JSONResponse

from app.auth.dependencies import ServiceDependency
from app.http import CREATED_WITH_LOCATION, LOCATION_HEADER
from app.problems import problem_responses
from app.session_outcomes.schemas import SessionOutcomeCreate, SessionOutcomeRead
from app.session_outcomes.service import SessionOutcomeService
from app.transaction import domain_router

router = domain_router("session outcomes")


OutcomeServiceDep = Annotated[
    SessionOutcomeService, Depends(ServiceDependency(SessionOutcomeService))
]
_REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {
        "model": SessionOutcomeRead,
        "description": "Sent before with the same body: the first response, nothing new stored.",
        "headers": {"Location": LOCATION_HEADER},
    }
}


@router.post(
    "/v1/session-outcomes",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOutcomeRead,  # what the 201 carries (a replay returns its own 200)
    summary="Record what happened in a therapy session (EHR integrations)",
    responses={**problem_responses(403, 404, 409, 415), **_REPLAYED, **CREATED_WITH_LOCATION},
)
async def create_session_outcome(
    body: SessionOutcomeCreate, service: OutcomeServiceDep, response: Response
) -> Any:
    """One progress event of kind `session_outcome` per goal listed, all in one transaction:
    if any goal is not this client's, or any value does not fit its goal, nothing is stored
    (422 naming the item). The client is found by `client_id` or `client_external_id`.
    Sending the same `external_id` again with the same body returns the first response with
    200 and stores nothing; with a different body it is 409. An `achievement_status` becomes
    the goal's status, recorded in its revisions. Needs the `session_outcomes:write` scope."""
    recorded = await service.record(body)
    outcome = SessionOutcomeRead.model_validate(recorded.body)
    location = f"/v1/session-outcomes/{outcome.id}"  # a replay names it as the first did
    if recorded.replayed:  # as first sent: its fields in the model's order, not jsonb's
        return JSONResponse(
            outcome.model_dump(mode="json"),
            status_code=status.HTTP_200_OK,
            headers={"Idempotent-Replayed": "true", "Location": location},
        )
    response.headers["Location"] = location
    return outcome


@router.get(
    "/v1/session-outcomes/{outcome_id:uuid}",
    summary="Get a session outcome",
    responses=problem_responses(404),
)
async def get_session_outcome(
    outcome_id: uuid.UUID, service: OutcomeServiceDep
) -> SessionOutcomeRead:
    """The outcome as first recorded, with the ids of the progress events it created."""
    return SessionOutcomeRead.model_validate(await service.get(outcome_id))
