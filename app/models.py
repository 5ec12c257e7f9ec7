"""Every table, imported in one place so Alembic sees the whole schema."""

from app.api_keys.models import ApiKey
from app.audit.models import AuditEvent
from app.clients.models import CareTeamMember, Client
from app.db import Base
from app.goals.models import Goal, GoalRevision
from app.idempotency.models import IdempotencyRecord
from app.progress.models import ProgressEvent
from app.session_outcomes.models import SessionOutcome
from app.steps.models import ActionStep

__all__ = [
    "ActionStep",
    "ApiKey",
    "AuditEvent",
    "Base",
    "CareTeamMember",
    "Client",
    "Goal",
    "GoalRevision",
    "IdempotencyRecord",
    "ProgressEvent",
    "SessionOutcome",
]
