"""A goal revision names the progress event whose achievement status it put in place.

A clinician's judgement of a goal (its achievement status) may come with a progress event or
a session outcome. Once that event is retracted, its judgement no longer stands: the goal
goes back to the judgement before it, or to the status its progress shows. This is how the
revisions an event made are told apart from a clinician's edits of the goal. Revisions that
events made before this column existed are matched to their event: the same goal and status,
recorded in the same moment (the same transaction), by the reasons the service gave them.

Revision ID: a3c5e7f9b1d2
Revises: f2b7c9d1e4a6
Create Date: 2026-12-01 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3c5e7f9b1d2"
down_revision: str | None = "f2b7c9d1e4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("goal_revisions", sa.Column("progress_event_id", sa.Uuid(), nullable=True))
    op.execute(BACKFILL)


BACKFILL = """
UPDATE goal_revisions AS revision SET progress_event_id = made.event_id
FROM (
    SELECT DISTINCT ON (r.id) r.id AS revision_id, e.id AS event_id
    FROM goal_revisions AS r
    JOIN progress_events AS e
        ON e.org_id = r.org_id
        AND e.goal_id = r.goal_id
        AND e.achievement_status = r.changes -> 'achievement_status' ->> 'after'
        AND e.recorded_at BETWEEN r.changed_at - interval '5 seconds'
            AND r.changed_at + interval '5 seconds'
    WHERE r.progress_event_id IS NULL
        AND r.reason IN ('recorded with progress', 'reported in a session outcome')
        AND r.changes ? 'achievement_status'
    ORDER BY r.id, abs(extract(epoch FROM e.recorded_at - r.changed_at))
) AS made
WHERE revision.id = made.revision_id
"""


def downgrade() -> None:
    op.drop_column("goal_revisions", "progress_event_id")
