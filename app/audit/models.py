from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, LargeBinary, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class AuditEvent(IdMixin, Base):
    """Who did what to which record, and how it ended (HIPAA 164.312(b) audit controls).

    Append-only: a trigger refuses UPDATE and DELETE. Field names are kept, values never.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "org_id", "occurred_at", "id"),
        Index(None, "org_id", "resource_id"),
    )

    org_id: Mapped[str | None] = mapped_column(String(64))  # None: the caller never proved one
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # user | integration | anonymous
    actor_id: Mapped[str | None] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    credential_id: Mapped[uuid.UUID | None]  # the API key, never its secret
    action: Mapped[str] = mapped_column(String(64))  # the operation, e.g. update_goal
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(
        String(16)
    )  # success | denied | not_found | rejected | error
    status_code: Mapped[int] = mapped_column(SmallInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    # Whom the action was about besides the record: the clinician a care team gained or lost
    # (access to a client's records was granted or taken away). A subject id, never a name.
    subject_id: Mapped[str | None] = mapped_column(String(255))


class AuditSeal(Base):
    """A link of the hash chain over the trail (app/audit/seals.py): the events after the
    previous seal's `through_id`, up to and including its own, hashed after that seal's hash.
    Append-only, like the trail."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    through_id: Mapped[uuid.UUID]
    events: Mapped[int]
    previous_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime]
