"""A goal's recorded events get a narrow index of their own: summaries count them.

Every summary counts each goal's recorded events. Through the goal's timeline index that
count unpacks each entry's six included columns to test its organization and status: about
a third of a client summary's time in PostgreSQL at a million events. Here the goal, its
organization and the status are the key, so the count compares keys and unpacks nothing.
Built and dropped concurrently, as the other progress_events indexes were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f2b7c9d1e4a6"
down_revision: str | None = "e6f1a9c4b2d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_progress_events_goal_recorded"


def upgrade() -> None:
    """A concurrent build that failed leaves an invalid index behind: one found is rebuilt."""
    with op.get_context().autocommit_block():
        op.drop_index(
            NAME, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            NAME,
            "progress_events",
            ["goal_id", "org_id", "status"],
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            NAME, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
