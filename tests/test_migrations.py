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


async def test_stored_idempotency_keys_keep_their_callers_across_the_owner_split(
    scratch_database: str,
) -> None:
    """Keys stored as "<org>:<subject>" before d5a8e2c1f7b3 are found by the caller who stored
    them afterwards (every split an owner allows is kept: an organization may hold a colon),
    and survive the way back down."""
    config = alembic_config(scratch_database)
    await asyncio.to_thread(command.upgrade, config, "c71d3e5f8a20")
    owners = ["org-a:alice", "acme:east:bob", "org-a:api-key:1f0e", "x:"]
    insert = text(
        "INSERT INTO idempotency_keys (id, owner, key, request_hash, status_code, response_body,"
        " response_headers, created_at, expires_at) VALUES (gen_random_uuid(), :owner, 'k', 'h',"
        " 201, 'body', '{}', now(), now() + interval '1 day')"
    )
    await _run(scratch_database, insert, [{"owner": owner} for owner in owners])

    await asyncio.to_thread(command.upgrade, config, "d5a8e2c1f7b3")
    found = await _rows(scratch_database, "SELECT org_id, principal FROM idempotency_keys")
    assert sorted(found) == [
        ("acme", "user:east:bob"),
        ("acme:east", "user:bob"),
        ("org-a", "api-key:1f0e"),
        ("org-a", "user:alice"),
        ("org-a:api-key", "user:1f0e"),
    ]  # "x:" named nobody: no organization and subject to split it into

    await asyncio.to_thread(command.downgrade, config, "c71d3e5f8a20")
    found = await _rows(scratch_database, "SELECT owner FROM idempotency_keys")
    assert sorted(owner for (owner,) in found) == sorted(owners[:3])


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
