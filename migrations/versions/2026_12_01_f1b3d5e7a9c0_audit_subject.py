"""Audit events name whom an action was about besides its record: the clinician a care team
gained or lost.

Adding or removing a care team's member grants or takes away access to a client's records;
the trail named the client and who acted, not who was let in or out. A nullable column
without a default: PostgreSQL adds it without rewriting the table, and events already
recorded (and sealed) keep reading as they did (see `app.audit.repository._DIGEST`). If
the table's lock is not had within 5 seconds, the upgrade fails rather than hold up
the requests queued behind it; run it again.
A downgrade drops what was recorded in it, and seals that hashed it then no longer check.

Revision ID: f1b3d5e7a9c0
Revises: e8a2c4f6b0d1
Create Date: 2026-12-01 06:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1b3d5e7a9c0"
down_revision: str | None = "e8a2c4f6b0d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every request writes an event: waiting long for the table's lock would hold them all up.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("audit_events", sa.Column("subject_id", sa.String(255), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("audit_events", "subject_id")
