"""What a caller may see, as SQL: every repository starts from these clauses.

The clauses name the caller through bound parameters (`caller_org`, `caller_subject`) rather
than literal values, so that a statement is built once per role and shape and then reused for
every caller (building and hashing one costs more than running it); `scope_params` gives the
values, which every execution passes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BindParameter, ColumnElement, SQLColumnExpression, String, bindparam, select
from sqlalchemy import true as sql_true

from app.auth.caller import Caller, Role
from app.clients.models import CareTeamMember, Client

CALLER_ORG: BindParameter[str] = bindparam("caller_org", type_=String)
CALLER_SUBJECT: BindParameter[str] = bindparam("caller_subject", type_=String)


def scope_params(caller: Caller) -> dict[str, str]:
    return {"caller_org": caller.org_id, "caller_subject": caller.subject}


def visible_client_clause(
    role: Role, client_id: SQLColumnExpression[uuid.UUID]
) -> ColumnElement[bool]:
    """Restrict `client_id` to the clients a caller in `role` may see inside their organization.

    admin: every client of the org; clinician: clients whose care team lists them;
    client: the one record whose `user_subject` is their token's `sub`.
    """
    if role in (Role.ADMIN, Role.INTEGRATION):
        return sql_true()  # integrations only reach read operations (app/auth/scopes.py)
    if role is Role.CLINICIAN:
        return client_id.in_(
            select(CareTeamMember.client_id).where(
                CareTeamMember.org_id == CALLER_ORG,
                CareTeamMember.clinician_subject == CALLER_SUBJECT,
            )
        )
    return client_id.in_(
        select(Client.id).where(Client.org_id == CALLER_ORG, Client.user_subject == CALLER_SUBJECT)
    )
