"""The progress wire format: events, retractions and summaries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.goals.lifecycle import LifecycleStatus
from app.goals.schemas import MeasureNumber
from app.goals.vocabulary import AchievementStatus
from app.progress.summary import ProgressSummary
from app.schemas import LongText, ReadModel, Timestamp, WholeNumber, WireModel

GasLevelValue = Annotated[int, Field(ge=-2, le=2), WholeNumber]
EventKind = Literal["measurement", "step_completed", "note", "session_outcome"]


class EventCreate(WireModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "measurement", "value": 3},  # occurred_at: now
                {"kind": "note", "note": "Hard week; kept the evening entries anyway."},
                {"kind": "step_completed", "step_id": "0193a4d0-0000-7000-8000-0000000000a1"},
            ]
        }
    )

    kind: Literal["measurement", "step_completed", "note"] = Field(
        description="`session_outcome` events come from `POST /v1/session-outcomes`."
    )
    value: MeasureNumber | None = Field(
        default=None, description="Required for measurements; within the goal's measure."
    )
    gas_level: GasLevelValue | None = Field(
        default=None, description="-2..2, only on goals with GAS levels."
    )
    achievement_status: AchievementStatus | None = Field(
        default=None, description="A clinician's judgement at this point (clinicians only)."
    )
    note: LongText | None = None
    step_id: uuid.UUID | None = Field(default=None, description="Required for `step_completed`.")
    occurred_at: Timestamp | None = Field(
        default=None, description="When it happened (default: now). Not in the future."
    )


class RetractRequest(WireModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Entered on the wrong goal"}]}
    )

    reason: LongText


class EventRead(ReadModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a4e0-0000-7000-8000-0000000000e1",
                    "goal_id": "0193a4c3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                    "step_id": None,
                    "kind": "measurement",
                    "value": 3.0,
                    "gas_level": None,
                    "achievement_status": None,
                    "note": None,
                    "occurred_at": "2026-12-07T20:15:00Z",
                    "recorded_at": "2026-12-07T20:15:03Z",
                    "source": "client",
                    "recorded_by": "auth0|65f1c0",
                    "session_outcome_id": None,
                    "status": "recorded",
                    "retracted_at": None,
                    "retracted_by": None,
                    "retraction_reason": None,
                }
            ]
        },
    )

    id: uuid.UUID
    goal_id: uuid.UUID
    step_id: uuid.UUID | None
    kind: EventKind
    value: float | None
    gas_level: int | None
    achievement_status: AchievementStatus | None
    note: str | None
    occurred_at: datetime
    recorded_at: datetime
    source: Literal["client", "clinician", "integration"]
    recorded_by: str
    session_outcome_id: uuid.UUID | None
    status: Literal["recorded", "retracted"]
    retracted_at: datetime | None
    retracted_by: str | None
    retraction_reason: str | None


class GoalProgress(ProgressSummary):
    goal_id: uuid.UUID


class ClientGoalProgress(BaseModel):
    goal_id: uuid.UUID
    title: str
    lifecycle_status: LifecycleStatus
    is_focus: bool
    progress: ProgressSummary


class ClientSummary(BaseModel):
    client_id: uuid.UUID
    focus_goal_id: uuid.UUID | None
    goals: list[ClientGoalProgress] = Field(description="Each open goal, oldest first.")
    gas_t_score: float | None = Field(
        description="Kiresuk & Sherman T-score (rho 0.3) over the goals with GAS levels and a "
        "recorded level, open or completed (not cancelled, rejected or entered in error); 50 "
        "means as expected."
    )
    next_review_due: date | None = Field(
        description="The active goal reviewed longest ago (a clinician's change or recorded "
        "progress), plus the review interval (90 days by default)."
    )
