"""API keys for integrations: a keyed hash of each key, its scopes, and revocation.

Revision ID: 9732c7f15c7a
Revises: a87bb4aaaa30
Create Date: 2026-11-26 01:50:27.010045
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9732c7f15c7a"
down_revision: str | None = "a87bb4aaaa30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_index(op.f("ix_api_keys_org_id_id"), "api_keys", ["org_id", "id"], unique=False)
    op.create_index(op.f("ix_api_keys_secret_hash"), "api_keys", ["secret_hash"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_keys_secret_hash"), table_name="api_keys")
    op.drop_index(op.f("ix_api_keys_org_id_id"), table_name="api_keys")
    op.drop_table("api_keys")
