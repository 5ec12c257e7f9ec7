"""The audit trail's hash chain: sealed events check, and any change to them shows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.audit.repository import _DIGEST, SEALER_LOCK
from app.audit.seals import seal_pending, verify_chain
from app.config import Settings
from tests.api import Api
from tests.test_cli import run_cli


async def seal_now(connection: AsyncConnection) -> int:
    """Seals everything, in the test's transaction. The app's own sealer may be at work: wait
    for its lock (taken again by `seal_pending`, in the same transaction, at once)."""
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEALER_LOCK})
    return await seal_pending(connection, grace=timedelta(0))


async def activity(api: Api) -> str:
    """Some audited requests of an organization of their own; returns its name."""
    org = f"seal-{uuid.uuid4()}"
    alice = api.actor(org=org)
    client = await api.client(alice)
    await api.goal(alice, client["id"])
    await alice.get(f"/v1/clients/{client['id']}")
    await alice.get(f"/v1/goals/{uuid.uuid4()}")  # a 404 is on the trail too
    await alice.put(f"/v1/clients/{client['id']}/care-team/bob")  # an event naming a subject
    return org


async def test_sealed_events_check(api: Api, connection: AsyncConnection) -> None:
    org = await activity(api)
    assert await seal_now(connection) >= 5
    assert await seal_now(connection) == 0  # nothing new
    check = await verify_chain(connection)
    assert check.intact, check.reason
    assert check.seals >= 1
    unsealed = await connection.scalar(
        text(
            "SELECT count(*) FROM audit_events WHERE org_id = :org "
            "AND id > (SELECT max(through_id::text)::uuid FROM audit_seals)"
        ),
        {"org": org},
    )
    assert unsealed == 0
    assert check.unsealed == 0
    await api.client(api.actor(org=org))  # a newer event, not sealed yet
    assert (await verify_chain(connection)).unsealed == 1


@pytest.mark.parametrize(
    ("tampering", "reason"),
    [
        ("UPDATE audit_events SET outcome = 'success' WHERE org_id = :org AND outcome <> 'success'",
         "an event it sealed has changed"),
        ("UPDATE audit_events SET subject_id = 'mallory' WHERE org_id = :org "
         "AND subject_id IS NOT NULL", "an event it sealed has changed"),
        ("UPDATE audit_events SET subject_id = 'mallory' WHERE org_id = :org "
         "AND subject_id IS NULL", "an event it sealed has changed"),
        ("DELETE FROM audit_events WHERE id = (SELECT min(id::text)::uuid FROM audit_events "
         "WHERE org_id = :org)", "are there now"),
        ("INSERT INTO audit_events SELECT org_id, occurred_at, actor_type, actor_id, actor_role, "
         "credential_id, action, resource_type, resource_id, outcome, status_code, request_id, "
         "changed_fields, '00000000-0000-7000-8000-000000000001' FROM audit_events "
         "WHERE org_id = :org LIMIT 1", "are there now"),
    ],
)  # fmt: skip
async def test_a_changed_removed_or_slipped_in_event_breaks_the_chain(
    api: Api, connection: AsyncConnection, tampering: str, reason: str
) -> None:
    """As the database's owner, with the append-only trigger out of the way."""
    org = await activity(api)
    await seal_now(connection)
    await connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    await connection.execute(text(tampering), {"org": org})
    check = await verify_chain(connection)
    assert not check.intact
    assert reason in check.reason


async def test_a_rewritten_seal_breaks_the_chain(api: Api, connection: AsyncConnection) -> None:
    await activity(api)
    await seal_now(connection)
    await activity(api)
    await seal_now(connection)
    await connection.execute(text("ALTER TABLE audit_seals DISABLE TRIGGER USER"))
    await connection.execute(
        text(
            "UPDATE audit_seals SET hash = sha256(hash) "
            "WHERE id = (SELECT id FROM audit_seals ORDER BY id DESC OFFSET 1 LIMIT 1)"
        )
    )
    check = await verify_chain(connection)
    assert not check.intact
    assert check.reason == "an event it sealed has changed"


async def test_events_are_sealed_only_after_the_grace(
    api: Api, connection: AsyncConnection
) -> None:
    """An event is hashed only once no earlier id can still be committing."""
    org = await activity(api)
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEALER_LOCK})
    await seal_pending(connection)
    sealed = await connection.scalar(
        text(
            "SELECT count(*) FROM audit_events WHERE org_id = :org AND id <= "
            "(SELECT coalesce(max(through_id::text), :none) FROM audit_seals)::uuid"
        ),
        {"org": org, "none": str(uuid.UUID(int=0))},
    )
    assert sealed == 0


async def test_seals_cannot_be_changed(api: Api, connection: AsyncConnection) -> None:
    await activity(api)
    await seal_now(connection)
    for statement in ("UPDATE audit_seals SET events = 0", "DELETE FROM audit_seals"):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(statement))
        await savepoint.rollback()


def test_the_verify_command_reports_the_chain(settings: Settings) -> None:
    assert settings.database_url
    output = run_cli("verify-audit", env={"DATABASE_URL": settings.database_url})
    assert output.splitlines()[-1].startswith("Audit chain intact:")
    assert "newer events not sealed yet (sealed once 0:05:00 old)" in output


# The digest as it was before `subject_id`: events sealed then must read the same now.
DIGEST_BEFORE_SUBJECTS = """
SELECT count(*) AS events,
       (array_agg(e.id ORDER BY e.id DESC))[1] AS through_id,
       sha256(CAST(:previous AS bytea) || convert_to(coalesce(string_agg(json_build_array(
           e.id, e.org_id,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           e.actor_type, e.actor_id, e.actor_role, e.credential_id, e.action, e.resource_type,
           e.resource_id, e.outcome, e.status_code, e.request_id, e.changed_fields)::text,
           E'\\n' ORDER BY e.id), ''), 'UTF8')) AS hash
FROM ({events}) AS e
"""


WITHOUT_SUBJECT = "SELECT * FROM audit_events WHERE org_id = :org AND subject_id IS NULL"
WITH_SUBJECT = "SELECT * FROM audit_events WHERE org_id = :org AND subject_id IS NOT NULL"


@pytest.mark.parametrize(("events", "same"), [(WITHOUT_SUBJECT, True), (WITH_SUBJECT, False)])
async def test_events_without_a_subject_hash_as_they_did_before_subjects(
    api: Api, connection: AsyncConnection, events: str, same: bool
) -> None:
    org = await activity(api)
    values = {"org": org, "previous": b"seal"}
    before = await connection.execute(
        text(DIGEST_BEFORE_SUBJECTS.replace("{events}", events)), values
    )
    now = await connection.execute(text(_DIGEST.replace("{events}", events)), values)
    (count, _, hash_before), (_, _, hash_now) = before.one(), now.one()
    assert count >= 1
    assert (bytes(hash_before) == bytes(hash_now)) is same
