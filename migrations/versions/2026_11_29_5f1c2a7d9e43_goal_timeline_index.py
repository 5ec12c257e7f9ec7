"""A covering index for a goal's timeline, in place of the plain one.

Summaries count a goal's events and read its measurements, latest GAS level and latest
clinical activity; with the columns they filter and read included in the index, these are
index-only scans instead of a heap page per event (at a million events, most of their time).
Built and dropped concurrently: writes to progress_events go on meanwhile.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5f1c2a7d9e43"
down_revision: str | None = "8c3e8e915bb6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["goal_id", "occurred_at", "id"]
INCLUDED = ["org_id", "status", "kind", "value", "gas_level", "source"]


def upgrade() -> None:
    _swap("ix_progress_events_goal_id_occurred_at_id", "ix_progress_events_goal_timeline", INCLUDED)


def downgrade() -> None:
    _swap("ix_progress_events_goal_timeline", "ix_progress_events_goal_id_occurred_at_id", [])


def _swap(old: str, new: str, included: list[str]) -> None:
    """Build `new` beside `old`, then drop `old`, without blocking writes. A concurrent build
    that failed leaves an invalid index behind: one found under `new` is dropped and rebuilt."""
    with op.get_context().autocommit_block():
        op.drop_index(
            new, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            new,
            "progress_events",
            COLUMNS,
            postgresql_include=included,
            postgresql_concurrently=True,
        )
        op.drop_index(
            old, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
