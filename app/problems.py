"""RFC 9457 problem details: the one error shape of the API, rendered in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:therapy-goals:problem:"
INTERNAL_ERROR_DETAIL = (
    "Something went wrong on our side. Quote the request_id if you contact support."
)


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:therapy-goals:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No goal with this id is visible to you."])
    instance: str | None = Field(
        default=None, examples=["/v1/goals/0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e5f"]
    )
    request_id: str | None = None
    errors: list[ProblemError] | None = None


class AppError(Exception):
    """An error a service raises on purpose; it carries its own status and renders as a problem."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


class BadRequest(AppError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        challenge = "Bearer" if error is None else f'Bearer error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class UnsupportedMediaType(AppError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class UnprocessableContent(AppError):
    status = 422
    slug = "validation-error"
    title = "Validation error"


class IdempotencyKeyInFlight(Conflict):
    slug = "idempotency-key-in-flight"
    title = "Idempotency-Key in flight"


class IdempotencyKeyReused(AppError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused"


class ContentTooLarge(AppError):
    status = 413
    slug = "content-too-large"
    title = "Content too large"


class ServiceUnavailable(AppError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class Overloaded(ServiceUnavailable):
    slug = "overloaded"
    title = "Service overloaded"


def problem_body(
    *,
    status: int,
    title: str,
    type_: str = "about:blank",
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if request_id is not None:
        body["request_id"] = request_id
    body.update(extensions)
    return body


def problem_response(
    *, status: int, title: str, headers: dict[str, str] | None = None, **fields: Any
) -> JSONResponse:
    """The one way a problem leaves the service (handlers, middleware and probes use it)."""
    return JSONResponse(
        problem_body(status=status, title=title, **fields),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def error_response(
    error: AppError, *, instance: str | None, request_id: str | None
) -> JSONResponse:
    return problem_response(
        status=error.status,
        title=error.title,
        type_=error.type,
        detail=error.detail,
        instance=instance,
        request_id=request_id,
        headers=error.headers or None,
        **error.extensions,
    )


_DESCRIPTIONS = {
    400: "Malformed request (bad JSON, bad cursor, bad header).",
    401: "Missing, expired or invalid credentials. Carries `WWW-Authenticate`.",
    403: "Authenticated, but your role may not do this.",
    404: "Not found, or it belongs to someone you may not see.",
    409: "Conflict with the current state (lifecycle, duplicate, concurrent change).",
    412: "`If-Match` does not match the current version.",
    413: "The body is larger than the service accepts (1 MiB by default).",
    415: "The body is not JSON.",
    422: "The body or query failed validation; see `errors` (or `smart`).",
    429: "Too many requests from you; retry after `Retry-After` seconds.",
    503: "The database is unavailable, or the service is at its limit of requests in "
    "progress; retry after `Retry-After` seconds.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the problems a route can return (400/401/422/429/503 always
    can; the route class adds 409 and 413 where a body or an Idempotency-Key is taken)."""
    wanted = sorted({400, 401, 422, 429, 503, *statuses})
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {}},
            **({"headers": _PROBLEM_HEADERS[status]} if status in _PROBLEM_HEADERS else {}),
        }
        for status in wanted
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    }
}
_PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (`Bearer`), and why this failed.",
            "schema": {"type": "string"},
        }
    },
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


class SmartValidationFailed(AppError):
    """A goal that must be SMART is not: the body carries the report under `smart`."""

    status = 422
    slug = "smart-validation-failed"
    title = "The goal is not SMART yet"
