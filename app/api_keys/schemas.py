from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from app.auth.scopes import Scope
from app.schemas import Name, ReadModel, WireModel


class ApiKeyCreate(WireModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Clinic EHR (production)",
                    "scopes": ["session_outcomes:write", "goals:read"],
                }
            ]
        }
    )

    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=8)


class ApiKeyRead(ReadModel):
    id: uuid.UUID
    name: str
    scopes: list[Scope]
    key_prefix: str = Field(description="The key's first characters, to recognise it by.")
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str | None = Field(
        description="The key itself. Shown only in this response: store it in your secret "
        "manager now; we keep only a hash. Null in a replay of the request (the same "
        "Idempotency-Key): the key is not kept anywhere to be shown again."
    )
