"""The raw ceiling: Starlette + asyncpg, no ORM, no auth, no audit — the same lookups and
inserts on the same tables. `make bench` runs it beside the service to compare."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DSN = os.environ["RAW_DATABASE_DSN"]
GOAL = "SELECT * FROM goals WHERE id = $1"
INSERT = (
    "INSERT INTO progress_events (id, org_id, client_id, goal_id, kind, value, occurred_at, "
    "recorded_at, source, recorded_by, status) "
    "SELECT $1, org_id, client_id, id, 'measurement', $2, $3, $3, 'clinician', 'bench', 'recorded' "
    "FROM goals WHERE id = $4 RETURNING id"
)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=10)
    yield
    await app.state.pool.close()


async def get_goal(request: Request) -> Response:
    row = await request.app.state.pool.fetchrow(GOAL, uuid.UUID(request.path_params["goal_id"]))
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return Response(json.dumps(dict(row), default=str), media_type="application/json")


async def add_event(request: Request) -> Response:
    body = await request.json()
    now = datetime.now(UTC)
    event_id = await request.app.state.pool.fetchval(
        INSERT, uuid.uuid4(), float(body["value"]), now, uuid.UUID(request.path_params["goal_id"])
    )
    return JSONResponse({"id": str(event_id)}, status_code=201)


app = Starlette(
    routes=[
        Route("/raw/goals/{goal_id}", get_goal),
        Route("/raw/goals/{goal_id}/progress-events", add_event, methods=["POST"]),
    ],
    lifespan=lifespan,
)
