from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow

EVENT_KINDS = ["measurement", "step_completed", "note", "session_outcome"]
VALUED_KINDS = ["measurement", "session_outcome"]
EVENT_SOURCES = ["client", "clinician", "integration"]
EVENT_STATUSES = ["recorded", "retracted"]
TIMELINE_INCLUDES = ["org_id", "status", "kind", "value", "gas_level", "source"]
STEP_TIMELINE_INCLUDES = ["org_id", "kind", "status"]


def _one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ProgressEvent(IdMixin, Base):
    """Append-only: an event is never changed except to mark it retracted, never deleted."""

    __tablename__ = "progress_events"
    __table_args__ = (
        # A goal's timeline. It also carries what summaries filter and read, so their counts
        # and latest values are index-only scans, not a heap page per event.
        Index(
            "ix_progress_events_goal_timeline",
            "goal_id",
            "occurred_at",
            "id",
            postgresql_include=TIMELINE_INCLUDES,
        ),
        Index(None, "org_id", "id"),
        # A step's completions, with what habit strength filters on: index-only too.
        Index(
            "ix_progress_events_step_timeline",
            "step_id",
            "occurred_at",
            postgresql_include=STEP_TIMELINE_INCLUDES,
            postgresql_where="step_id IS NOT NULL",
        ),
        # A goal's GAS-level readings, newest first for the summary's latest level: the few
        # events that carry one, not the whole timeline back to the last that did.
        Index(
            "ix_progress_events_goal_gas_levels",
            "goal_id",
            "occurred_at",
            "id",
            postgresql_include=["org_id", "status", "gas_level"],
            postgresql_where="gas_level IS NOT NULL",
        ),
        # A goal's recorded events, for the count every summary shows: the count compares
        # keys, where through the timeline it would unpack each entry's included columns.
        Index("ix_progress_events_goal_recorded", "goal_id", "org_id", "status"),
        CheckConstraint(_one_of("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(_one_of("source", EVENT_SOURCES), name="source"),
        CheckConstraint(_one_of("status", EVENT_STATUSES), name="status"),
        CheckConstraint("gas_level BETWEEN -2 AND 2", name="gas_level_range"),
        # Every value is a measurement of the goal (see app/progress/figures.py).
        CheckConstraint(f"value IS NULL OR {_one_of('kind', VALUED_KINDS)}", name="value_kind"),
    )

    org_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"))
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goals.id"))
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("action_steps.id"))
    kind: Mapped[str] = mapped_column(String(24))
    value: Mapped[float | None] = mapped_column(Float)
    gas_level: Mapped[int | None] = mapped_column(SmallInteger)
    achievement_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(255))
    session_outcome_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("session_outcomes.id"))
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    retracted_at: Mapped[datetime | None]
    retracted_by: Mapped[str | None] = mapped_column(String(255))
    retraction_reason: Mapped[str | None] = mapped_column(Text)
