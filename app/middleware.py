"""Pure ASGI middleware: request ids and access logs, and the JSON-only body rule."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import (
    INTERNAL_ERROR_DETAIL,
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    UnsupportedMediaType,
    problem_body,
)

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_log = structlog.get_logger("app.access")


class RequestContextMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` if sane), binds it to every log
    line, returns it as a header, and writes one access line with the route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_code = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_code = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the last line of defence: a bare 500, no traceback
            _log.error("unhandled error", error=type(exc).__name__)
            if status_code == 500 and not response_started:
                await _internal_error(scope, request_id)(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            _log.info(
                "request",
                method=scope["method"],
                route=getattr(route, "path", "unmatched"),
                status=status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


def _internal_error(scope: Scope, request_id: str) -> JSONResponse:
    return JSONResponse(
        problem_body(
            status=500,
            title="Internal server error",
            type_=PROBLEM_BASE + "internal",
            detail=INTERNAL_ERROR_DETAIL,
            instance=scope["path"],
            request_id=request_id,
        ),
        status_code=500,
        media_type=PROBLEM_MEDIA_TYPE,
    )


class JsonBodyMiddleware:
    """A request with a body must say it is JSON, or it is 415 before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"POST", "PUT", "PATCH"}:
            headers = Headers(scope=scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and not _JSON_TYPE.match(media_type):
                error = UnsupportedMediaType(
                    "Send the body as JSON with `Content-Type: application/json`."
                )
                response = JSONResponse(
                    problem_body(
                        status=error.status,
                        title=error.title,
                        type_=error.type,
                        detail=error.detail,
                        instance=scope["path"],
                        request_id=scope.get("state", {}).get("request_id"),
                    ),
                    status_code=error.status,
                    media_type=PROBLEM_MEDIA_TYPE,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
