"""A goal revision names the progress event whose achievement status it put in place.

A clinician's judgement of a goal (its achievement status) may come with a progress event or
a session outcome. Once that event is retracted, its judgement no longer stands: the goal
goes back to the judgement before it, or to the status its progress shows. This is how the
revision that put a judgement in place, and the one before, are told apart from a PATCH.

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


def downgrade() -> None:
    op.drop_column("goal_revisions", "progress_event_id")
