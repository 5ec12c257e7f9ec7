"""The goal wire format: what front-ends and integrations send and receive."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, WithJsonSchema

from app.goals.lifecycle import LifecycleStatus
from app.goals.models import GoalRevision
from app.goals.smart import SmartReport
from app.goals.vocabulary import AchievementStatus, Category, ExpressedBy, Priority
from app.schemas import (
    TEXT_PATTERN,
    Absent,
    CalendarDate,
    LongText,
    Name,
    PatchModel,
    ReadModel,
    ShortCode,
    WireModel,
)

MeasureNumber = Annotated[float, Strict(), Field(ge=-1e9, le=1e9, allow_inf_nan=False)]
# JSON true/false only: "yes" or 1 are typos, not booleans.
Flag = Annotated[bool, Strict()]
GasLevel = Literal["-2", "-1", "0", "1", "2"]


class Measure(WireModel):
    """How progress is measured. SMART validation checks that these agree with each other."""

    name: Name = Field(examples=["Evenings with a written feelings entry"])
    unit: ShortCode = Field(examples=["evenings per week"])
    kind: Literal["numeric", "count", "scale", "boolean"] = Field(examples=["count"])
    direction: Literal["increase", "decrease", "maintain"] = Field(examples=["increase"])
    baseline: MeasureNumber = Field(examples=[1])
    target: MeasureNumber = Field(examples=[5])
    scale_min: MeasureNumber | None = Field(default=None, description="Required for `scale`.")
    scale_max: MeasureNumber | None = Field(default=None, description="Required for `scale`.")


_GAS_KEYS: list[GasLevel] = ["-2", "-1", "0", "1", "2"]


def _in_level_order(levels: dict[GasLevel, str]) -> dict[GasLevel, str]:
    """From -2 to 2, however they were sent or stored (jsonb keeps its keys in its own order)."""
    return {key: levels[key] for key in _GAS_KEYS if key in levels}


def _all_five_levels(levels: dict[GasLevel, str]) -> dict[GasLevel, str]:
    if set(levels) != set(_GAS_KEYS):
        raise ValueError('give all five levels "-2", "-1", "0", "1" and "2", or none')
    return _in_level_order(levels)


GasLevels = Annotated[
    dict[GasLevel, LongText],
    AfterValidator(_all_five_levels),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                key: {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": TEXT_PATTERN}
                for key in _GAS_KEYS
            },
            "required": _GAS_KEYS,
            "additionalProperties": False,
        }
    ),
    Field(
        description="Goal Attainment Scaling: what each level from -2 (much less than expected) "
        "to +2 (much more than expected) looks like for this client.",
        examples=[
            {
                "-2": "No entries in a week",
                "-1": "1-2 entries a week",
                "0": "3-4 entries a week",
                "1": "5-6 entries a week",
                "2": "An entry every evening",
            }
        ],
    ),
]
GasWeight = Annotated[float, Strict(), Field(gt=0, le=100, allow_inf_nan=False)]

# The examples' dates are relative to the day the schema is written (the app writes it again
# each day), so that "try it out" with the example body makes a goal that can become active:
# its target date is still ahead.
_EXAMPLE_GOAL: dict[str, Any] = {
    "title": "Write down one feeling and its trigger each evening",
    "description": "Use the notes app before bed to name one feeling from the day and what set it "
    "off, to spot patterns before the next session.",
    "category": "emotional_awareness",
    "priority": "high",
    "measure": {
        "name": "Evenings with a feelings entry",
        "unit": "evenings per week",
        "kind": "count",
        "direction": "increase",
        "baseline": 1,
        "target": 5,
    },
    "relevance": "Naming feelings early helps R. notice anger building before it turns into "
    "arguments at home.",
    "is_focus": True,
}


def _today() -> date:
    return datetime.now(UTC).date()


def _dated_goal_example(schema: dict[str, Any]) -> None:
    today = _today()
    dates = {"start_date": today, "target_date": today + timedelta(weeks=12)}
    schema["examples"] = [{**_EXAMPLE_GOAL, **{k: v.isoformat() for k, v in dates.items()}}]


def _dated_edit_example(schema: dict[str, Any]) -> None:
    target = _today() + timedelta(weeks=16)
    schema["examples"] = [{"target_date": target.isoformat(), "priority": "medium"}]


class GoalCreate(WireModel):
    model_config = ConfigDict(json_schema_extra=_dated_goal_example)

    title: Name = Field(
        description="What the client will do, in their words: a behaviour, not a feeling."
    )
    description: LongText | None = None
    category: Category
    priority: Priority = "medium"
    measure: Measure | None = None
    start_date: CalendarDate | None = None
    target_date: CalendarDate | None = None
    relevance: LongText | None = Field(default=None, description="Why this matters to this client.")
    expressed_by: ExpressedBy | None = Field(
        default=None,
        description="Whose words the goal is. Defaults to the caller's side "
        "(always `client` when a client proposes it).",
    )
    is_focus: Flag = Field(
        default=False,
        description="Make this the client's one focus goal (the previous one stops being it).",
    )
    gas_levels: GasLevels | None = None
    gas_weight: GasWeight = 1.0


class GoalDraft(WireModel):
    """A goal as far as it is written: every field optional, for `POST /v1/goals/validate`."""

    model_config = ConfigDict(json_schema_extra=_dated_goal_example)

    title: Name | None = None
    description: LongText | None = None
    category: Category | None = None
    priority: Priority | None = None
    measure: Measure | None = None
    start_date: CalendarDate | None = None
    target_date: CalendarDate | None = None
    relevance: LongText | None = None
    expressed_by: ExpressedBy | None = None
    is_focus: Flag | None = None
    gas_levels: GasLevels | None = None
    gas_weight: GasWeight | None = None


class GoalUpdate(PatchModel):
    """Send only what changes. Lifecycle moves go through `POST /v1/goals/{id}/transition`."""

    model_config = ConfigDict(json_schema_extra=_dated_edit_example)
    _not_null = frozenset(
        {"title", "category", "priority", "is_focus", "gas_weight", "expressed_by"}
    )

    title: Name | Absent = None
    description: LongText | None = None
    category: Category | Absent = None
    priority: Priority | Absent = None
    measure: Measure | None = None
    start_date: CalendarDate | None = None
    target_date: CalendarDate | None = None
    relevance: LongText | None = None
    expressed_by: ExpressedBy | Absent = None
    is_focus: Flag | Absent = None
    achievement_status: AchievementStatus | None = Field(
        default=None, description="Set by a clinician; clients may not."
    )
    gas_levels: GasLevels | None = None
    gas_weight: GasWeight | Absent = None


class TransitionRequest(WireModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "active", "reason": "Agreed in session 3"}]}
    )

    to: LifecycleStatus
    reason: LongText | None = Field(default=None, description="Why; kept in the goal's revisions.")


class GoalState(ReadModel):
    """The fields of a goal that revisions track."""

    title: str
    description: str | None
    category: Category
    priority: Priority
    measure: Measure | None
    start_date: date | None
    target_date: date | None
    relevance: str | None
    expressed_by: ExpressedBy
    is_focus: bool
    lifecycle_status: LifecycleStatus
    status_reason: str | None
    achievement_status: AchievementStatus | None
    gas_levels: Annotated[dict[GasLevel, str], AfterValidator(_in_level_order)] | None
    gas_weight: float


class GoalRead(GoalState):
    achievement_status_source: Literal["clinician", "derived"] | None = Field(
        description="`clinician` when set by a clinician (it stays until cleared with null); "
        "`derived` when computed from recorded progress, as of the goal's creation, last "
        "progress or last edit: the goal's progress summary derives it as of now."
    )
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE_GOAL,
                    "start_date": "2026-12-01",
                    "target_date": "2027-02-28",
                    "id": "0193a4c3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                    "client_id": "0193a4c2-5b1e-7c3d-9f4a-2b6c8d0e1f23",
                    "expressed_by": "clinician",
                    "lifecycle_status": "active",
                    "status_reason": "Agreed in session 3",
                    "status_changed_at": "2026-12-01T10:00:00Z",
                    "achievement_status": "in_progress",
                    "gas_levels": None,
                    "gas_weight": 1.0,
                    "smart": {
                        "score": 5,
                        "passed": True,
                        "criteria": {
                            name: {"status": "pass", "messages": [], "suggestions": []}
                            for name in (
                                "specific",
                                "measurable",
                                "achievable",
                                "relevant",
                                "time_bound",
                            )
                        },
                    },
                    "version": 3,
                    "created_at": "2026-11-20T09:31:00Z",
                    "updated_at": "2026-12-01T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    client_id: uuid.UUID
    status_changed_at: datetime
    smart: SmartReport
    version: int
    created_at: datetime
    updated_at: datetime


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class RevisionRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a4c9-0000-7000-8000-00000000a001",
                    "goal_id": "0193a4c3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                    "action": "transitioned",
                    "actor_subject": "alice",
                    "actor_role": "clinician",
                    "changed_at": "2026-12-01T10:00:00Z",
                    "changes": [
                        {"field": "lifecycle_status", "before": "proposed", "after": "active"}
                    ],
                    "reason": "Agreed in session 3",
                    "progress_event_id": None,
                }
            ]
        }
    )

    id: uuid.UUID
    goal_id: uuid.UUID
    action: Literal["created", "updated", "transitioned", "derived"] = Field(
        description="`derived`: the achievement status that recorded progress (or a change "
        "of what it is worked out from) gave the goal, by the request that changed it."
    )
    actor_subject: str
    actor_role: str
    changed_at: datetime
    changes: list[FieldChange]
    reason: str | None
    progress_event_id: uuid.UUID | None = Field(
        description="The progress event (or session outcome's event) whose achievement status "
        "this change put in place, or whose retraction withdrew it; null for other changes."
    )

    @classmethod
    def from_row(cls, revision: GoalRevision) -> RevisionRead:
        return cls(
            id=revision.id,
            goal_id=revision.goal_id,
            action=revision.action,
            actor_subject=revision.actor_subject,
            actor_role=revision.actor_role,
            changed_at=revision.changed_at,
            changes=[
                FieldChange(field=field, before=change["before"], after=change["after"])
                for field, change in revision.changes.items()
            ],
            reason=revision.reason,
            progress_event_id=revision.progress_event_id,
        )
