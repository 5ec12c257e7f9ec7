"""The audit trail and its seals refuse TRUNCATE too, not only UPDATE and DELETE.

A row trigger never sees TRUNCATE: it empties a table without touching a row. A statement
trigger before it raises the same error the row triggers do. (A role that owns the tables can
still drop the triggers: in production the service connects as a role that does not, see the
README's "Running in production".)

Revision ID: b7d9f1a3c5e8
Revises: a3c5e7f9b1d2
Create Date: 2026-12-01 01:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7d9f1a3c5e8"
down_revision: str | None = "a3c5e7f9b1d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_events", "audit_seals")


def upgrade() -> None:
    for table in TABLES:  # the functions of the row triggers name the operation they refuse
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
