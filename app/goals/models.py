from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, utcnow
from app.goals.lifecycle import LifecycleStatus
from app.goals.vocabulary import ACHIEVEMENT_STATUSES, CATEGORIES, EXPRESSED_BY, PRIORITIES


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Goal(IdMixin, TimestampMixin, Base):
    __tablename__ = "goals"
    __table_args__ = (
        Index(None, "org_id", "client_id", "id"),
        Index(None, "org_id", "id"),
        Index(
            "uq_goals_one_focus_per_client",
            "client_id",
            unique=True,
            postgresql_where=text("is_focus"),
        ),
        CheckConstraint(_one_of("category", CATEGORIES), name="category"),
        CheckConstraint(_one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(
            _one_of("lifecycle_status", [s.value for s in LifecycleStatus]), name="lifecycle_status"
        ),
        CheckConstraint(
            _one_of("achievement_status", ACHIEVEMENT_STATUSES), name="achievement_status"
        ),
        CheckConstraint(_one_of("expressed_by", EXPRESSED_BY), name="expressed_by"),
        CheckConstraint("gas_weight > 0", name="gas_weight_positive"),
        CheckConstraint(
            _one_of("achievement_status_source", ["clinician", "derived"]),
            name="achievement_status_source",
        ),
    )

    org_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    measure: Mapped[dict[str, Any] | None]
    start_date: Mapped[date | None]
    target_date: Mapped[date | None]
    relevance: Mapped[str | None] = mapped_column(Text)
    expressed_by: Mapped[str] = mapped_column(String(16))
    is_focus: Mapped[bool] = mapped_column(default=False)
    lifecycle_status: Mapped[str] = mapped_column(
        String(24), default=LifecycleStatus.PROPOSED.value
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    achievement_status: Mapped[str | None] = mapped_column(String(24))
    # "clinician" when a clinician set it (it then stays until they clear it), "derived" when
    # computed from progress, null before either.
    achievement_status_source: Mapped[str | None] = mapped_column(String(16))
    gas_levels: Mapped[dict[str, Any] | None]
    gas_weight: Mapped[float] = mapped_column(Float, default=1.0)
    created_by: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class GoalFacts(NamedTuple):
    """The columns the rules about progress and its summaries read, loaded without the unit
    of work: neither edits them (see `goals.repository.facts_select`)."""

    id: uuid.UUID
    org_id: str
    client_id: uuid.UUID
    created_at: datetime
    lifecycle_status: str
    measure: dict[str, Any] | None
    gas_levels: dict[str, Any] | None
    start_date: date | None
    target_date: date | None
    achievement_status: str | None
    achievement_status_source: str | None
    gas_weight: float
    title: str
    is_focus: bool

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> GoalFacts:
        """The facts from a row that has their columns, among others."""
        return cls._make(row[name] for name in cls._fields)


# A goal as the rules about progress read it: loaded to edit, or only its facts.
GoalView = Goal | GoalFacts


class GoalRevision(IdMixin, Base):
    """One recorded change of a goal: who, when, which fields from what to what, and why."""

    __tablename__ = "goal_revisions"
    __table_args__ = (
        Index(None, "goal_id", "id"),
        # When staff last changed the goal (a review), read by every progress summary.
        Index(
            "ix_goal_revisions_staff_changes",
            "goal_id",
            "changed_at",
            postgresql_include=["org_id"],
            postgresql_where=(
                "action <> 'derived' AND (actor_role = 'admin' OR actor_role = 'clinician')"
            ),
        ),
    )

    org_id: Mapped[str] = mapped_column(String(64))
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goals.id"))
    action: Mapped[str] = mapped_column(String(16))
    actor_subject: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    # The progress event whose achievement status (a clinician's judgement) this change put
    # in place, if one did: its retraction withdraws the judgement.
    progress_event_id: Mapped[uuid.UUID | None]
