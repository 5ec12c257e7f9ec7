"""HTTP for clients and care teams: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response, status

from app.auth.dependencies import ServiceDependency
from app.clients.schemas import CareTeam, CareTeamMemberRead, ClientCreate, ClientRead, ClientUpdate
from app.clients.service import ClientService
from app.http import CREATED_WITH_LOCATION, IfMatchHeader, etag, parse_if_match
from app.limits import charge_listed
from app.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, decode_cursor
from app.problems import problem_responses
from app.schemas import Absent, ExternalCode, Identifier
from app.transaction import domain_router

router = domain_router("clients", prefix="/v1/clients")


ClientServiceDep = Annotated[
    ClientService,
    Depends(ServiceDependency(lambda session, caller, _: ClientService(session, caller))),
]
ClinicianSubject = Annotated[Identifier, Path(description="The clinician's user id (`sub`).")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a client",
    responses={**problem_responses(403, 409, 415), **CREATED_WITH_LOCATION},
)
async def create_client(
    body: ClientCreate, service: ClientServiceDep, response: Response
) -> ClientRead:
    """Register a client of your organization. A clinician who creates a client joins its care
    team. `external_id` (the EHR's id) is unique in the organization: a duplicate is 409."""
    client = await service.create(body)
    response.headers["ETag"] = etag(client.version)
    response.headers["Location"] = f"/v1/clients/{client.id}"
    return ClientRead.model_validate(client)


@router.get("", summary="List clients", responses=problem_responses(400))
async def list_clients(
    request: Request,
    service: ClientServiceDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    external_id: Annotated[
        ExternalCode | Absent, Query(description="Find a client by the EHR's id.")
    ] = None,
) -> Page[ClientRead]:
    """The clients you may see (admins: all in the organization; clinicians: their care teams;
    clients: themselves), oldest first, in pages."""
    items, next_cursor = await service.search(
        after=decode_cursor(cursor), limit=limit, external_id=external_id
    )
    await charge_listed(request, len(items))
    return Page[ClientRead](
        items=[ClientRead.model_validate(c) for c in items], next_cursor=next_cursor
    )


@router.get("/{client_id:uuid}", summary="Get a client", responses=problem_responses(404))
async def get_client(
    client_id: uuid.UUID, service: ClientServiceDep, response: Response
) -> ClientRead:
    """One client. 404 when it does not exist or you may not see it: the two are never told
    apart."""
    client = await service.get(client_id)
    response.headers["ETag"] = etag(client.version)
    return ClientRead.model_validate(client)


@router.patch(
    "/{client_id:uuid}",
    summary="Update a client",
    responses=problem_responses(400, 403, 404, 409, 412, 415),
)
async def update_client(
    client_id: uuid.UUID,
    body: ClientUpdate,
    service: ClientServiceDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ClientRead:
    """Change the fields you send; others stay. Send `If-Match` with the ETag you read to avoid
    overwriting a colleague's change (412 if it moved on)."""
    client = await service.update(client_id, body, parse_if_match(if_match))
    response.headers["ETag"] = etag(client.version)
    return ClientRead.model_validate(client)


@router.get(
    "/{client_id:uuid}/care-team",
    summary="List a client's care team",
    responses=problem_responses(404),
)
async def get_care_team(client_id: uuid.UUID, service: ClientServiceDep) -> CareTeam:
    """The clinicians who may see and work with this client."""
    members = await service.care_team(client_id)
    return CareTeam(
        client_id=client_id, members=[CareTeamMemberRead.model_validate(m) for m in members]
    )


@router.put(
    "/{client_id:uuid}/care-team/{clinician_subject}",
    summary="Add a clinician to the care team",
    responses={
        **problem_responses(403, 404),
        200: {"model": CareTeam, "description": "Already on the team."},
    },
    status_code=status.HTTP_201_CREATED,
)
async def add_care_team_member(
    client_id: uuid.UUID,
    clinician_subject: ClinicianSubject,
    service: ClientServiceDep,
    response: Response,
) -> CareTeam:
    """Idempotent: 201 when the clinician joins, 200 when they were already on the team."""
    if not await service.add_to_care_team(client_id, clinician_subject):
        response.status_code = status.HTTP_200_OK
    return await get_care_team(client_id, service)


@router.delete(
    "/{client_id:uuid}/care-team/{clinician_subject}",
    summary="Remove a clinician from the care team",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,  # no body, so no Content-Type either
    responses=problem_responses(403, 404),
)
async def remove_care_team_member(
    client_id: uuid.UUID, clinician_subject: ClinicianSubject, service: ClientServiceDep
) -> None:
    """The clinician loses access to this client at once."""
    await service.remove_from_care_team(client_id, clinician_subject)
