"""Session outcomes reported by EHR integrations, unique per submitter and external id.

Revision ID: 6b36da8592dc
Revises: 9732c7f15c7a
Create Date: 2026-11-26 01:51:36.916755
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6b36da8592dc"
down_revision: str | None = "9732c7f15c7a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_outcomes",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clinician", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_session_outcomes_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_outcomes")),
        sa.UniqueConstraint(
            "org_id",
            "submitted_by",
            "external_id",
            name=op.f("uq_session_outcomes_org_id_submitted_by_external_id"),
        ),
    )
    op.create_foreign_key(
        op.f("fk_progress_events_session_outcome_id_session_outcomes"),
        "progress_events",
        "session_outcomes",
        ["session_outcome_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_progress_events_session_outcome_id_session_outcomes"),
        "progress_events",
        type_="foreignkey",
    )
    op.drop_table("session_outcomes")
