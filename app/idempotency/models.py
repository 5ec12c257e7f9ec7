from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class IdempotencyRecord(IdMixin, Base):
    """A POST's response, kept for 24 hours under the caller's Idempotency-Key."""

    __tablename__ = "idempotency_keys"
    # Keys never cross callers: each caller (organization and principal) has its own.
    __table_args__ = (UniqueConstraint("org_id", "principal", "key"), Index(None, "expires_at"))

    org_id: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(270))  # `Caller.principal`
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, Any]]
    # The record the request was about (`app.resources.resource_of`): a replay goes only to a
    # caller who may still see it.
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
