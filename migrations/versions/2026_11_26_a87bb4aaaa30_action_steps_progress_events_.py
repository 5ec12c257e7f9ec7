"""Action-plan steps, progress events, and where a goal's achievement status came from.

Revision ID: a87bb4aaaa30
Revises: 760fe0ab83fd
Create Date: 2026-11-26 01:36:09.265752
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a87bb4aaaa30"
down_revision: str | None = "760fe0ab83fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_steps",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("recurrence", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('todo', 'in_progress', 'done', 'skipped')",
            name=op.f("ck_action_steps_status"),
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_action_steps_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_action_steps_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_action_steps_goal_id_goals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_steps")),
    )
    op.create_index(
        op.f("ix_action_steps_org_id_id"), "action_steps", ["org_id", "id"], unique=False
    )
    op.create_index(
        "uq_action_steps_goal_id_position_live",
        "action_steps",
        ["goal_id", "position"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "progress_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("gas_level", sa.SmallInteger(), nullable=True),
        sa.Column("achievement_status", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("session_outcome_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_by", sa.String(length=255), nullable=True),
        sa.Column("retraction_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('measurement', 'step_completed', 'note', 'session_outcome')",
            name=op.f("ck_progress_events_kind"),
        ),
        sa.CheckConstraint(
            "source IN ('client', 'clinician', 'integration')",
            name=op.f("ck_progress_events_source"),
        ),
        sa.CheckConstraint(
            "status IN ('recorded', 'retracted')", name=op.f("ck_progress_events_status")
        ),
        sa.CheckConstraint(
            "gas_level BETWEEN -2 AND 2", name=op.f("ck_progress_events_gas_level_range")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_progress_events_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_progress_events_goal_id_goals")
        ),
        sa.ForeignKeyConstraint(
            ["step_id"], ["action_steps.id"], name=op.f("fk_progress_events_step_id_action_steps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_events")),
    )
    op.create_index(
        op.f("ix_progress_events_goal_id_occurred_at_id"),
        "progress_events",
        ["goal_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_progress_events_org_id_id"), "progress_events", ["org_id", "id"], unique=False
    )
    op.create_index(
        "ix_progress_events_step_completions",
        "progress_events",
        ["step_id", "occurred_at"],
        unique=False,
        postgresql_where="step_id IS NOT NULL",
    )
    op.add_column(
        "goals", sa.Column("achievement_status_source", sa.String(length=16), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_goals_achievement_status_source"),
        "goals",
        "achievement_status_source IN ('clinician', 'derived')",
    )
    # Until now only clinicians could set achievement_status, so existing values are theirs.
    op.execute(
        "UPDATE goals SET achievement_status_source = 'clinician' "
        "WHERE achievement_status IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_goals_achievement_status_source"), "goals", type_="check")
    op.drop_column("goals", "achievement_status_source")
    op.drop_index(
        "ix_progress_events_step_completions",
        table_name="progress_events",
        postgresql_where="step_id IS NOT NULL",
    )
    op.drop_index(op.f("ix_progress_events_org_id_id"), table_name="progress_events")
    op.drop_index(op.f("ix_progress_events_goal_id_occurred_at_id"), table_name="progress_events")
    op.drop_table("progress_events")
    op.drop_index(
        "uq_action_steps_goal_id_position_live",
        table_name="action_steps",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_action_steps_org_id_id"), table_name="action_steps")
    op.drop_table("action_steps")
