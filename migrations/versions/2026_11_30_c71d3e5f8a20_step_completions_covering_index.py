"""A covering index for a step's completions, in place of the plain one.

Habit strength reads each recurring step's completions over 180 days; with the columns it
filters on included, that is an index-only scan instead of a heap page per completion (most
of the habit query's time at a million events). Built and dropped concurrently, as the goal
timeline's was: writes to progress_events go on meanwhile.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c71d3e5f8a20"
down_revision: str | None = "b4e1d7a2c9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["step_id", "occurred_at"]
INCLUDED = ["org_id", "kind", "status"]
PLAIN = "ix_progress_events_step_completions"
COVERING = "ix_progress_events_step_timeline"


def upgrade() -> None:
    _swap(PLAIN, COVERING, INCLUDED)


def downgrade() -> None:
    _swap(COVERING, PLAIN, [])


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
            postgresql_where="step_id IS NOT NULL",
            postgresql_concurrently=True,
        )
        op.drop_index(
            old, table_name="progress_events", postgresql_concurrently=True, if_exists=True
        )
