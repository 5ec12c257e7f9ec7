from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema

from app.schemas import Absent, ExternalCode, Identifier, Name, PatchModel, ReadModel, WireModel


@cache
def _known_timezones() -> frozenset[str]:
    """The zones of the IANA database as the tzdata package ships it, the same on every
    machine: not `zoneinfo.available_timezones()`, which adds whatever the host's zoneinfo
    folder holds (`localtime`, the server's own zone). `Factory` is no place's time."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - {"Factory"}


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
ExternalId = ExternalCode


class ClientCreate(WireModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "display_name": "R. M.",
                    "external_id": "MRN-004211",
                    "user_subject": "auth0|65f1c0",
                    "timezone": "Europe/London",
                }
            ]
        }
    )

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"timezone": "America/New_York"}]})
    _not_null = frozenset({"display_name", "timezone"})

    display_name: Name | Absent = None
    external_id: ExternalId | None = None
    user_subject: Identifier | None = None
    timezone: Timezone | Absent = None


class ClientRead(ReadModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a4c2-5b1e-7c3d-9f4a-2b6c8d0e1f23",
                    "external_id": "MRN-004211",
                    "display_name": "R. M.",
                    "user_subject": "auth0|65f1c0",
                    "timezone": "Europe/London",
                    "created_at": "2026-11-20T09:30:00Z",
                    "updated_at": "2026-11-20T09:30:00Z",
                    "version": 1,
                }
            ]
        },
    )

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
