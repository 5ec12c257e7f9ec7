"""Liveness and readiness probes for load balancers and orchestrators (no auth)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.problems import PROBLEM_BASE, problem_response
from app.routing import operation_id

router = APIRouter(tags=["operations"], generate_unique_id_function=operation_id)


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    schema_revision: str


@router.get("/healthz", summary="Is the process alive?")
async def healthz() -> Health:
    """Answers as long as the process serves requests; it does not touch the database."""
    return Health(status="ok")


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Request counts and latency by route template and status, and the database pool."""
    return PlainTextResponse(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


@router.get(
    "/readyz",
    summary="Can the service take traffic?",
    responses={503: {"description": "Database unreachable or schema not at the newest migration."}},
    response_model=Readiness,
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """Ready when the database answers and its schema is at the newest migration."""
    expected: str = request.app.state.schema_head
    try:
        async with request.app.state.engine.connect() as connection:
            current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # any failure here means "not ready", whatever its cause
        current = None
        reason = "The database is unreachable."
    else:
        reason = f"The schema is at {current}, not {expected}: run `alembic upgrade head`."
    if current == expected:
        return Readiness(status="ready", schema_revision=expected)
    return problem_response(
        status=503,
        title="Not ready",
        type_=PROBLEM_BASE + "not-ready",
        detail=reason,
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )
