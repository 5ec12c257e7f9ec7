"""Alembic is the only source of the schema: one head, clean round trips, no drift."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import _create_database, _drop_database, alembic_config


@pytest.fixture
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    name = f"tg_migrations_{uuid.uuid4().hex[:12]}"
    await _create_database(server_url, name)
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _drop_database(server_url, name)


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


def test_single_head(server_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(server_url)).get_heads()
    assert len(heads) == 1


async def test_upgrade_downgrade_upgrade_and_no_drift(scratch_database: str) -> None:
    config = alembic_config(scratch_database)
    script = ScriptDirectory.from_config(config)
    revisions = list(script.walk_revisions())

    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"clients", "goals", "goal_revisions", "care_team_members"} <= await tables(
        scratch_database
    )
    # Every revision steps down and up again on its own.
    for _ in revisions:
        await asyncio.to_thread(command.downgrade, config, "-1")
    assert await tables(scratch_database) == {"alembic_version"}
    await asyncio.to_thread(command.upgrade, config, "head")
    # `alembic check` raises when the models and the migrated schema differ.
    await asyncio.to_thread(command.check, config)


async def test_stored_keys_go_to_the_caller_the_audit_trail_names_or_nowhere(
    scratch_database: str,
) -> None:
    """Before d5a8e2c1f7b3 a key's owner was "<org>:<subject>", and organizations may hold a
    colon. Each stored key goes to the split whose caller's request is on the audit trail
    beside it; a key that no split or two splits account for is dropped, never guessed. The
    way down keeps what it can tell apart."""
    config = alembic_config(scratch_database)
    await asyncio.to_thread(command.upgrade, config, "c71d3e5f8a20")
    owners = {
        "org-a:alice": [("org-a", "alice")],
        "acme:east:bob": [("acme:east", "bob")],  # not org acme's user east:bob
        "org-a:api-key:1f0e": [("org-a", "api-key:1f0e")],
        "dup:a:b": [("dup", "a:b"), ("dup:a", "b")],  # both callers exist: ambiguous
        "ghost:nobody": [],  # no request of theirs on the trail
        "o:" + "s" * 300: [],  # no subject is that long
        "x:": [],
    }
    key = text(
        "INSERT INTO idempotency_keys (id, owner, key, request_hash, status_code, response_body,"
        " response_headers, created_at, expires_at) VALUES (gen_random_uuid(), :owner, 'k', 'h',"
        " 201, 'body', '{}', now(), now() + interval '1 day')"
    )
    audit = text(
        "INSERT INTO audit_events (id, org_id, occurred_at, actor_type, actor_id, action,"
        " outcome, status_code, changed_fields) VALUES (gen_random_uuid(), :org, now(), 'user',"
        " :actor, 'create_client', 'success', 201, '{}')"
    )
    await _run(scratch_database, key, [{"owner": owner} for owner in owners])
    callers = [{"org": org, "actor": actor} for found in owners.values() for org, actor in found]
    await _run(scratch_database, audit, callers)

    await asyncio.to_thread(command.upgrade, config, "d5a8e2c1f7b3")
    found = await _rows(scratch_database, "SELECT org_id, principal FROM idempotency_keys")
    assert sorted(found) == [
        ("acme:east", "user:bob"),
        ("org-a", "api-key:1f0e"),
        ("org-a", "user:alice"),
    ]
    # A user whose sub reads "api-key:1f0e" and that integration sent one external_id;
    # alice sent another.
    client = text(
        "INSERT INTO clients (id, org_id, display_name, timezone, created_by, version,"
        " created_at, updated_at) VALUES ('00000000-0000-7000-8000-000000000001', 'org-a', 'C',"
        " 'UTC', 'alice', 1, now(), now())"
    )
    outcome = text(
        "INSERT INTO session_outcomes (id, org_id, submitted_by, external_id, client_id,"
        " occurred_at, request_hash, created_at) VALUES (gen_random_uuid(), 'org-a', :by,"
        " :external_id, '00000000-0000-7000-8000-000000000001', now(), 'h', now())"
    )
    await _run(scratch_database, client, [{}])
    sent = [("api-key:1f0e", "ENC-1"), ("user:api-key:1f0e", "ENC-1"), ("user:alice", "ENC-2")]
    await _run(scratch_database, outcome, [{"by": by, "external_id": e} for by, e in sent])

    await asyncio.to_thread(command.downgrade, config, "c71d3e5f8a20")
    found = await _rows(scratch_database, "SELECT owner FROM idempotency_keys")
    assert sorted(owner for (owner,) in found) == [
        "acme:east:bob",
        "org-a:alice",
        "org-a:api-key:1f0e",
    ]
    submitters = await _rows(scratch_database, "SELECT submitted_by FROM session_outcomes")
    assert sorted(by for (by,) in submitters) == ["alice", "api-key:1f0e", "user:api-key:1f0e"]


async def _run(url: str, statement: Any, rows: list[dict[str, Any]]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement, rows)
    finally:
        await engine.dispose()


async def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()
