"""Every table, imported in one place so Alembic sees the whole schema."""

from app.clients.models import CareTeamMember, Client
from app.db import Base
from app.goals.models import Goal, GoalRevision

__all__ = ["Base", "CareTeamMember", "Client", "Goal", "GoalRevision"]
