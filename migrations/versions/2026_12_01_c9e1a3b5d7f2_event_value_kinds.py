"""Only measurements and session outcomes carry a value.

The summaries take every recorded value as a measurement of its goal, whichever kind of event
carries it (a reading taken in session comes with its outcome). The API never let a note or a
completed step carry one; the database now says so too. Added NOT VALID (a moment's lock,
given up after 5 s rather than queueing writes behind it), then validated outside the
migration's transaction: VALIDATE takes a lock that lets writes go on while it reads the
rows already there, but inside the transaction of the ADD it would hold the ADD's, which stops
every write for the whole scan.

Revision ID: c9e1a3b5d7f2
Revises: b7d9f1a3c5e8
Create Date: 2026-12-01 03:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c9e1a3b5d7f2"
down_revision: str | None = "b7d9f1a3c5e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_progress_events_value_kind"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        f"ALTER TABLE progress_events ADD CONSTRAINT {NAME} "
        "CHECK (value IS NULL OR kind IN ('measurement', 'session_outcome')) NOT VALID"
    )
    with op.get_context().autocommit_block():  # commits the ADD first
        op.execute(f"ALTER TABLE progress_events VALIDATE CONSTRAINT {NAME}")


def downgrade() -> None:
    op.execute(f"ALTER TABLE progress_events DROP CONSTRAINT {NAME}")
