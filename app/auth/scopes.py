"""What an integration (API key) may call: one table, checked for every request it makes.

Users are governed by their role; integrations by their key's scopes. An operation missing from
this table is closed to integrations whatever their scopes.
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["clients:read", "goals:read", "progress:read", "session_outcomes:write"]
SCOPES: tuple[Scope, ...] = (
    "clients:read",
    "goals:read",
    "progress:read",
    "session_outcomes:write",
)

SCOPE_BY_OPERATION: dict[str, Scope] = {
    "list_clients": "clients:read",
    "get_client": "clients:read",
    "get_care_team": "clients:read",
    "list_goals": "goals:read",
    "list_client_goals": "goals:read",
    "get_goal": "goals:read",
    "list_goal_revisions": "goals:read",
    "validate_goal": "goals:read",
    "list_goal_templates": "goals:read",
    "list_steps": "goals:read",
    "get_step": "goals:read",
    "list_progress_events": "progress:read",
    "get_progress_event": "progress:read",
    "get_goal_progress": "progress:read",
    "get_client_summary": "progress:read",
    "create_session_outcome": "session_outcomes:write",
    "get_session_outcome": "session_outcomes:write",
}
