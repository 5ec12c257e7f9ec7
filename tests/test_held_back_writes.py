"""A change's writes on the driver are held back until its next statement or its commit, and go
together (app/driver.py): fewer round trips, the same statements in the same order, the same
all-or-nothing commit."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.recorder import AUDIT_QUERY
from app.config import Settings
from app.db import new_id
from app.driver import PENDING, DriverQuery, commit_held_back, execute, fetch
from app.progress.models import ProgressEvent
from app.write_batches import Write, batches, combined
from tests.api import production_app

_AUDIT = cast(Table, AuditEvent.__table__)
AUDIT_BY_ID = DriverQuery(select(_AUDIT.c.id).where(_AUDIT.c.id == bindparam("id")))
EVENT = DriverQuery(insert(cast(Table, ProgressEvent.__table__)))


def audit_row(**changes: Any) -> dict[str, Any]:
    """Time-ordered ids, as the service's: the audit seals chain events in id order."""
    return {"id": new_id(), "org_id": "held-back", "occurred_at": datetime.now(UTC),
            "actor_type": "user", "actor_id": "alice", "actor_role": "admin",
            "credential_id": None, "action": "test", "resource_type": None, "resource_id": None,
            "outcome": "success", "status_code": 200, "request_id": None, "changed_fields": [],
            "subject_id": None, **changes}  # fmt: skip


class Sent:
    """Every statement asyncpg sends, BEGIN included, in order, by connection (the audit
    sealer may be at work on a connection of its own meanwhile)."""

    def __init__(self) -> None:
        self.by_connection: dict[int, list[str]] = defaultdict(list)

    def add(self, connection: object, sql: str) -> None:
        self.by_connection[id(connection)].append(sql)

    def clear(self) -> None:
        self.by_connection.clear()

    def on_connection_of(self, marker: str) -> list[str]:
        """What went on the connection that sent a statement starting with `marker`."""
        [sent] = [sent for sent in self.by_connection.values() if any(
            sql.startswith(marker) for sql in sent)]  # fmt: skip
        return sent


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    recorded = Sent()
    for name in ("fetch", "execute", "fetchrow", "fetchval"):
        original = getattr(asyncpg.Connection, name)

        def recording(self: Any, sql: str, *args: Any, _run: Any = original, **kw: Any) -> Any:
            if sql not in ("BEGIN;", "COMMIT;", "ROLLBACK;"):  # `Transaction`'s: see below
                recorded.add(self, sql)
            return _run(self, sql, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, recording)
    transaction = asyncpg.transaction.Transaction
    for name, sql in (("start", "BEGIN"), ("commit", "COMMIT"), ("rollback", "ROLLBACK")):
        method = getattr(transaction, name)

        async def recording_transaction(self: Any, _run: Any = method, _sql: str = sql) -> None:
            recorded.add(self._connection, _sql)
            await _run(self)

        monkeypatch.setattr(transaction, name, recording_transaction)
    return recorded


