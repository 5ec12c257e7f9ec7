"""Clients, care teams, goals and goal revisions.

Revision ID: 760fe0ab83fd
Revises:
Create Date: 2026-11-26 01:16:34.757335
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "760fe0ab83fd"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("user_subject", sa.String(length=255), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("org_id", "external_id", name=op.f("uq_clients_org_id_external_id")),
        sa.UniqueConstraint("org_id", "user_subject", name=op.f("uq_clients_org_id_user_subject")),
    )
    op.create_table(
        "care_team_members",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("clinician_subject", sa.String(length=255), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_care_team_members_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "client_id", "clinician_subject", name=op.f("pk_care_team_members")
        ),
    )
    op.create_index(
        op.f("ix_care_team_members_org_id_clinician_subject_client_id"),
        "care_team_members",
        ["org_id", "clinician_subject", "client_id"],
        unique=False,
    )
    op.create_table(
        "goals",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("measure", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("relevance", sa.Text(), nullable=True),
        sa.Column("expressed_by", sa.String(length=16), nullable=False),
        sa.Column("is_focus", sa.Boolean(), nullable=False),
        sa.Column("lifecycle_status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("achievement_status", sa.String(length=24), nullable=True),
        sa.Column("gas_levels", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("gas_weight", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "achievement_status IN ('in_progress', 'improving', 'worsening', 'no_change', 'achieved', 'sustaining', 'not_achieved', 'no_progress', 'not_attainable')",
            name=op.f("ck_goals_achievement_status"),
        ),
        sa.CheckConstraint(
            "category IN ('emotional_awareness', 'coping_skills', 'healthy_behaviors', 'communication', 'trauma_recovery', 'self_compassion', 'relationships', 'sleep', 'other')",
            name=op.f("ck_goals_category"),
        ),
        sa.CheckConstraint(
            "expressed_by IN ('client', 'clinician')", name=op.f("ck_goals_expressed_by")
        ),
        sa.CheckConstraint(
            "lifecycle_status IN ('proposed', 'planned', 'accepted', 'active', 'on_hold', 'completed', 'cancelled', 'entered_in_error', 'rejected')",
            name=op.f("ck_goals_lifecycle_status"),
        ),
        sa.CheckConstraint("priority IN ('high', 'medium', 'low')", name=op.f("ck_goals_priority")),
        sa.CheckConstraint("gas_weight > 0", name=op.f("ck_goals_gas_weight_positive")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_goals_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    op.create_index(
        op.f("ix_goals_org_id_client_id_id"), "goals", ["org_id", "client_id", "id"], unique=False
    )
    op.create_index(op.f("ix_goals_org_id_id"), "goals", ["org_id", "id"], unique=False)
    op.create_index(
        "uq_goals_one_focus_per_client",
        "goals",
        ["client_id"],
        unique=True,
        postgresql_where=sa.text("is_focus"),
    )
    op.create_table(
        "goal_revisions",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_subject", sa.String(length=255), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_goal_revisions_goal_id_goals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_revisions")),
    )
    op.create_index(
        op.f("ix_goal_revisions_goal_id_id"), "goal_revisions", ["goal_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_goal_revisions_goal_id_id"), table_name="goal_revisions")
    op.drop_table("goal_revisions")
    op.drop_index(
        "uq_goals_one_focus_per_client", table_name="goals", postgresql_where=sa.text("is_focus")
    )
    op.drop_index(op.f("ix_goals_org_id_id"), table_name="goals")
    op.drop_index(op.f("ix_goals_org_id_client_id_id"), table_name="goals")
    op.drop_table("goals")
    op.drop_index(
        op.f("ix_care_team_members_org_id_clinician_subject_client_id"),
        table_name="care_team_members",
    )
    op.drop_table("care_team_members")
    op.drop_table("clients")
