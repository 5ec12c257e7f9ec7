"""Idempotency keys and session outcomes' natural keys are scoped by principal, not subject.

The owner used to be "<org>:<subject>" in one column. Organization names may hold a colon, so
org "acme:east" with user "bob" and org "acme" with user "east:bob" shared one owner, and one
could be handed the other's stored response. Users and integrations now differ too: the
principal is `user:<sub>` or `api-key:<id>` (`Caller.principal`).

The stored keys are at most a day old. An old owner is split at the colon where it names the
caller who stored it: the one whose successful request is on the audit trail within a minute
of the key (the key and the request's audit row commit together). An owner that no split, or
more than one, accounts for is dropped: its request may run again if retried (the price of
never handing a response to someone else), and nothing else is lost. A subject of the form
`api-key:<id>` is an integration's.

Session outcomes are deduplicated per submitter and `external_id`; the submitter was the bare
subject, so a user whose `sub` was "api-key:<id>" was that integration. It is now the
principal too.

Old replicas still read and write `owner`: stop them before this migration runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5a8e2c1f7b3"
down_revision: str | None = "c71d3e5f8a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("uq_idempotency_keys_owner_key", "idempotency_keys", type_="unique")
    op.add_column("idempotency_keys", sa.Column("org_id", sa.String(length=64), nullable=True))
    op.add_column("idempotency_keys", sa.Column("principal", sa.String(length=270), nullable=True))
    op.execute(
        """
        WITH split AS (
            SELECT k.id, left(k.owner, at - 1) AS org, substr(k.owner, at + 1) AS subject
            FROM idempotency_keys AS k,
                 generate_series(2, least(length(k.owner) - 1, 65)) AS at
            WHERE substr(k.owner, at, 1) = ':' AND length(k.owner) - at <= 255
              AND EXISTS (
                  SELECT 1 FROM audit_events AS a
                  WHERE a.org_id = left(k.owner, at - 1)
                    AND a.occurred_at BETWEEN k.created_at - interval '1 minute'
                                          AND k.created_at + interval '1 minute'
                    AND a.actor_id = substr(k.owner, at + 1) AND a.outcome = 'success'
              )
        ), certain AS (
            SELECT id, min(org) AS org, min(subject) AS subject
            FROM split GROUP BY id HAVING count(*) = 1
        )
        UPDATE idempotency_keys AS k
        SET org_id = c.org,
            principal = CASE WHEN c.subject LIKE 'api-key:%' THEN c.subject
                             ELSE 'user:' || c.subject END
        FROM certain AS c
        WHERE k.id = c.id
        """
    )
    op.execute("DELETE FROM idempotency_keys WHERE org_id IS NULL")
    op.alter_column("idempotency_keys", "org_id", nullable=False)
    op.alter_column("idempotency_keys", "principal", nullable=False)
    op.create_unique_constraint(
        op.f("uq_idempotency_keys_org_id_principal_key"),
        "idempotency_keys",
        ["org_id", "principal", "key"],
    )
    op.drop_column("idempotency_keys", "owner")
    op.alter_column(
        "session_outcomes",
        "submitted_by",
        type_=sa.String(length=270),
        existing_type=sa.String(length=255),
    )
    op.execute(
        "UPDATE session_outcomes SET submitted_by = 'user:' || submitted_by "
        "WHERE submitted_by NOT LIKE 'api-key:%'"
    )


def downgrade() -> None:
    # A user and an integration may both have sent one external_id: the old form cannot tell
    # them apart, so such a user's row keeps its prefix rather than break the unique key.
    op.execute(
        """
        UPDATE session_outcomes AS s SET submitted_by = substr(s.submitted_by, 6)
        WHERE s.submitted_by LIKE 'user:%' AND NOT EXISTS (
            SELECT 1 FROM session_outcomes AS o
            WHERE o.org_id = s.org_id AND o.external_id = s.external_id
              AND o.submitted_by = substr(s.submitted_by, 6)
        )
        """
    )
    op.alter_column(
        "session_outcomes",
        "submitted_by",
        type_=sa.String(length=255),
        existing_type=sa.String(length=270),
    )
    op.drop_constraint(
        op.f("uq_idempotency_keys_org_id_principal_key"), "idempotency_keys", type_="unique"
    )
    op.add_column("idempotency_keys", sa.Column("owner", sa.String(length=330), nullable=True))
    op.execute(
        "UPDATE idempotency_keys SET owner = org_id || ':' || "
        "CASE WHEN principal LIKE 'user:%' THEN substr(principal, 6) ELSE principal END"
    )
    # Owners the old form cannot tell apart: one record each, the newest.
    op.execute(
        """
        DELETE FROM idempotency_keys AS older USING idempotency_keys AS newer
        WHERE older.owner = newer.owner AND older.key = newer.key
          AND (older.created_at, older.id) < (newer.created_at, newer.id)
        """
    )
    op.alter_column("idempotency_keys", "owner", nullable=False)
    op.create_unique_constraint(
        "uq_idempotency_keys_owner_key", "idempotency_keys", ["owner", "key"]
    )
    op.drop_column("idempotency_keys", "principal")
    op.drop_column("idempotency_keys", "org_id")