async def test_recording_progress_is_one_read_and_one_write_without_begin(
    settings: Settings, sent: Sent
) -> None:
    """Before: BEGIN, the goal, the event's INSERT, the measurements, the goal's UPDATE, the
    audit row's INSERT, COMMIT: seven round trips. Now the goal and its measurements are
    read together, and the writes (with the revision of the status the event changes) go as
    one statement, atomic by itself. (Each on a connection borrowed for it: the request holds
    none in between.)"""
    async with production_app(settings) as (_, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        url = f"/v1/goals/{goal['id']}/progress-events"
        sent.clear()
        # At the target: the goal's derived status changes.
        recorded = await alice.post(url, json={"kind": "measurement", "value": 5})
        assert recorded.status_code == 201, recorded.text
        statements = [sql for on_one in sent.by_connection.values() for sql in on_one]
        assert [sql.split()[0] for sql in statements if not sql.startswith("SELECT count(*)")] == [
            "SELECT",
            "WITH",
        ]  # fmt: skip  (the audit sealer's count(*) may come between)
        read = next(sql for sql in statements if sql.startswith("SELECT goals.id"))
        assert "progress_events" in read  # the goal's measurements, with the goal
        [write] = [sql for sql in sent.on_connection_of("WITH w0 AS (") if sql != read]
        for part in (
            "UPDATE goals",
            "INSERT INTO goal_revisions",
            "INSERT INTO progress_events",
            "INSERT INTO audit_events",
        ):
            assert write.count(part) == 1, write
        # What the one statement wrote is all there: the event, the goal's status, the audit.
        goal_now = (await alice.get(f"/v1/goals/{goal['id']}")).json()
        assert goal_now["achievement_status"] != goal["achievement_status"]
        assert [item["id"] for item in (await alice.get(url)).json()["items"]] == [
            recorded.json()["id"]
        ]
        admin = api.actor(role="admin", org=alice.org)
        made = {"resource_id": recorded.json()["id"]}
        trail = (await admin.get("/v1/audit-events", params=made)).json()["items"]
        assert [item["action"] for item in trail] == ["record_progress_event"]


async def test_progress_that_leaves_the_status_as_it_was_writes_the_event_and_its_audit(
    settings: Settings, sent: Sent
) -> None:
    """The common case: the derived status does not change, so one statement writes the event
    and its audit row, and neither the goal nor its history."""
    async with production_app(settings) as (_, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        url = f"/v1/goals/{goal['id']}/progress-events"
        sent.clear()
        recorded = await alice.post(url, json={"kind": "measurement", "value": 2})
        assert recorded.status_code == 201, recorded.text
        [write] = [sql for sql in sent.on_connection_of("WITH w0 AS (") if sql.startswith("WITH")]
        assert "INSERT INTO progress_events" in write
        assert "INSERT INTO audit_events" in write
        assert "UPDATE goals" not in write
        assert "goal_revisions" not in write
        goal_now = (await alice.get(f"/v1/goals/{goal['id']}")).json()
        assert goal_now["achievement_status"] == goal["achievement_status"]


async def test_a_held_back_write_is_seen_by_the_changes_next_statement(
    settings: Settings, sent: Sent
) -> None:
    """Read back on the driver or through the session, the write is sent first, inside the
    transaction that then commits with it."""
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        first, second = audit_row(), audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, first)
            assert not sent.by_connection.get(id(await driver_of(session)))  # held back
            assert len(await fetch(session, AUDIT_BY_ID, {"id": first["id"]})) == 1
            statements = sent.by_connection[id(await driver_of(session))]
            assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "SELECT"]
            await execute(session, AUDIT_QUERY, second)
            orm = select(func.count()).select_from(_AUDIT).where(_AUDIT.c.id == second["id"])
            assert await session.scalar(orm) == 1
            await session.commit()
        async with service.state.read_sessionmaker() as session:
            for row in (first, second):
                assert len(await fetch(session, AUDIT_BY_ID, {"id": row["id"]})) == 1


async def test_held_back_writes_are_lost_with_a_change_that_never_commits(
    settings: Settings,
) -> None:
    async with production_app(settings) as (service, _):
        row = audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []


async def test_a_rollback_forgets_the_writes_held_back(settings: Settings) -> None:
    """Rolled back before they were sent, they are never sent: not by the next statement,
    nor by the next commit."""
    async with production_app(settings) as (service, _):
        row = audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
            await session.rollback()
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []
            await session.commit()
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []


async def test_a_savepoint_over_writes_held_back_is_refused(settings: Settings) -> None:
    """Nothing is sent when a SAVEPOINT is: writes held back before it would go inside it,
    and be lost with its rollback. A bug in the code, so it fails loudly."""
    async with production_app(settings) as (service, _), service.state.sessionmaker() as session:
        await execute(session, AUDIT_QUERY, audit_row())
        with pytest.raises(RuntimeError, match="SAVEPOINT"):
            await session.begin_nested()


async def test_writes_sent_together_fail_together(settings: Settings, sent: Sent) -> None:
    """An audit row and an event whose goal does not exist: one statement, so the audit row
    is not stored when the event's foreign key fails, though no BEGIN was sent."""
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        row = audit_row()
        event = {"id": uuid.uuid4(), "org_id": "held-back", "client_id": uuid.uuid4(),
                 "goal_id": uuid.uuid4(), "step_id": None, "kind": "note", "value": None,
                 "gas_level": None, "achievement_status": None, "note": "x",
                 "occurred_at": datetime.now(UTC), "recorded_at": datetime.now(UTC),
                 "source": "clinician", "recorded_by": "alice", "status": "recorded",
                 "session_outcome_id": None, "retracted_at": None, "retracted_by": None,
                 "retraction_reason": None}  # fmt: skip
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
            await execute(session, EVENT, event)
            with pytest.raises(IntegrityError):
                await session.commit()
        assert sent.on_connection_of("WITH w0 AS (INSERT INTO audit_events") == [
            combined(((AUDIT_QUERY.sql, len(AUDIT_QUERY.names)), (EVENT.sql, len(EVENT.names))))
        ]  # and nothing else: no BEGIN
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []


async def test_writes_that_take_two_statements_still_commit_together(
    settings: Settings, sent: Sent
) -> None:
    """Two audit rows with one id: two statements (one table), so the transaction begins
    first, and the first row goes with the second's failure, not committed on its own."""
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        row = audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
            await execute(session, AUDIT_QUERY, row)
            with pytest.raises(IntegrityError):
                await session.commit()
        statements = sent.on_connection_of("INSERT INTO audit_events")
        assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "INSERT", "ROLLBACK"]
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []


async def driver_of(session: AsyncSession) -> object:
    return (await (await session.connection()).get_raw_connection()).driver_connection


