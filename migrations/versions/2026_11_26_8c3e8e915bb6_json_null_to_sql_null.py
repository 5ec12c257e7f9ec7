"""JSON null becomes SQL NULL in optional JSONB columns.

Until now an absent measure, GAS scale, recurrence or response could be stored as the JSON
value `null`, which `IS NOT NULL` in SQL: a one-off step then looked like a recurring one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c3e8e915bb6"
down_revision: str | None = "3d8208fc6e2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("goals", "measure"),
    ("goals", "gas_levels"),
    ("action_steps", "recurrence"),
    ("session_outcomes", "response"),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} = 'null'::jsonb")  # noqa: S608


def downgrade() -> None:
    """Nothing to undo: SQL NULL is what the older code meant too."""
