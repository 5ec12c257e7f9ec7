from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

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
    subject_id: str | None = Field(
        description="Whom the action was about besides the record: the clinician added to "
        "or removed from a client's care team."
    )
