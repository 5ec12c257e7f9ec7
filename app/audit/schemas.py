from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from app.schemas import ReadModel

Outcome = Literal["success", "denied", "not_found", "rejected", "replayed", "error"]


class AuditEventRead(ReadModel):
    id: uuid.UUID
    occurred_at: datetime
    actor_type: Literal["user", "integration", "anonymous"]
    actor_id: str | None
    actor_role: str | None
    credential_id: uuid.UUID | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: Outcome
    status_code: int
    request_id: str | None
    changed_fields: list[str]
