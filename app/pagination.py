"""Keyset pagination: opaque cursors and the `{items, next_cursor}` page shape."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field, StringConstraints

from app.problems import BadRequest
from app.schemas import Absent

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; null on the last page."
    )


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT}.")]
CURSOR_PATTERN = r"^([A-Za-z0-9_-]{22})?$"  # empty means "from the start"
CursorQuery = Annotated[
    Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)] | Absent,
    Query(description="The `next_cursor` of the previous page (opaque)."),
]


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    """The id after which the next page starts. The pattern on the query parameter already
    guarantees 22 base64url characters, which always decode to 16 bytes."""
    if not cursor:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=="))
    except (ValueError, binascii.Error):
        raise BadRequest("The cursor is not one this API issued; start again without it.") from None


def split_page(
    rows: Sequence[T], limit: int, cursor_for: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """Rows were fetched with `limit + 1`: the extra row only says that another page exists."""
    items = list(rows[:limit])
    if len(rows) > limit:
        return items, cursor_for(items[-1])
    return items, None


# Lists ordered by a time and then an id (newest first) carry both in the cursor:
# 8 bytes of microseconds since the epoch and the 16 id bytes, 32 base64url characters.
TIMED_CURSOR_PATTERN = r"^([A-Za-z0-9_-]{32})?$"
TimedCursorQuery = Annotated[
    Annotated[str, StringConstraints(pattern=TIMED_CURSOR_PATTERN)] | Absent,
    Query(description="The `next_cursor` of the previous page (opaque)."),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def encode_timed_cursor(at: datetime, last_id: uuid.UUID) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    raw = micros.to_bytes(8, "big", signed=True) + last_id.bytes
    return base64.urlsafe_b64encode(raw).decode()


def decode_timed_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """Any 32 base64url characters are a position; one outside the calendar is clamped to it."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor)
    except (ValueError, binascii.Error):
        raise BadRequest("The cursor is not one this API issued; start again without it.") from None
    micros = int.from_bytes(raw[:8], "big", signed=True)
    earliest = (_EARLIEST - _EPOCH) // timedelta(microseconds=1)
    latest = (_LATEST - _EPOCH) // timedelta(microseconds=1)
    at = _EPOCH + timedelta(microseconds=min(max(micros, earliest), latest))
    return at, uuid.UUID(bytes=raw[8:24])
