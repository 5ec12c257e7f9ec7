"""Alembic is the only source of the schema: one head, clean round trips, no drift."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url
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
