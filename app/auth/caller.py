"""Who is calling: the identity every service and repository call is scoped by."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    CLIENT = "client"
    INTEGRATION = "integration"  # an EHR or script holding an API key; never in a JWT


USER_ROLES = (Role.ADMIN, Role.CLINICIAN, Role.CLIENT)
STAFF = (Role.ADMIN, Role.CLINICIAN)  # the people who run therapy, as opposed to the client


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: str
    subject: str  # a user's `sub`, or `api-key:<id>` for an integration
    role: Role
    scopes: frozenset[str] = frozenset()  # what an integration's key allows
    credential_id: uuid.UUID | None = None  # the API key, for integrations

    @property
    def is_staff(self) -> bool:
        """Admins and clinicians: the people who run therapy, as opposed to the client."""
        return self.role in STAFF
