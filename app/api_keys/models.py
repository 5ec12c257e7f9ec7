from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class ApiKey(IdMixin, Base):
    """An integration's credential. Only an HMAC of the key is stored; the key is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index(None, "secret_hash", unique=True),
        Index(None, "org_id", "id"),
    )

    org_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    key_prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(255))
