"""Hot statements run on the driver (app/driver.py): the same answers as through the ORM, the
same faults (a lost connection or a statement timeout is a 503, and the pool recovers), and in
a change, the same transaction: all of the request's statements commit, or none."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import Table, Uuid, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import ReadOnlyViolation
from app.driver import DriverQuery, execute, fetch
from app.errors import status_of
from app.goals.models import Goal
from app.pool import QUIET_RECONNECT
from tests.api import Api, production_app


async def test_driver_reads_answer_what_the_orm_answers(api: Api) -> None:
    alice = api.actor()
    client = await api.client(alice)
    created = await api.goal(alice, client["id"], priority="high")
    changed = await alice.patch(
        f"/v1/goals/{created['id']}",
        json={"title": "Walk ten minutes after lunch"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    read = await alice.get(f"/v1/goals/{created['id']}")
    page = await alice.get("/v1/goals", params={"client_id": client["id"]})
    assert read.status_code == page.status_code == 200
    assert read.json() == changed.json()  # the ORM's object and the driver's row, as JSON
    assert page.json()["items"] == [changed.json()]
    assert read.headers["ETag"] == changed.headers["ETag"]


async def test_a_driver_read_on_a_lost_connection_is_a_503_and_the_next_read_recovers(
    app: FastAPI, settings: Settings
) -> None:
    async with production_app(settings, db_pool_size=1, db_max_overflow=0) as (service, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        async with service.state.engine.connect() as pooled:  # the pool's only connection
            backend = await pooled.scalar(text("SELECT pg_backend_pid()"))
        async with app.state.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        lost = await alice.get(f"/v1/goals/{goal['id']}")
        assert lost.status_code == 503, lost.text
        assert lost.headers["content-type"] == "application/problem+json"
        assert lost.headers["Retry-After"]
        # The dead connection was dropped, not returned: the next read gets a new one (the
        # pool's idle entry must connect again, which the borrow outside a greenlet hands
        # over to one, quietly), and gives it back.
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")  # however often the suite saw it before
            warnings.filterwarnings(**QUIET_RECONNECT)  # as the app has it from import on
            assert (await alice.get(f"/v1/goals/{goal['id']}")).status_code == 200
        assert [str(warning.message) for warning in warned] == []
        pool = service.state.engine.pool
        assert (pool.checkedout(), pool.checkedin()) == (0, 1)


async def test_a_change_on_a_lost_connection_is_a_503_and_the_next_change_recovers(
    app: FastAPI, settings: Settings
) -> None:
    """Recording progress first reads the goal's facts, on a connection borrowed for it: one
    lost there is a 503 too, and is dropped."""
    async with production_app(settings, db_pool_size=1, db_max_overflow=0) as (service, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        async with service.state.engine.connect() as pooled:
            backend = await pooled.scalar(text("SELECT pg_backend_pid()"))
        async with app.state.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        events = f"/v1/goals/{goal['id']}/progress-events"
        lost = await alice.post(events, json={"kind": "measurement", "value": 2})
        assert lost.status_code == 503, lost.text
        assert lost.headers["Retry-After"]
        recorded = await alice.post(events, json={"kind": "measurement", "value": 2})
        assert recorded.status_code == 201, recorded.text
        assert len((await alice.get(events)).json()["items"]) == 1


async def test_a_driver_read_past_the_statement_timeout_is_a_503(
    app: FastAPI, settings: Settings
) -> None:
    async with production_app(settings, db_statement_timeout_ms=300) as (_, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        async with app.state.engine.connect() as holder:
            transaction = await holder.begin()
            await holder.execute(text("LOCK TABLE goals IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            response = await alice.get(f"/v1/goals/{goal['id']}")
            seconds = time.monotonic() - started
            await transaction.rollback()
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        assert seconds < 3
        assert (await alice.get(f"/v1/goals/{goal['id']}")).status_code == 200


def test_a_statement_whose_parameters_need_converting_cannot_run_on_the_driver() -> None:
    needs_json = select(Goal).where(Goal.measure == bindparam("measure", type_=JSONB))
    with pytest.raises(ValueError, match="measure"):
        DriverQuery(needs_json)


def test_a_parameter_without_a_value_is_refused_not_sent_as_null() -> None:
    by_id = DriverQuery(select(Goal.id).where(Goal.id == bindparam("goal_id")))
    with pytest.raises(TypeError, match="goal_id"):
        by_id.arguments({})
    every_column = DriverQuery(insert(cast(Table, AuditEvent.__table__)))
    with pytest.raises(TypeError, match="'org_id'"):
        every_column.arguments({})
    literal = DriverQuery(select(Goal.id).where(Goal.lifecycle_status == "active"))
    assert literal.arguments({}) == ["active"]  # a value of the statement's own may be left out


async def test_a_value_the_driver_cannot_encode_fails_alone_and_keeps_the_connection(
    settings: Settings,
) -> None:
    """A value asyncpg refuses to encode is a bug in the request's code, not a database fault:
    the connection is kept, not dropped, and the answer is a 500, not a 503."""
    async with production_app(settings, db_pool_size=1, db_max_overflow=0) as (service, _):
        by_id = DriverQuery(select(Goal.id).where(Goal.id == bindparam("goal_id", type_=Uuid)))
        backend = "SELECT pg_backend_pid()"
        async with service.state.engine.connect() as pooled:  # the pool's only connection
            before = await pooled.scalar(text(backend))
        async with service.state.read_sessionmaker() as session:
            with pytest.raises(DBAPIError) as failed:
                await fetch(session, by_id, {"goal_id": "not a uuid"})
        assert not failed.value.connection_invalidated
        assert status_of(failed.value) == 500
        async with service.state.engine.connect() as pooled:
            assert await pooled.scalar(text(backend)) == before


async def test_a_read_request_never_holds_two_connections(settings: Settings) -> None:
    """With one connection in the pool, reads that mix ORM and driver statements in either
    order still answer: one that held a connection while waiting for a second would wait for
    itself until the pool timeout, then 503."""
    one_connection = {"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_seconds": 1.0}
    async with production_app(settings, **one_connection) as (_, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        client = await api.client(alice)
        await api.goal(alice, client["id"])
        empty = await api.client(alice)
        summary = await alice.get(f"/v1/clients/{client['id']}/summary")  # ORM, then driver
        assert summary.status_code == 200, summary.text
        # Driver (an empty page), then ORM (is the client visible at all?).
        page = await alice.get("/v1/goals", params={"client_id": empty["id"]})
        assert page.status_code == 200, page.text
        assert page.json()["items"] == []


async def test_a_change_that_fails_after_its_driver_statements_leaves_nothing_behind(
    app: FastAPI, settings: Settings
) -> None:
    """Recording progress reads the goal, inserts the event and updates the goal's derived
    status, all on the driver. Held up at the update past the statement timeout, the request
    fails, and the event must go with it: the driver's statements ran inside the request's
    transaction, not each committed on its own."""
    async with production_app(settings, db_statement_timeout_ms=300) as (_, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        events = f"/v1/goals/{goal['id']}/progress-events"
        async with app.state.engine.connect() as holder:
            transaction = await holder.begin()
            # Not the key: the event's foreign key check may pass, the goal's update may not.
            await holder.execute(
                text("SELECT 1 FROM goals WHERE id = :id FOR NO KEY UPDATE"), {"id": goal["id"]}
            )
            # At the target: the goal's derived status changes, so its row is updated.
            failed = await alice.post(events, json={"kind": "measurement", "value": 5})
            await transaction.rollback()
        assert failed.status_code == 503, failed.text
        listed = await alice.get(events)
        assert listed.status_code == 200
        assert listed.json()["items"] == []
        recorded = await alice.post(events, json={"kind": "measurement", "value": 4})
        assert recorded.status_code == 201, recorded.text
        assert [item["id"] for item in (await alice.get(events)).json()["items"]] == [
            recorded.json()["id"]
        ]


async def test_a_read_gives_its_connection_back_whether_it_answers_or_fails(
    settings: Settings,
) -> None:
    """A read's session is closed only if it was used (closing an unused one costs 8 % of a
    GET), then kept for the next read: one that read through the ORM and then failed must
    still give its connection back at once, not when the garbage collector finds it."""
    async with production_app(settings) as (service, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        pool = service.state.engine.pool
        assert (await alice.get(f"/v1/goals/{goal['id']}")).status_code == 200  # driver only
        assert pool.checkedout() == 0
        missing = await alice.get(f"/v1/clients/{uuid.uuid4()}/summary")  # ORM, then 404
        assert missing.status_code == 404
        assert pool.checkedout() == 0
        found = await alice.get(f"/v1/goals/{goal['id']}/revisions")  # ORM, answered
        assert found.status_code == 200
        assert pool.checkedout() == 0
        kept_sessions = service.state.read_sessionmaker._idle
        assert len(kept_sessions) == 1  # one session served the three reads in turn
        kept = service.state.read_sessionmaker.take()
        assert not kept.in_transaction()
        assert not kept.identity_map  # nothing the next reader could be handed by mistake


async def test_concurrent_reads_each_have_a_session_of_their_own(settings: Settings) -> None:
    """Kept sessions are handed out one reader at a time: twenty GETs in flight at once, each
    through the ORM and the driver, answer each with its own goal, and afterwards every
    session is back, none twice."""
    async with production_app(settings) as (service, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        client = await api.client(alice)
        goals = [await api.goal(alice, client["id"], title=f"Goal number {n}") for n in range(20)]

        async def read(goal: dict[str, Any]) -> tuple[str, str, int]:
            got, history = await asyncio.gather(
                alice.get(f"/v1/goals/{goal['id']}"),
                alice.get(f"/v1/goals/{goal['id']}/revisions"),
            )
            assert (got.status_code, history.status_code) == (200, 200), got.text + history.text
            return got.json()["title"], goal["title"], len(history.json()["items"])

        await read(goals[0])  # sessions kept from earlier reads are there to be taken
        answers = await asyncio.gather(*(read(goal) for goal in goals))
        assert all(title == expected and revisions == 1 for title, expected, revisions in answers)
        idle = service.state.read_sessionmaker._idle
        assert 1 < len(idle) <= 40  # the readers in flight needed sessions of their own
        assert len({id(session) for session in idle}) == len(idle)
        assert service.state.engine.pool.checkedout() == 0


async def test_a_read_session_refuses_a_driver_write(app: FastAPI) -> None:
    """On a read's session a write would commit at once, on its own: refused instead."""
    write = DriverQuery(text("SELECT 1").columns())  # any statement: it must not run
    async with app.state.read_sessionmaker() as session:
        with pytest.raises(ReadOnlyViolation):
            await execute(session, write, {})


