"""The action-plan step wire format."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from app.schemas import (
    Absent,
    CalendarDate,
    LongText,
    Name,
    PatchModel,
    ReadModel,
    WholeNumber,
    WireModel,
)

StepStatus = Literal["todo", "in_progress", "done", "skipped"]
MAX_STEPS_PER_GOAL = 100


class Recurrence(WireModel):
    """A habit-like step: `times` per day (daily) or per week (weekly)."""

    frequency: Literal["daily", "weekly"]
    times: Annotated[int, Field(ge=1, le=7), WholeNumber] = 1


Position = Annotated[int, Field(ge=0, le=MAX_STEPS_PER_GOAL - 1), WholeNumber]

_EXAMPLE_STEP: dict[str, Any] = {
    "title": "Set a phone reminder for 21:30",
    "description": "A daily reminder to open the notes app and write the evening entry.",
    "due_date": "2026-12-03",
    "recurrence": {"frequency": "daily", "times": 1},
}


class StepCreate(WireModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_STEP]})
    _not_null = frozenset({"position"})

    title: Name
    description: LongText | None = None
    due_date: CalendarDate | None = None
    recurrence: Recurrence | None = None
    position: Position | Absent = Field(
        default=None, description="Where in the plan (from 0); leave out to add it last."
    )


class StepUpdate(PatchModel):
    """Clients may send only `status`; clinicians and admins may change everything."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "done"}, {"position": 0}]})
    _not_null = frozenset({"title", "status", "position"})

    title: Name | Absent = None
    description: LongText | None = None
    status: StepStatus | Absent = None
    due_date: CalendarDate | None = None
    recurrence: Recurrence | None = None
    position: Position | Absent = Field(
        default=None, description="Move the step here; the others are renumbered."
    )


class StepRead(ReadModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE_STEP,
                    "id": "0193a4d0-0000-7000-8000-0000000000a1",
                    "goal_id": "0193a4c3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                    "position": 0,
                    "status": "in_progress",
                    "completed_at": None,
                    "version": 2,
                    "created_at": "2026-12-01T10:05:00Z",
                    "updated_at": "2026-12-02T21:31:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    goal_id: uuid.UUID
    title: str
    description: str | None
    position: int
    status: StepStatus
    due_date: date | None
    recurrence: Recurrence | None
    completed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
