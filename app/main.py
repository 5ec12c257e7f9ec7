"""The ASGI application: `app.main:app`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import structlog
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRouter
from fastapi_offline import FastAPIOffline

from app.api_keys.router import router as api_keys_router
from app.audit.recorder import INSERT_AUDIT
from app.audit.router import router as audit_router
from app.audit.seals import seal_periodically
from app.audit.writer import AuditWriter
from app.auth.jwks import JwksKeySource
from app.auth.tokens import VerifiedTokens
from app.clients.router import router as clients_router
from app.config import PROJECT_ROOT, Settings, get_settings
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.embedded_db import start_embedded_server
from app.errors import install_problem_handlers
from app.goal_templates.router import router as templates_router
from app.goals.router import router as goals_router
from app.health.router import router as health_router
from app.idempotency.service import purge_periodically
from app.limits import CallerRateLimiter, FailedAuthentications, ListBudget
from app.logging import configure_logging
from app.metrics import Metrics
from app.middleware import (
    BodySizeLimitMiddleware,
    ConcurrencyLimitMiddleware,
    InProgress,
    JsonBodyMiddleware,
    RequestContextMiddleware,
)
from app.progress.router import router as progress_router
from app.routing import operation_id
from app.session_outcomes.router import router as outcomes_router
from app.steps.router import router as steps_router
from app.transaction import TransactionalRoute

DESCRIPTION = """
Goals that clients and their therapists set together, made **SMART** (specific, measurable,
achievable, relevant, time-bound), broken into small steps, and tracked over time.