async def connected(service: FastAPI, sent: Sent) -> None:
    """Open the pool's first connection (SQLAlchemy's first look at the server runs
    statements of its own), then forget what was sent."""
    async with service.state.read_sessionmaker() as session:
        await fetch(session, AUDIT_BY_ID, {"id": uuid.uuid4()})
    sent.clear()


def written(writes: list[tuple[DriverQuery, dict[str, Any]]]) -> list[str]:
    """The statements `writes` go as, each named by the tables it changes."""
    held: list[Write] = [(query, query.arguments(values)) for query, values in writes]
    return ["+".join(re.findall(r"(?:INSERT INTO|UPDATE) (\w+)", sql)) for sql, _ in batches(held)]


def test_only_independent_writes_share_a_statement() -> None:
    """Parts of one statement cannot see each other's rows: a second write to a table, or a
    write whose SQL reads a table another part writes, starts the next statement."""
    audit, event = audit_row(), {column.key: None for column in ProgressEvent.__table__.columns}
    event_table = cast(Table, ProgressEvent.__table__)
    reads_events = DriverQuery(
        update(_AUDIT)
        .where(_AUDIT.c.id == select(event_table.c.id).scalar_subquery())
        .values(action=bindparam("action"))
    )
    assert written([(AUDIT_QUERY, audit), (EVENT, event)]) == ["audit_events+progress_events"]
    assert written([(AUDIT_QUERY, audit), (AUDIT_QUERY, audit), (EVENT, event)]) == [
        "audit_events",
        "audit_events+progress_events",
    ]
    assert written([(EVENT, event), (reads_events, {"action": "x"})]) == [
        "progress_events",
        "audit_events",
    ]


async def test_a_change_of_held_back_writes_alone_commits_them_on_a_borrowed_connection(
    settings: Settings, sent: Sent
) -> None:
    """Nothing but writes held back: `commit_held_back` sends them on a connection borrowed
    for them (one statement, no BEGIN), and the session is left holding nothing."""
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        row = audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
            assert session.in_transaction()  # so that a rollback would forget the write
            assert await commit_held_back(session)
            assert not session.in_transaction()
            assert PENDING not in session.info
        assert sent.on_connection_of("INSERT INTO audit_events") == [AUDIT_QUERY.sql]
        assert service.state.engine.pool.checkedout() == 0
        async with service.state.read_sessionmaker() as session:
            assert len(await fetch(session, AUDIT_BY_ID, {"id": row["id"]})) == 1


async def test_held_back_writes_alone_in_two_statements_commit_or_fail_together(
    settings: Settings, sent: Sent
) -> None:
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        row = audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, row)
            await execute(session, AUDIT_QUERY, row)  # the same id: the second fails
            with pytest.raises(IntegrityError):
                await commit_held_back(session)
        statements = sent.on_connection_of("INSERT INTO audit_events")
        assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "INSERT", "ROLLBACK"]
        assert service.state.engine.pool.checkedout() == 0
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []


async def test_a_change_that_holds_a_connection_is_committed_by_its_session(
    settings: Settings, sent: Sent
) -> None:
    """Once the change ran a statement in its transaction (here through the ORM), its writes
    belong to that transaction: `commit_held_back` leaves them to the session's commit."""
    async with production_app(settings) as (service, _):
        await connected(service, sent)
        first, second = audit_row(), audit_row()
        async with service.state.sessionmaker() as session:
            await execute(session, AUDIT_QUERY, first)
            await session.scalar(select(func.count()).select_from(_AUDIT))  # sends `first`
            await execute(session, AUDIT_QUERY, second)
            assert not await commit_held_back(session)
            assert session.info[PENDING]  # untouched
            await session.commit()
        statements = sent.on_connection_of("INSERT INTO audit_events")  # (not the ORM's)
        assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "INSERT", "COMMIT"]
        async with service.state.read_sessionmaker() as session:
            for row in (first, second):
                assert len(await fetch(session, AUDIT_BY_ID, {"id": row["id"]})) == 1


async def test_held_back_writes_go_only_once_their_session_has_committed(
    settings: Settings,
) -> None:
    """`commit_held_back` ends the session's transaction (no connection, nothing to send)
    before it sends the writes: should anything in that commit fail, nothing is written."""

    def failing_commit(session: Session) -> None:
        raise RuntimeError("a commit hook failed")

    async with production_app(settings) as (service, _):
        row = audit_row()
        event.listen(Session, "before_commit", failing_commit)
        try:
            async with service.state.sessionmaker() as session:
                await execute(session, AUDIT_QUERY, row)
                with pytest.raises(RuntimeError, match="commit hook"):
                    await commit_held_back(session)
        finally:
            event.remove(Session, "before_commit", failing_commit)
        async with service.state.read_sessionmaker() as session:
            assert await fetch(session, AUDIT_BY_ID, {"id": row["id"]}) == []
