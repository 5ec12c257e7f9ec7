"""The goal template catalog: coverage, wire validity and SMART quality (pure: no database)."""

import datetime
import re
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from app.goal_templates.catalog import (
    TEMPLATES,
    GoalTemplate,
    Recurrence,
    SuggestedStep,
    template_goal_with_dates,
)
from app.goals.schemas import GoalCreate
from app.goals.smart import evaluate_goal

AREAS = (
    "emotional_awareness",
    "coping_skills",
    "healthy_behaviors",
    "communication",
    "trauma_recovery",
    "self_compassion",
    "relationships",
    "sleep",
)
CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")
GAS_KEYS = {"-2", "-1", "0", "1", "2"}
GOAL_KEYS = {
    "title",
    "description",
    "category",
    "priority",
    "measure",
    "relevance",
    "gas_levels",
    "gas_weight",
}
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
FIXED_TODAY = datetime.date(2026, 1, 15)
# The product's "today" (app.goals.service.today) is the UTC date.
TODAYS = [
    pytest.param(FIXED_TODAY, id="fixed-day"),
    pytest.param(datetime.datetime.now(datetime.UTC).date(), id="today"),
]
EACH_TEMPLATE = pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)


def failing_criteria(body: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    report = evaluate_goal(body, today)
    return {
        name: criterion.model_dump()
        for name in CRITERIA
        if (criterion := getattr(report.criteria, name)).status != "pass"
    }


# --- Coverage ---


def test_every_area_has_at_least_two_templates() -> None:
    """Two or more for each therapy area, and one for `other`, the category of goals that
    are the client's own."""
    per_category: Counter[str] = Counter(t.category for t in TEMPLATES)
    assert set(per_category) == {*AREAS, "other"}
    assert all(per_category[area] >= 2 for area in AREAS), per_category


def test_ids_are_unique_slugs() -> None:
    ids = [t.id for t in TEMPLATES]
    assert len(ids) == len(set(ids))
    assert all(SLUG.fullmatch(i) for i in ids), ids


def test_names_and_titles_are_unique() -> None:
    for values in ([t.name for t in TEMPLATES], [t.goal["title"] for t in TEMPLATES]):
        assert len(values) == len(set(values))


# --- Each template: a valid, SMART goal body ---


@EACH_TEMPLATE
def test_goal_body_has_the_template_fields_and_no_dates(template: GoalTemplate) -> None:
    assert set(template.goal) == GOAL_KEYS
    assert template.goal["category"] == template.category


@EACH_TEMPLATE
@pytest.mark.parametrize("today", TODAYS)
def test_goal_is_valid_on_the_wire(template: GoalTemplate, today: datetime.date) -> None:
    goal = GoalCreate.model_validate(template_goal_with_dates(template, today))
    assert goal.category == template.category
    assert goal.start_date == today
    assert goal.target_date == today + datetime.timedelta(weeks=12)


@EACH_TEMPLATE
@pytest.mark.parametrize("today", TODAYS)
def test_goal_passes_every_smart_criterion(template: GoalTemplate, today: datetime.date) -> None:
    body = template_goal_with_dates(template, today)
    report = evaluate_goal(body, today)
    assert report.passed is True
    assert failing_criteria(body, today) == {}
    assert report.score == 5


@EACH_TEMPLATE
def test_goal_passes_every_smart_criterion_over_eight_weeks(template: GoalTemplate) -> None:
    # The validator suggests 8 to 12 weeks; the targets must be realistic at the short end too.
    body = template_goal_with_dates(template, FIXED_TODAY, weeks=8)
    assert failing_criteria(body, FIXED_TODAY) == {}


# --- Steps ---


@EACH_TEMPLATE
def test_three_to_five_valid_steps(template: GoalTemplate) -> None:
    steps = template.suggested_steps
    assert 3 <= len(steps) <= 5
    for step in steps:
        assert SuggestedStep.model_validate(step.model_dump()) == step
        assert step.title.strip()
        assert step.description.strip()
    assert len({step.title for step in steps}) == len(steps)


@EACH_TEMPLATE
def test_template_round_trips_through_validation(template: GoalTemplate) -> None:
    assert GoalTemplate.model_validate(template.model_dump()) == template


@pytest.mark.parametrize(
    "recurrence",
    [
        {"frequency": "daily", "times": 0},
        {"frequency": "weekly", "times": 8},
        {"frequency": "monthly", "times": 1},
        {"frequency": "daily", "times": "2"},
        {"frequency": "daily", "times": 1, "every": 2},
    ],
)
def test_recurrence_rejects_bad_values(recurrence: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Recurrence.model_validate(recurrence)


def test_step_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        SuggestedStep.model_validate(
            {"title": "Walk", "description": "Around the park", "recurrence": None, "due": 1}
        )


def test_template_goal_must_match_its_category() -> None:
    data = TEMPLATES[0].model_dump()
    data["goal"]["category"] = "sleep" if data["category"] != "sleep" else "communication"
    with pytest.raises(ValidationError, match="category"):
        GoalTemplate.model_validate(data)


# --- Goal Attainment Scaling ---


@EACH_TEMPLATE
def test_gas_levels_cover_all_five_with_distinct_texts(template: GoalTemplate) -> None:
    levels = template.goal["gas_levels"]
    assert set(levels) == GAS_KEYS
    texts = [levels[key].strip() for key in ("-2", "-1", "0", "1", "2")]
    assert all(texts)
    assert len(set(texts)) == 5
    assert template.goal["gas_weight"] > 0


# --- Measure ---


@EACH_TEMPLATE
def test_measure_is_complete_and_consistent(template: GoalTemplate) -> None:
    measure = template.goal["measure"]
    kind, baseline, target = measure["kind"], measure["baseline"], measure["target"]
    assert measure["name"].strip()
    assert measure["unit"].strip()
    expected = {"increase": target > baseline, "decrease": target < baseline}
    assert expected.get(measure["direction"], target == baseline)
    if kind == "scale":
        assert measure["scale_min"] < measure["scale_max"]
        assert measure["scale_min"] <= baseline <= measure["scale_max"]
        assert measure["scale_min"] <= target <= measure["scale_max"]
    else:
        assert "scale_min" not in measure
        assert "scale_max" not in measure
    if kind == "count":
        assert all(isinstance(v, int) and v >= 0 for v in (baseline, target))
    if kind == "boolean":
        assert {baseline, target} <= {0, 1}


# --- template_goal_with_dates ---


def test_dates_are_iso_and_weeks_apart() -> None:
    body = template_goal_with_dates(TEMPLATES[0], datetime.date(2026, 12, 28), weeks=10)
    assert body["start_date"] == "2026-12-28"
    assert body["target_date"] == "2027-03-08"


def test_goal_body_is_a_copy() -> None:
    template = TEMPLATES[0]
    before = template.model_dump()
    body = template_goal_with_dates(template, FIXED_TODAY)
    body["measure"]["target"] = 99
    body["gas_levels"]["0"] = "changed"
    body["title"] = "changed"
    assert template.model_dump() == before
    assert "start_date" not in template.goal


@pytest.mark.parametrize("weeks", [0, -1])
def test_weeks_must_be_positive(weeks: int) -> None:
    with pytest.raises(ValueError, match="weeks"):
        template_goal_with_dates(TEMPLATES[0], FIXED_TODAY, weeks=weeks)


def test_start_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(TypeError):
        template_goal_with_dates(
            TEMPLATES[0], datetime.datetime(2026, 1, 15, 9, 0, tzinfo=datetime.UTC)
        )
