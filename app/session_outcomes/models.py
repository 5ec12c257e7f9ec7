from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class SessionOutcome(IdMixin, Base):
    """What an EHR reported about one therapy session. (submitted_by, external_id) is the
    natural idempotency key: the same report sent twice is stored once."""

    __tablename__ = "session_outcomes"
    __table_args__ = (UniqueConstraint("org_id", "submitted_by", "external_id"),)

    org_id: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(270))  # `Caller.principal`
    external_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"))
    occurred_at: Mapped[datetime]
    clinician: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
