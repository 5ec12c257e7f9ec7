"""Reads run without a transaction of their own and commit their audit rows in batches.

These tests run a whole app as production does (no test transaction around it), each in an
organization of its own, so that what they commit stays out of other tests' way.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.api_keys.models import ApiKey
from app.audit.recorder import COLUMNS, INSERT_AUDIT
from app.audit.writer import AuditWriter
from app.clients.models import Client
from app.config import Settings
from app.db import STANDALONE_WRITE, ReadOnlyViolation, create_read_sessionmaker, new_id, utcnow
from tests.api import Actor, Api, production_app


def clinician_of_a_new_org(api: Api) -> Actor:
    return api.actor("clinician", org=f"org-{uuid.uuid4()}", sub="alice")


async def audit_batches(engine: AsyncEngine, org: str, action: str) -> list[int]:
    """The size of each batch in which these audit rows were committed: a batch is one
    transaction, and the rows a transaction wrote share its id (`xmin`)."""
    async with engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM audit_events WHERE org_id = :org AND action = :action "
                "GROUP BY xmin"
            ),
            {"org": org, "action": action},
        )
        return sorted(found.scalars())


async def audit_rows(engine: AsyncEngine, org: str, action: str) -> list[str | None]:
    async with engine.connect() as connection:
        found = await connection.execute(
            text("SELECT request_id FROM audit_events WHERE org_id = :org AND action = :action"),
            {"org": org, "action": action},
        )
        return [row.request_id for row in found]


async def test_concurrent_reads_each_commit_their_own_row_in_shared_batches(
    settings: Settings,
) -> None:
    async with production_app(settings) as (app, api):
        alice = clinician_of_a_new_org(api)
        client = await api.client(alice)
        responses = await asyncio.gather(
            *(alice.get(f"/v1/clients/{client['id']}") for _ in range(40))
        )
        assert {response.status_code for response in responses} == {200}
        request_ids = sorted(response.headers["X-Request-ID"] for response in responses)
        assert sorted(await audit_rows(app.state.engine, alice.org, "get_client")) == request_ids
        sizes = await audit_batches(app.state.engine, alice.org, "get_client")
        assert sum(sizes) == 40
        assert max(sizes) > 1, sizes  # one commit served several readers


async def test_a_read_whose_audit_row_cannot_be_committed_is_a_503_without_the_data(
    settings: Settings,
) -> None:
    async with production_app(settings, db_statement_timeout_ms=300) as (app, api):
        alice = clinician_of_a_new_org(api)
        client = await api.client(alice, display_name="Canary Readerson")
        async with app.state.engine.connect() as holder:
            transaction = await holder.begin()
            await holder.execute(text("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE"))
            response = await alice.get(f"/v1/clients/{client['id']}")
            await transaction.rollback()
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "Canary" not in response.text
        assert (await alice.get(f"/v1/clients/{client['id']}")).status_code == 200


async def test_a_reader_that_goes_away_mid_write_leaves_its_batch_written(app: FastAPI) -> None:
    engine: AsyncEngine = app.state.engine
    writer = AuditWriter(lambda: create_read_sessionmaker(engine), INSERT_AUDIT)
    org = f"org-{uuid.uuid4()}"
    readers: list[asyncio.Task[None]] = []

    write_batch = writer._insert

    async def first_reader_leaves(rows: list[tuple[Any, ...]]) -> None:
        readers[0].cancel()  # once its row has left for the batch's INSERT
        await write_batch(rows)

    writer._insert = first_reader_leaves  # type: ignore[method-assign]
    readers += [asyncio.create_task(writer.write(audit_row(org, f"r{n}"))) for n in range(5)]
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [None] * 4
    await writer.drain()
    assert sorted(await audit_rows(engine, org, "get_client")) == [f"r{n}" for n in range(5)]


async def test_reads_run_without_a_transaction_and_changes_in_one(settings: Settings) -> None:
    async with production_app(settings) as (app, api):
        alice = clinician_of_a_new_org(api)
        levels: list[str] = []

        def seen(connection: Connection, *_: Any) -> None:
            levels.append(connection.get_execution_options().get("isolation_level", "default"))

        event.listen(app.state.engine.sync_engine, "before_cursor_execute", seen)
        try:
            client = await api.client(alice)
            change, levels[:] = list(levels), []
            await alice.get(f"/v1/clients/{client['id']}")
            read = list(levels)
        finally:
            event.remove(app.state.engine.sync_engine, "before_cursor_execute", seen)
    assert set(change) == {"default"}  # the INSERT and its audit row: one transaction
    assert set(read) == {"AUTOCOMMIT"}  # the SELECT (its audit row goes on the driver)


def audit_row(org: str, request_id: str) -> tuple[Any, ...]:
    values = {
        "id": new_id(),
        "org_id": org,
        "occurred_at": utcnow(),
        "actor_type": "user",
        "actor_id": "alice",
        "actor_role": "clinician",
        "credential_id": None,
        "action": "get_client",
        "resource_type": "client",
        "resource_id": None,
        "outcome": "success",
        "status_code": 200,
        "request_id": request_id,
        "changed_fields": [],
        "subject_id": None,
    }
    return tuple(values[column] for column in COLUMNS)


async def test_a_read_session_refuses_writes_but_standalone_bookkeeping(
    connection: AsyncConnection,
) -> None:
    sessions = create_read_sessionmaker(connection)
    async with sessions() as session:
        await session.scalars(select(Client).limit(1))  # reads are what it is for
        with pytest.raises(ReadOnlyViolation):
            await session.execute(update(Client).values(display_name="x"))
        session.add(Client(org_id="o", display_name="Never saved"))
        with pytest.raises(ReadOnlyViolation):
            await session.flush()
    async with sessions() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.uuid4())
            .values(last_used_at=None)
            .execution_options(**STANDALONE_WRITE)
        )
