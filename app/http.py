"""HTTP details shared by routers: ETags and If-Match."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Header
from pydantic import Field, StringConstraints

from app.problems import BadRequest, UnprocessableContent
from app.schemas import Absent

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(raw: str | None) -> int | None:
    """The version the caller last saw, or None when they did not say (`*` or no header)."""
    if not raw or raw == "*":
        return None
    match = _ETAG.match(raw)
    if match is None:
        raise BadRequest('`If-Match` must be the ETag you received, such as "3".')
    return int(match.group(1))


RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|z|[+-]\d{2}:\d{2})$"


# A timestamp in a query string, kept a string (parse it with `parse_timestamp`) so that
# nothing looser than RFC 3339 with an offset gets through: no bare dates, no Unix seconds.
TimestampText = Annotated[
    str,
    StringConstraints(pattern=RFC3339_PATTERN),
    Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-01T00:00:00Z"]),
]


def parse_timestamp(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise UnprocessableContent(f"{raw!r} is not a real date and time.") from None


IfMatchHeader = Annotated[
    Annotated[str, StringConstraints(pattern=r'^(\*|(W/)?"\d{1,9}"|\d{1,9})?$')] | Absent,
    Header(
        description='The `ETag` from your last read (e.g. `"3"`). If the goal changed since, '
        "you get 412 instead of overwriting someone else's change.",
    ),
]
