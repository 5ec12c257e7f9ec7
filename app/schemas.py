"""Building blocks shared by every domain's wire models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema


class WireModel(BaseModel):
    """Request bodies: unknown fields are rejected, so a typo never passes silently.

    Fields typed `X | Absent` may be left out but not sent as null; list them in `_not_null`.
    """

    model_config = ConfigDict(extra="forbid")
    _not_null: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _absent_fields_not_null(self) -> Self:
        for field in self._not_null & self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"`{field}` cannot be null; leave it out instead")
        return self


# In a request body, `X | Absent` means "send an X or leave the field out": null is refused,
# and OpenAPI does not offer it.
Absent = SkipJsonSchema[None]


def _iso_date_string(value: object) -> object:
    # Pydantic would also take 0 or 1700000000 as dates (Unix time); a JSON API should not.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CalendarDate = Annotated[date, BeforeValidator(_iso_date_string)]


class PatchModel(WireModel):
    """PATCH bodies: absent fields stay as they are; `null` clears only the optional ones."""


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# PostgreSQL cannot store NUL in text or jsonb; other C0 controls (but tab and newlines) are
# never meaningful in a goal and only hide text from reviewers.
_CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f"
_A_CONTROL_CHARACTER = re.compile(f"[{_CONTROL_CHARACTERS}]")


def _no_control_characters(value: str) -> str:
    # A regular expression, not a loop over the characters: every text of every goal read
    # passes here too (GoalRead validates what the database holds), 20 to 40 µs a list page.
    if _A_CONTROL_CHARACTER.search(value):
        raise ValueError("must not contain control characters")
    return value


# The same rule, told to OpenAPI (and so to generated clients and schemathesis).
TEXT_PATTERN = f"^[^{_CONTROL_CHARACTERS}]*$"
_CLEAN = AfterValidator(_no_control_characters)
_CLEAN_SCHEMA = Field(json_schema_extra={"pattern": TEXT_PATTERN})


def _json_integer(value: object) -> object:
    # JSON has one number type: 3.0 is the integer 3, but "3" and true are not numbers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


# Put it last in an Annotated, after Field(ge=…, le=…), so the bounds stay in the JSON schema.
WholeNumber = BeforeValidator(_json_integer)


def _bounded(max_length: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=max_length)


def is_name(value: str) -> bool:
    """Whether `value` can name a user or an organization: no control characters (tab and
    line breaks included), no lone surrogates (nothing could store them), and no space first
    or last (" bob" would be another user than "bob", and nobody could tell them apart on a
    screen). The one rule for ids in bodies and paths and for the claims of a token."""
    return value == value.strip(" ") and not any(
        ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value
    )


def _a_name(value: str) -> str:
    if not is_name(value):
        raise ValueError("must not start or end with a space, nor hold tabs or line breaks")
    return value


# No control characters, no tab or line break, no space first or last: the validators' rules.
IDENTIFIER_PATTERN = r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$"
# Held to the rule of names: an id matched exactly (" bob" would be another than "bob", and
# nobody could tell them apart).
_MATCHED_EXACTLY = (
    _CLEAN,
    AfterValidator(_a_name),
    Field(json_schema_extra={"pattern": IDENTIFIER_PATTERN}),
)
# A user's id (a token's `sub`) and other names a system matches exactly.
Identifier = Annotated[str, _bounded(255), *_MATCHED_EXACTLY]
ShortCode = Annotated[str, _bounded(128), _CLEAN, _CLEAN_SCHEMA]
# Another system's id for a record (an EHR's, such as an MRN): matched exactly too.
ExternalCode = Annotated[str, _bounded(128), *_MATCHED_EXACTLY]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Something to show a person (a title, a name): some text that is not all spaces.
VISIBLE_TEXT_PATTERN = (
    f"^[^{_CONTROL_CHARACTERS}]*[^\\s{_CONTROL_CHARACTERS}][^{_CONTROL_CHARACTERS}]*$"
)
Name = Annotated[
    str,
    _bounded(200),
    _CLEAN,
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": VISIBLE_TEXT_PATTERN}),
]
LongText = Annotated[str, _bounded(4000), _CLEAN, _CLEAN_SCHEMA]


def _rfc3339_string(value: object) -> object:
    # Pydantic would also take Unix seconds or a date without a time; a JSON API should not.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-11-20T18:30:00Z")
    return value


# Python's datetimes run from year 1 to 9999: 0001-01-01T00:00:00+01:00 is in year 0 in UTC.
OUT_OF_RANGE = "This moment is outside years 1 to 9999 once in UTC."


def _in_utc(moment: datetime) -> datetime:
    # Every timestamp a response shows is in UTC, the ones echoed from the request too.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None


# Fractions to the nanosecond, as Go and Java write them, kept to the microsecond (PostgreSQL's
# precision): the digits past the sixth are cut off.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_string), AfterValidator(_in_utc)]


def format_timestamp(moment: datetime | None) -> str | None:
    """As response bodies write timestamps (RFC 3339, UTC as `Z`), for a problem's extras."""
    return None if moment is None else _TIMESTAMP.dump_python(moment, mode="json")


_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(datetime)
