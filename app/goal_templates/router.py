"""HTTP for goal templates: SMART example goals to start from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from app.auth.dependencies import CallerDep
from app.goal_templates.catalog import TEMPLATES, GoalTemplate
from app.goals.vocabulary import Category
from app.problems import problem_responses
from app.schemas import Absent
from app.transaction import domain_router

router = domain_router("goal templates")


class TemplateList(BaseModel):
    items: list[GoalTemplate]
    next_cursor: None = None


@router.get(
    "/v1/goal-templates",
    summary="SMART example goals to start from",
    responses=problem_responses(),
)
async def list_goal_templates(
    _caller: CallerDep,
    category: Annotated[Category | Absent, Query(description="Only this category.")] = None,
) -> TemplateList:
    """At least two templates for each area of therapy work (emotions and triggers, coping,
    healthier behaviours, expressing needs, old wounds, self-compassion, relationships, sleep).
    Each `goal` is a body ready for `POST /v1/clients/{client_id}/goals` once you add
    `start_date` and `target_date`; it passes SMART validation as it stands. Add its
    `suggested_steps` to the plan with `POST /v1/goals/{goal_id}/steps`."""
    items = [t for t in TEMPLATES if category is None or t.category == category]
    return TemplateList(items=items)