**Trying it:** run `python -m app.cli token --role clinician --org demo --sub alice`, press
**Authorize** and paste the token. Every `/v1` call needs it.

Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`.
Anything that belongs to someone you may not see answers 404, exactly like something that does
not exist.
"""

TAGS = [
    {"name": "clients", "description": "People in therapy, and the clinicians on their care team."},
    {"name": "goals", "description": "SMART goals, their lifecycle and their full history."},
    {"name": "steps", "description": "The small steps of a goal's action plan, in order."},
    {
        "name": "progress",
        "description": "Progress events (append-only) and the summaries built from them.",
    },
    {"name": "goal templates", "description": "SMART example goals for each area of therapy."},
    {"name": "session outcomes", "description": "What EHRs report after each session."},
    {"name": "api keys", "description": "Credentials for EHR integrations (admins only)."},
    {"name": "audit", "description": "Who read or changed what, and every refused attempt."},
    {"name": "operations", "description": "Health probes; no authentication."},
]


def schema_head() -> str:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("No Alembic revisions found")
    return head


async def database_url(app: FastAPI, settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    server = await asyncio.to_thread(start_embedded_server, settings.embedded_db_path)
    app.state.embedded_server = server
    url: str = server.get_uri(driver="asyncpg")
    return url


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.uses_development_secret:  # at start, not at import: once per worker that serves
        structlog.get_logger("app").warning(
            "using the development JWT secret: fine on a laptop, never in production"
        )
    app.state.embedded_server = None
    engine = create_engine(settings, await database_url(app, settings))
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.audit_writer = AuditWriter(lambda: app.state.read_sessionmaker, INSERT_AUDIT)
    app.state.schema_head = await asyncio.to_thread(schema_head)
    async with httpx.AsyncClient() as http_client:
        app.state.jwks = (
            JwksKeySource(settings.jwt_jwks_url, http_client) if settings.jwt_jwks_url else None
        )
        purger = asyncio.create_task(purge_periodically(app.state.sessionmaker))
        sealer = asyncio.create_task(seal_periodically(engine))
        # What start-up made (modules, routes, schemas) lives as long as the worker: moved out
        # of the collector's reach, full collections stop walking it and pausing requests.
        gc.collect()
        gc.freeze()
        # A young-generation collection every 10,000 allocations, not 700: most of what a
        # request allocates is freed when it ends, before a collection would have walked it
        # and promoted what was still in flight (POST …/progress-events: 3,868k -> 3,651k
        # instructions, callgrind).
        gc.set_threshold(10_000, 10, 10)
        try:
            yield
        finally:
            for task in (purger, sealer):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await app.state.audit_writer.drain()
            await engine.dispose()
            if app.state.embedded_server is not None:
                # Stop the embedded PostgreSQL when the last worker using it leaves: uvicorn
                # re-raises SIGTERM after shutdown, so atexit hooks would not run.
                await asyncio.to_thread(app.state.embedded_server.cleanup)


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """Adds the router's routes to the app's own list, as `include_router` did before FastAPI
    0.137. Since then an included router stays a branch, matched route by route twice per
    request (once to find the branch, once within it): 5 % of a POST's instructions on 0.165,
    measured with callgrind. Our routers take no prefix or options when included, so their
    routes are complete as they are; what the app would have lent them at inclusion, they
    must carry themselves (`app.dependency_overrides` does not reach them either)."""
    if router.generate_unique_id_function is not operation_id:
        raise ValueError("A router added flat must name its operationIds with `operation_id`.")
    if router.on_startup or router.on_shutdown:
        raise ValueError("A router added flat has no startup or shutdown hooks of its own.")
    for route in router.routes:
        if isinstance(route, TransactionalRoute):  # matched as it is: its path says how it starts
            route.literal_prefix = route.path.partition("{")[0]
            route.slashes = None if ":path}" in route.path else route.path.count("/")
    app.router.routes.extend(router.routes)


def openapi_of_the_day(app: FastAPI) -> dict[str, Any]:
    """FastAPI writes the schema once; this writes it again on a new (UTC) day, so that the
    examples dated from today (app.goals.schemas) stay usable in a service that runs on."""
    today = datetime.now(UTC).date()
    if getattr(app.state, "openapi_day", None) != today:
        app.openapi_schema = None
        app.state.openapi_day = today
    return type(app).openapi(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    production = settings.app_env == "production"
    configure_logging(settings.log_level, json_logs=production, cache=production)
    app = FastAPIOffline(
        title="Therapy Goals API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        # Metrics are Prometheus (/metrics) and logs structlog. FastAPI's own OpenTelemetry
        # bridge would otherwise ask the OpenTelemetry API on every request whether a provider
        # has been configured since.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.rate_limiter = CallerRateLimiter(settings.rate_limit)
    app.state.list_budget = ListBudget(settings.list_budget)
    app.state.failed_authentications = FailedAuthentications(settings.failed_auth_limit)
    app.state.in_progress = InProgress(settings.max_requests_in_progress)
    app.state.metrics = Metrics(app)
    app.state.verified_tokens = VerifiedTokens()
    install_problem_handlers(app)
    for router in (
        health_router,
        clients_router,
        goals_router,
        steps_router,
        progress_router,
        templates_router,
        outcomes_router,
        api_keys_router,
        audit_router,
    ):
        include_flat(app, router)
    # The API's routes first: the rest (docs, schema, probes, metrics) are matched by their
    # regular expressions, and no path can match one of each kind.
    app.router.routes.sort(key=lambda route: not isinstance(route, TransactionalRoute))
    # A path with a slash too many is 404 like any unknown path. Starlette would redirect it,
    # to an absolute URL built from the request's Host header (whatever the sender put there).
    app.router.redirect_slashes = False
    app.openapi = partial(openapi_of_the_day, app)  # type: ignore[method-assign]
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Inside CORS (a browser can read the 503 and its Retry-After; preflights never count) and
    # inside the request context (a request turned away still has its id, log line, metrics).
    app.add_middleware(ConcurrencyLimitMiddleware, in_progress=app.state.in_progress)
    if settings.cors_origins:  # else no browser origin may call: nothing to add or vary by
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=["ETag", "Location", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)
    return app


app = create_app()
