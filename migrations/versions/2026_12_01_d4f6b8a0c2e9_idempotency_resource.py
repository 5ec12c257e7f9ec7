"""Idempotency keys remember the record their request was about.

A replay goes only to a caller who may still see that record (app/resources.py). Keys stored
before have none, and replay as before until they expire, within a day.

Revision ID: d4f6b8a0c2e9
Revises: c9e1a3b5d7f2
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f6b8a0c2e9"
down_revision: str | None = "c9e1a3b5d7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("resource_type", sa.String(32), nullable=True))
    op.add_column("idempotency_keys", sa.Column("resource_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("idempotency_keys", "resource_id")
    op.drop_column("idempotency_keys", "resource_type")
