"""The session-outcome wire format (what EHR integrations post after a therapy session)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from app.goals.schemas import MeasureNumber
from app.goals.vocabulary import AchievementStatus
from app.progress.schemas import GasLevelValue
from app.schemas import (
    Absent,
    ExternalCode,
    Identifier,
    LongText,
    ReadModel,
    Timestamp,
    WireModel,
)

_EXAMPLE: dict[str, Any] = {
    "external_id": "ENC-2026-11-20-0042",
    "client_external_id": "MRN-004211",
    "occurred_at": "2026-11-20T15:00:00Z",
    "clinician": "dr.okafor",
    "note": "Reviewed the diary; agreed to add a weekend entry.",
    "goals": [
        {
            "goal_id": "0193a4c3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
            "value": 4,
            "achievement_status": "improving",
            "note": "Four entries this week.",
        }
    ],
}


class OutcomeForGoal(WireModel):
    goal_id: uuid.UUID
    value: MeasureNumber | None = Field(default=None, description="A measurement, if taken.")
    gas_level: GasLevelValue | None = None
    achievement_status: AchievementStatus | None = Field(
        default=None, description="The clinician's judgement; it becomes the goal's status."
    )
    note: LongText | None = None


class SessionOutcomeCreate(WireModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
    _not_null = frozenset({"client_id", "client_external_id"})

    external_id: ExternalCode = Field(
        description="The EHR's id for this session; sending it again "
        "with the same body is safe (200, nothing duplicated)."
    )
    client_id: uuid.UUID | Absent = None
    client_external_id: ExternalCode | Absent = Field(
        default=None, description="Instead of `client_id`: the client's id in the EHR."
    )
    occurred_at: Timestamp
    clinician: Identifier | None = None
    note: LongText | None = None
    goals: list[OutcomeForGoal] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_client_reference(self) -> SessionOutcomeCreate:
        if (self.client_id is None) == (self.client_external_id is None):
            raise ValueError("give exactly one of client_id and client_external_id")
        return self


class SessionOutcomeRead(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in _EXAMPLE.items() if k != "client_external_id"},
                    "id": "0193a4f0-0000-7000-8000-0000000000f1",
                    "client_id": "0193a4c2-5b1e-7c3d-9f4a-2b6c8d0e1f23",
                    "progress_event_ids": ["0193a4f0-0000-7000-8000-0000000000e9"],
                    "created_at": "2026-11-20T16:02:11Z",
                }
            ]
        }
    )

    id: uuid.UUID
    external_id: str
    client_id: uuid.UUID
    occurred_at: datetime
    clinician: str | None
    note: str | None
    goals: list[OutcomeForGoal]
    progress_event_ids: list[uuid.UUID]
    created_at: datetime
