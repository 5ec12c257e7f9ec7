"""Who is calling: the identity every service and repository call is scoped by."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: str
    subject: str
    role: Role

    @property
    def is_staff(self) -> bool:
        """Admins and clinicians: the people who run therapy, as opposed to the client."""
        return self.role in (Role.ADMIN, Role.CLINICIAN)
