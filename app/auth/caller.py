"""Who is calling: the identity every service and repository call is scoped by."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
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
    # Who this is within the organization, never mistaken for another: a user's `sub` cannot
    # pose as an integration's `api-key:<id>` (an identity provider may issue any `sub`).
    principal: str = field(init=False, repr=False, compare=False)
    # One string that names this caller and no other, for in-memory counters: organization
    # names may hold any character, so parts joined by a separator would not do. Both are
    # made once: a verified token's caller is kept and serves every request it sends.
    unique_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        integration = self.role is Role.INTEGRATION
        principal = self.subject if integration else f"user:{self.subject}"
        object.__setattr__(self, "principal", principal)
        unique_key = json.dumps([self.org_id, principal], ensure_ascii=False)
        object.__setattr__(self, "unique_key", unique_key)

    @property
    def is_staff(self) -> bool:
        """Admins and clinicians: the people who run therapy, as opposed to the client."""
        return self.role in STAFF
