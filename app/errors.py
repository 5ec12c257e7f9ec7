"""Every error becomes an RFC 9457 problem here, and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from app.http import PATTERN_MESSAGES
from app.idempotency.service import Replay
from app.problems import (
    INTERNAL_ERROR_DETAIL,
    PROBLEM_BASE,
    AppError,
    error_response,
    problem_response,
)
from app.routing import allowed_methods

_log = structlog.get_logger("app.errors")

# Unique constraints a caller can run into, with what to tell them.
_CONSTRAINT_MESSAGES = {
    "uq_clients_org_id_external_id": "A client with this external_id already exists.",
    "uq_clients_org_id_user_subject": "Another client already has this user_subject.",
    "uq_goals_one_focus_per_client": "Another request made a different goal the focus; retry.",
}
_CONNECTION_ERRORS = (OSError, ConnectionError, PoolTimeoutError)
_NOT_JSON = "The body is not valid JSON (or not UTF-8, or nested too deeply)."


def _problem(
    request: Request, status: int, title: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    return problem_response(
        status=status,
        title=title,
        type_=type_,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        **extra,
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AppError):  # registered for this type only
        raise exc
    return error_response(
        exc, instance=request.url.path, request_id=getattr(request.state, "request_id", None)
    )


def _is_malformed(loc: list[int | str]) -> bool:
    """Headers and cursors are protocol, not data: getting them wrong is 400, not 422."""
    return loc[:1] == ["header"] or loc[:2] == ["query", "cursor"]


def _without_union_branches(raw: Sequence[Any]) -> list[Any]:
    """An optional parameter (`X | None`) that fails is reported by pydantic once per branch
    of the union, each under a branch tag after the parameter's `loc`: `["query", "cursor",
    "constrained-str"]` and `["query", "cursor", "none"]` ("Input should be None"), or for a
    list `["query", "category", "list[...]", 0]`. The caller sent a bad X: keep that error,
    without the tag, and drop the None branch's."""
    optional = {
        tuple(error["loc"][:-1])
        for error in raw
        if error["type"] == "none_required" and error["loc"][-1:] == ("none",)
    }
    kept = []
    for error in raw:
        loc = tuple(error["loc"])
        parameter = next((p for p in optional if loc[: len(p)] == p and len(loc) > len(p)), None)
        if parameter is not None:
            if error["type"] == "none_required":
                continue
            error = {**error, "loc": (*parameter, *loc[len(parameter) + 1 :])}
        kept.append(error)
    return kept


def _message(error: Any) -> str:
    """Pydantic's message, but a pattern's meaning instead of the pattern where we know it,
    and our validators' own words without pydantic's "Value error, " before them."""
    context = error.get("ctx") or {}
    pattern = context.get("pattern")
    if error["type"] == "string_pattern_mismatch" and pattern in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[pattern]
    if error["type"] == "value_error" and isinstance(context.get("error"), ValueError):
        return str(context["error"])
    message: str = error["msg"]
    return message


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for this type only
        raise exc
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        return _problem(
            request,
            400,
            "Malformed JSON",
            PROBLEM_BASE + "malformed-json",
            detail=_NOT_JSON,
        )
    # Never echo the rejected input back: it may be PHI.
    errors = [
        {"loc": list(error["loc"]), "msg": _message(error), "type": error["type"]}
        for error in _without_union_branches(raw)
    ]
    if all(_is_malformed(error["loc"]) for error in errors):
        return _problem(
            request,
            400,
            "Bad request",
            PROBLEM_BASE + "bad-request",
            detail="A header or cursor is malformed; see `errors`.",
            errors=errors,
        )
    return _problem(
        request,
        422,
        "Validation error",
        PROBLEM_BASE + "validation-error",
        detail="Some fields are missing or invalid; see `errors`.",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # registered for this type only
        raise exc
    # FastAPI's own 400 is a body its parser gave up on (not UTF-8, nested too deep): the
    # same problem as a body that is not JSON at all.
    titles = {400: "Malformed JSON", 404: "Not found", 405: "Method not allowed"}
    slugs = {400: "malformed-json", 404: "not-found", 405: "method-not-allowed"}
    details = {400: _NOT_JSON, 404: "Nothing is here."}
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return _problem(
        request,
        exc.status_code,
        titles.get(exc.status_code, "HTTP error"),
        PROBLEM_BASE + slugs[exc.status_code] if exc.status_code in slugs else "about:blank",
        detail=details.get(exc.status_code, str(exc.detail)),
        headers=headers or None,
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, IntegrityError):  # registered for this type only
        raise exc
    # asyncpg's error: as SQLAlchemy's adapter wraps it, or as app/driver.py passes it on.
    driver_error = getattr(exc.orig, "__cause__", None) or exc.orig
    constraint = getattr(driver_error, "constraint_name", None)
    detail = _CONSTRAINT_MESSAGES.get(constraint or "", "The change conflicts with existing data.")
    _log.info("integrity conflict", constraint=constraint)
    return _problem(request, 409, "Conflict", PROBLEM_BASE + "conflict", detail=detail)


async def _stale_data(request: Request, exc: Exception) -> JSONResponse:
    return _problem(
        request,
        412,
        "Precondition failed",
        PROBLEM_BASE + "precondition-failed",
        detail="Someone changed this at the same moment; read it again and retry.",
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not _is_connection_error(exc)
    ):
        return await _unexpected(request, exc)
    _log.warning("database unavailable", error=type(exc).__name__)
    return _problem(
        request,
        503,
        "Service unavailable",
        PROBLEM_BASE + "service-unavailable",
        detail="The database is unavailable; retry shortly.",
        headers={"Retry-After": "2"},
    )


# SQLSTATEs that mean "not now" rather than "wrong": a statement timeout, the server shutting
# down or starting up, a lost connection, a deadlock. The caller may retry.
_TRANSIENT_SQLSTATES = ("57014", "57P01", "57P02", "57P03", "40P01", "08")


def _is_connection_error(exc: DBAPIError) -> bool:
    cause = getattr(exc.orig, "__cause__", None)
    if isinstance(exc.orig, _CONNECTION_ERRORS) or isinstance(cause, _CONNECTION_ERRORS):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
    return str(sqlstate).startswith(_TRANSIENT_SQLSTATES)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The type name only: exception messages can carry SQL parameters, i.e. PHI.
    _log.error("unhandled error", error=type(exc).__name__)
    return _problem(
        request,
        500,
        "Internal server error",
        PROBLEM_BASE + "internal",
        detail=INTERNAL_ERROR_DETAIL,
    )


async def _replay(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Replay):  # registered for this type only
        raise exc
    return exc.response


def status_of(exc: Exception) -> int:
    """The status the handlers below answer `exc` with (the audit trail records it)."""
    if isinstance(exc, AppError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        raw = exc.errors()
        if any(error.get("type") == "json_invalid" for error in raw):
            return 400  # as `_validation_error` answers it
        return 400 if all(_is_malformed(list(error["loc"])) for error in raw) else 422
    if isinstance(exc, IntegrityError):
        return 409
    if isinstance(exc, StaleDataError):
        return 412
    if isinstance(exc, _CONNECTION_ERRORS) or (
        isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_connection_error(exc))
    ):
        return 503
    return 500


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(DBAPIError, _database_error)
    for error_type in _CONNECTION_ERRORS:
        app.add_exception_handler(error_type, _database_error)
    # Anything else is caught by RequestContextMiddleware, which renders a bare 500 problem
    # without letting the server print a traceback (its message could carry PHI).
