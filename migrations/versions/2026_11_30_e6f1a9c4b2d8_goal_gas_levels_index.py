"""A goal's GAS-level readings get an index of their own: summaries read the latest one.

Most progress events carry no GAS level (a client's own measurements), so finding a goal's
latest level walked its timeline backwards through every event since the last one that did:
all of them, for a goal whose events never did. A partial index holds only the events with a
level. Built and dropped concurrently, as the other progress_events indexes were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e6f1a9c4b2d8"
down_revision: str | None = "d5a8e2c1f7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_progress_events_goal_gas_levels"


def upgrade() -> None:
    """A concurrent build that failed leaves an invalid index behind: one found is rebuilt."""
    with op.get_context().autocommit_block():
        op.drop_index(
            NAME, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            NAME,
            "progress_events",
            ["goal_id", "occurred_at", "id"],
            postgresql_include=["org_id", "status", "gas_level"],
            postgresql_where="gas_level IS NOT NULL",
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            NAME, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
