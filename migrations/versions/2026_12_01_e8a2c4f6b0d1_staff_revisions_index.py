"""An index of the revisions a review is read from: a goal's changes by staff, not derived.

Every progress summary reads when staff last changed the goal (its `last_staff_revision`).
Since progress writes a `derived` revision whenever it changes a goal's status, a goal's
revisions keep growing; this index holds only the ones that count, newest last, so the read
is one step back along it. Built CONCURRENTLY (outside the migration's transaction): writes
go on meanwhile.

Revision ID: e8a2c4f6b0d1
Revises: d4f6b8a0c2e9
Create Date: 2026-12-01 03:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e8a2c4f6b0d1"
down_revision: str | None = "d4f6b8a0c2e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_goal_revisions_staff_changes"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON goal_revisions "
            "(goal_id, changed_at) INCLUDE (org_id) WHERE action <> 'derived' "
            "AND (actor_role = 'admin' OR actor_role = 'clinician')"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
