"""What a caller may see, as SQL: every repository starts from these clauses."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, SQLColumnExpression, select, true

from app.auth.caller import Caller, Role
from app.clients.models import CareTeamMember, Client


def visible_client_clause(
    caller: Caller, client_id: SQLColumnExpression[uuid.UUID]
) -> ColumnElement[bool]:
    """Restrict `client_id` to the clients the caller may see inside their organization.

    admin: every client of the org; clinician: clients whose care team lists them;
    client: the one record whose `user_subject` is their token's `sub`.
    """
    if caller.role in (Role.ADMIN, Role.INTEGRATION):
        return true()  # integrations only reach read operations (app/auth/scopes.py)
    if caller.role is Role.CLINICIAN:
        return client_id.in_(
            select(CareTeamMember.client_id).where(
                CareTeamMember.org_id == caller.org_id,
                CareTeamMember.clinician_subject == caller.subject,
            )
        )
    return client_id.in_(
        select(Client.id).where(
            Client.org_id == caller.org_id, Client.user_subject == caller.subject
        )
    )
