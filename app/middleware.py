"""Pure ASGI middleware: request ids, access logs and security headers; the body rules."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uuid_utils import uuid4

from app.logging import start_request_context
from app.problems import (
    INTERNAL_ERROR_DETAIL,
    PROBLEM_BASE,
    ContentTooLarge,
    Overloaded,
    UnsupportedMediaType,
    error_response,
    problem_response,
)

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_log = structlog.get_logger("app.access")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # the methods whose bodies routes read


class RequestContextMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` if sane), binds it to every log
    line, returns it as a header, and writes one access line with the route template.

    Also sets the security headers on every response: nosniff and no referrer everywhere, and
    `Cache-Control: no-store` on the API, whose responses carry health data no cache may keep.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        start_request_context(request_id=request_id)
        started = time.perf_counter()
        status_code = 500
        response_started = False
        private = scope["path"].startswith("/v1/")

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_code = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the last line of defence: a bare 500, no traceback
            _log.error("unhandled error", error=type(exc).__name__)
            if status_code == 500 and not response_started:
                await _internal_error(scope, request_id)(scope, receive, send_with_id)
        finally:
            # The template as OpenAPI writes it (`/v1/goals/{goal_id}`), without converters.
            route = getattr(scope.get("route"), "path_format", "unmatched")
            seconds = time.perf_counter() - started
            _log.info(
                "request",
                method=scope["method"],
                route=route,
                status=status_code,
                duration_ms=round(seconds * 1000, 2),
            )
            metrics = getattr(scope.get("app"), "state", None)
            if metrics is not None and hasattr(metrics, "metrics"):
                metrics.metrics.observe(scope["method"], route, status_code, seconds)


def _request_id(scope: Scope) -> str | None:
    request_id: str | None = scope.get("state", {}).get("request_id")
    return request_id


def _internal_error(scope: Scope, request_id: str) -> JSONResponse:
    return problem_response(
        status=500,
        title="Internal server error",
        type_=PROBLEM_BASE + "internal",
        detail=INTERNAL_ERROR_DETAIL,
        instance=scope["path"],
        request_id=request_id,
    )


class JsonBodyMiddleware:
    """A request with a body must say it is JSON, or it is 415 before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            headers = Headers(scope=scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and not _JSON_TYPE.match(media_type):
                error = UnsupportedMediaType(
                    "Send the body as JSON with `Content-Type: application/json`."
                )
                response = error_response(
                    error, instance=scope["path"], request_id=_request_id(scope)
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, before the body is read whole: a declared
    Content-Length is refused up front; a chunked body is cut off once it passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS:  # no route reads their bodies
            await self.app(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app makes of the cut-off body, the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ContentTooLarge(f"Bodies are limited to {self.max_bytes} bytes.")
        response = error_response(error, instance=scope["path"], request_id=_request_id(scope))
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


@dataclass(slots=True)
class InProgress:
    """API requests a worker is working on, and how many it takes at once (`/metrics` shows
    the count)."""

    limit: int
    count: int = 0


class ConcurrencyLimitMiddleware:
    """At most `in_progress.limit` API requests in progress in this worker; past it, 503 with
    `Retry-After` at once, as a problem like any other. Uvicorn's `--limit-concurrency` would
    answer in plain text and count the probes too: here `/healthz`, `/readyz` and `/metrics`
    still answer while the API sheds load, so an orchestrator sees a busy worker, not a dead
    one. Each request waiting for a database connection holds its body and its place in the
    queue; beyond the limit, a caller learns now to come back, not after the pool's timeout."""

    def __init__(self, app: ASGIApp, in_progress: InProgress) -> None:
        self.app = app
        self.in_progress = in_progress

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith("/v1/")
            or scope["method"] == "OPTIONS"  # CORS preflights: answered without any work
        ):
            await self.app(scope, receive, send)
            return
        in_progress = self.in_progress
        if in_progress.count >= in_progress.limit:
            error = Overloaded(
                "The service is handling as many requests as it can; retry shortly.",
                headers={"Retry-After": "1"},
            )
            response = error_response(error, instance=scope["path"], request_id=_request_id(scope))
            await response(scope, receive, send)
            return
        in_progress.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            in_progress.count -= 1
