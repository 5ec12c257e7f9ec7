"""HTTP for goal templates: SMART example goals to start from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, StringConstraints

from app.auth.dependencies import CallerDep
from app.goal_templates.catalog import SLUG_PATTERN, GoalTemplate, templates_page
from app.goals.vocabulary import Category
from app.pagination import DEFAULT_LIMIT, LimitQuery
from app.problems import problem_responses
from app.schemas import Absent
from app.transaction import domain_router

router = domain_router("goal templates")


class TemplateList(BaseModel):
    items: list[GoalTemplate]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; null on the last page."
    )


TemplateCursor = Annotated[
    # Empty means "from the start", as on every list.
    Annotated[str, StringConstraints(pattern=f"({SLUG_PATTERN})|^$", max_length=100)] | Absent,
    Query(description="The `next_cursor` of the previous page."),
]


@router.get(
    "/v1/goal-templates",
    summary="SMART example goals to start from",
    responses=problem_responses(),
)
async def list_goal_templates(
    _caller: CallerDep,
    category: Annotated[Category | Absent, Query(description="Only this category.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: TemplateCursor = None,
) -> TemplateList:
    """At least two templates for each area of therapy work (emotions and triggers, coping,
    healthier behaviours, expressing needs, old wounds, self-compassion, relationships, sleep)
    and one for `other`. Each `goal` is a body ready for `POST /v1/clients/{client_id}/goals`
    once you add `start_date` and `target_date`; it passes SMART validation as it stands. Add
    its `suggested_steps` to the plan with `POST /v1/goals/{goal_id}/steps`. In pages, as
    every list, ordered by `id`: `limit=100` gets the whole catalog."""
    items, next_cursor = templates_page(category, after=cursor or None, limit=limit)
    return TemplateList(items=items, next_cursor=next_cursor)
