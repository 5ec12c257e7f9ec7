"""Every table, imported in one place so Alembic sees the whole schema."""

from app.clients.models import CareTeamMember, Client
from app.db import Base
from app.goals.models import Goal, GoalRevision
from app.progress.models import ProgressEvent
from app.steps.models import ActionStep

__all__ = [
    "ActionStep",
    "Base",
    "CareTeamMember",
    "Client",
    "Goal",
    "GoalRevision",
    "ProgressEvent",
]
