"""Keyset pagination: opaque cursors and the `{items, next_cursor}` page shape."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
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
    rows: Sequence[T], limit: int, key: Callable[[T], uuid.UUID]
) -> tuple[list[T], str | None]:
    """Rows were fetched with `limit + 1`: the extra row only says that another page exists."""
    items = list(rows[:limit])
    if len(rows) > limit:
        return items, encode_cursor(key(items[-1]))
    return items, None
