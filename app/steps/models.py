from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin

STEP_STATUSES = ["todo", "in_progress", "done", "skipped"]


class ActionStep(IdMixin, TimestampMixin, Base):
    """One small step of a goal's action plan. Deleting a step only hides it (`deleted_at`):
    progress events that point at it stay meaningful."""

    __tablename__ = "action_steps"
    __table_args__ = (
        Index(
            "uq_action_steps_goal_id_position_live",
            "goal_id",
            "position",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(None, "org_id", "id"),
        CheckConstraint(
            "status IN ({})".format(", ".join(repr(s) for s in STEP_STATUSES)), name="status"
        ),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )

    org_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"))
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("goals.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="todo")
    due_date: Mapped[date | None]
    recurrence: Mapped[dict[str, Any] | None]
    completed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
