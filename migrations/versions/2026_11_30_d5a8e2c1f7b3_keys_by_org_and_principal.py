"""Idempotency keys and session outcomes' natural keys are scoped by principal, not subject.

The owner used to be "<org>:<subject>" in one column. Organization names may hold a colon, so
org "acme:east" with user "bob" and org "acme" with user "east:bob" shared one owner, and one
could be handed the other's stored response. Users and integrations now differ too: the
principal is `user:<sub>` or `api-key:<id>` (`Caller.principal`).

The stored keys are at most a day old. An old owner cannot be split for certain, so each is
kept under every split it allows (at each colon, with an organization of 1 to 64 characters):
the caller who stored it still finds it, and each ambiguous split expires within the day.
A subject of the form `api-key:<id>` is taken to be an integration's, as it almost surely was.

Session outcomes are deduplicated per submitter and `external_id`; the submitter was the bare
subject, so a user whose `sub` was "api-key:<id>" was that integration. It is now the
principal too.
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
        INSERT INTO idempotency_keys (id, owner, org_id, principal, key, request_hash,
                                      status_code, response_body, response_headers, created_at,
                                      expires_at)
        SELECT gen_random_uuid(), owner, left(owner, at - 1),
               CASE WHEN rest LIKE 'api-key:%' THEN rest ELSE 'user:' || rest END, key,
               request_hash, status_code, response_body, response_headers, created_at,
               expires_at
        FROM idempotency_keys,
             LATERAL generate_series(2, least(length(owner) - 1, 65)) AS at,
             LATERAL (SELECT substr(owner, at + 1) AS rest) AS split
        WHERE org_id IS NULL AND substr(owner, at, 1) = ':'
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
    op.execute(
        "UPDATE session_outcomes SET submitted_by = substr(submitted_by, 6) "
        "WHERE submitted_by LIKE 'user:%'"
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
