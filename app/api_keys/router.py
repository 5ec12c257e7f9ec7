"""HTTP for API keys: how an admin gives an EHR integration its credential."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response, status

from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.api_keys.service import ApiKeyService
from app.auth.dependencies import ServiceDependency
from app.http import CREATED_WITH_LOCATION
from app.idempotency.service import stored_without
from app.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, decode_cursor
from app.problems import problem_responses
from app.transaction import domain_router

router = domain_router("api keys", prefix="/v1/api-keys")


ApiKeyServiceDep = Annotated[
    ApiKeyService,
    Depends(
        ServiceDependency(
            lambda session, caller, settings: ApiKeyService(
                session, caller, settings.api_key_pepper
            )
        )
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key for an integration",
    responses={**problem_responses(403, 415), **CREATED_WITH_LOCATION},
    dependencies=[Depends(stored_without("key"))],
)
async def create_api_key(
    body: ApiKeyCreate, response: Response, service: ApiKeyServiceDep
) -> ApiKeyCreated:
    """Admins only. The response carries `key` this once; we store only a keyed hash, so a lost
    key cannot be shown again: revoke it and issue another. The integration sends it as
    `Authorization: Bearer tgk_…`; its `scopes` decide what it may call (`goals:read`,
    `clients:read`, `progress:read`, `session_outcomes:write`). Sent again with the same
    `Idempotency-Key`, the request issues no second key: the replay describes the first with
    `key` null, as the key itself is kept nowhere. If its first response was lost, revoke that
    key and issue another."""
    record, key = await service.create(body)
    response.headers["Location"] = f"/v1/api-keys/{record.id}"
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(record).model_dump(), "key": key}
    )


@router.get("", summary="List your organization's API keys", responses=problem_responses(403))
async def list_api_keys(
    service: ApiKeyServiceDep, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[ApiKeyRead]:
    """Admins only. Never includes the keys themselves; `key_prefix` helps recognise one."""
    keys, next_cursor = await service.search(after=decode_cursor(cursor), limit=limit)
    return Page[ApiKeyRead](
        items=[ApiKeyRead.model_validate(key) for key in keys], next_cursor=next_cursor
    )


@router.get("/{key_id:uuid}", summary="Get an API key", responses=problem_responses(403, 404))
async def get_api_key(key_id: uuid.UUID, service: ApiKeyServiceDep) -> ApiKeyRead:
    """Admins only. Never the key itself: `key_prefix` helps recognise it, `last_used_at` says
    when it was last used. A revoked key is 404 here; `GET /v1/api-keys` still lists it."""
    return ApiKeyRead.model_validate(await service.get(key_id))


@router.delete(
    "/{key_id:uuid}",
    summary="Revoke an API key",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,  # no body, so no Content-Type either
    responses=problem_responses(403, 404),
)
async def revoke_api_key(key_id: uuid.UUID, service: ApiKeyServiceDep) -> None:
    """Admins only. Takes effect at once: the next request with the key is 401. Revoking a
    revoked key is a 204 too."""
    await service.revoke(key_id)
