from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from app.schemas import Absent, Identifier, Name, PatchModel, ReadModel, ShortCode, WireModel


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _iana_timezone(value: str) -> str:
    if value not in _known_timezones():
        raise ValueError("must be an IANA time zone such as Europe/Berlin or America/New_York")
    return value


Timezone = Annotated[
    str,
    AfterValidator(_iana_timezone),
    WithJsonSchema(
        {"type": "string", "enum": sorted(_known_timezones()), "example": "Europe/London"}
    ),
]
ExternalId = ShortCode


class ClientCreate(WireModel):
    display_name: Name = Field(examples=["R. M."], description="How the client is shown to staff.")
    external_id: ExternalId | None = Field(
        default=None,
        examples=["MRN-004211"],
        description="The EHR's id; unique in your organization.",
    )
    user_subject: Identifier | None = Field(
        default=None,
        examples=["auth0|65f1c0"],
        description="The client's own login (`sub` of their token), so they can see their goals.",
    )
    timezone: Timezone = Field(default="UTC", examples=["Europe/London"])


class ClientUpdate(PatchModel):
    _required = frozenset({"display_name", "timezone"})

    display_name: Name | Absent = None
    external_id: ExternalId | None = None
    user_subject: Identifier | None = None
    timezone: Timezone | Absent = None


class ClientRead(ReadModel):
    id: uuid.UUID
    external_id: str | None
    display_name: str
    user_subject: str | None
    timezone: str
    created_at: datetime
    updated_at: datetime
    version: int


class CareTeamMemberRead(ReadModel):
    clinician_subject: str
    added_by: str
    added_at: datetime


class CareTeam(ReadModel):
    client_id: uuid.UUID
    members: list[CareTeamMemberRead]
