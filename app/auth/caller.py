"""Who is calling: the identity every service and repository call is scoped by."""

from __future__ import annotations

import json
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
    def principal(self) -> str:
        """Who this is within the organization, never mistaken for another: a user's `sub`
        cannot pose as an integration's `api-key:<id>` (an IdP may issue any `sub`)."""
        return self.subject if self.role is Role.INTEGRATION else f"user:{self.subject}"

    @property
    def unique_key(self) -> str:
        """One string that names this caller and no other, for in-memory counters: organization
        names may hold any character, so joining the parts with a separator would not do."""
        return json.dumps([self.org_id, self.principal], ensure_ascii=False)

    @property
    def is_staff(self) -> bool:
        """Admins and clinicians: the people who run therapy, as opposed to the client."""
        return self.role in STAFF
