"""HTTP details shared by routers: ETags and If-Match."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header
from pydantic import Field, StringConstraints

from app.problems import UnprocessableContent
from app.schemas import OUT_OF_RANGE, Absent

# One entity-tag of an If-Match list: ours are versions ("3"); a weak one (W/"3", as a proxy
# that compresses may turn ours into) names the same version; a bare 3 is tolerated.
# (An entity-tag's characters, less the comma that separates a list's tags.)
_TAG = r'(?:W/)?(?:"[\x21\x23-\x2b\x2d-\x7e]*"|\d{1,9})'
IF_MATCH_PATTERN = rf"^(?:\*|{_TAG}(?:[ \t]*,[ \t]*{_TAG})*)?$"
_TAG_VALUE = re.compile(r'"([^"]*)"|(\d+)')  # in a list IF_MATCH_PATTERN has let through
_VERSION = re.compile(r"^\d{1,9}$")


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(raw: str | None) -> frozenset[int] | None:
    """The versions the caller says it last saw, or None when it did not say (`*` or no
    header); `raw` has passed IF_MATCH_PATTERN. A list (`"2", "3"`) matches any of them; a
    tag that is not one of our versions (`"abc"`) matches none, so the write is refused with
    412 like any other stale tag."""
    if raw is None or raw in ("", "*"):
        return None
    values = (quoted or bare for quoted, bare in _TAG_VALUE.findall(raw))
    return frozenset(int(value) for value in values if _VERSION.match(value))


RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:\d{2})$"


# A timestamp in a query string, kept a string (parse it with `parse_timestamp`) so that
# nothing looser than RFC 3339 with an offset gets through: no bare dates, no Unix seconds.
TimestampText = Annotated[
    str,
    StringConstraints(pattern=RFC3339_PATTERN),
    Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-01T00:00:00Z"]),
]


def parse_timestamp(raw: str | None, name: str) -> datetime | None:
    """The query parameter `name`'s timestamp in UTC (its form already checked by
    RFC3339_PATTERN); a date that does not exist, such as February 30th, or a moment outside
    years 1 to 9999 once in UTC, is a 422 naming the parameter."""
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.upper().replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        message = "This is not a real date and time."
    except OverflowError:
        message = OUT_OF_RANGE
    error = {"loc": ["query", name], "msg": message, "type": "value_error"}
    raise UnprocessableContent(f"`{name}`: {message}", errors=[error])


# What to tell a caller whose value fails one of these patterns, instead of the pattern.
PATTERN_MESSAGES = {
    RFC3339_PATTERN: "must be an RFC 3339 timestamp with an offset, e.g. 2026-11-20T18:30:00Z "
    "(in a query string, write a + offset as %2B)",
    IF_MATCH_PATTERN: 'must be the ETag a response gave, e.g. "3", or a list of them',
}

IfMatchHeader = Annotated[
    Annotated[str, StringConstraints(max_length=1024, pattern=IF_MATCH_PATTERN)] | Absent,
    Header(
        description='The `ETag` from your last read (e.g. `"3"`; a list matches any of its '
        "tags). If the record changed since, you get 412 instead of overwriting someone else's "
        'change. A weak tag (`W/"3"`) counts as its strong one: proxies that compress '
        "responses weaken ETags, and a client should not be locked out by that.",
    ),
]


# Success headers, as OpenAPI documents them (see `TransactionalRoute`).
ETAG_HEADER = {
    "description": 'The version you read, e.g. `"3"`: send it back as `If-Match` to change '
    "this record only if nobody changed it since.",
    "schema": {"type": "string"},
}
REPLAYED_HEADER = {
    "description": "`true` when this is the stored response of an earlier request with the "
    "same `Idempotency-Key`: nothing was done again.",
    "schema": {"type": "string", "enum": ["true"]},
}
LOCATION_HEADER = {"description": "The new record's URL.", "schema": {"type": "string"}}
# For `responses=` of a route that answers 201 with the new record's `Location`.
CREATED_WITH_LOCATION: dict[int | str, dict[str, Any]] = {
    201: {"headers": {"Location": LOCATION_HEADER}}
}