async def test_a_lost_pooled_connection_is_opened_again_by_the_next_borrow(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One of three pooled connections dies: the read on it is a 503, and the borrow after
    it opens it again at once (the pool hands out the connection given back last), rather
    than every borrow finding it, failing to take it without waiting, and passing it over."""
    async with production_app(settings, db_pool_size=3, db_max_overflow=0) as (service, api):
        alice = api.actor(org=f"org-{uuid.uuid4()}")
        goal = await api.goal(alice, (await api.client(alice))["id"])
        engine = service.state.engine
        async with engine.connect() as a, engine.connect() as b, engine.connect() as c:
            backends = [await each.scalar(text("SELECT pg_backend_pid()")) for each in (a, b, c)]
        async with app.state.engine.connect() as other:  # `a`'s: given back last, taken next
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backends[0]})
        waited = 0
        original = type(engine).raw_connection

        async def counted(self: Any) -> Any:
            nonlocal waited
            waited += 1
            return await original(self)

        monkeypatch.setattr(type(engine), "raw_connection", counted)
        answers = [(await alice.get(f"/v1/goals/{goal['id']}")).status_code for _ in range(30)]
        assert answers == [503] + [200] * 29  # the dead one came first: given back last
        assert waited == 1  # the one borrow that had to open it again
        assert (engine.pool.checkedout(), engine.pool.checkedin()) == (0, 3)
