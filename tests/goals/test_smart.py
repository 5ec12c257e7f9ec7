"""Unit tests for the SMART validation service (pure: no database, no app)."""

import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.goals.smart import (
    CATEGORIES,
    DIRECTIONS,
    MEASURE_KINDS,
    CriterionReport,
    SmartReport,
    evaluate_goal,
)

TODAY = datetime.date(2026, 1, 15)
CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")
BE_HAPPIER_SUGGESTION = (
    'Name something you will do, e.g. "Write down one thing I feel each evening" '
    'rather than "be happier".'
)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def make_goal(**overrides: Any) -> dict[str, Any]:
    """A well-formed goal (passes all five), with top-level fields replaced."""
    goal: dict[str, Any] = {
        "title": "Walk for 20 minutes after dinner on weekdays",
        "description": "Walk around the park near home straight after dinner, with my partner.",
        "category": "healthy_behaviors",
        "relevance": "Walking clears my head and I sleep better, so I have energy for my kids.",
        "measure": {
            "name": "Evening walks",
            "unit": "walks per week",
            "kind": "count",
            "direction": "increase",
            "baseline": 1,
            "target": 4,
        },
        "start_date": day(0),
        "target_date": day(84),
    }
    goal.update(overrides)
    return goal


def with_measure(**changes: Any) -> dict[str, Any]:
    """A well-formed goal whose measure has fields replaced (a value of ... removes the field)."""
    measure = {**make_goal()["measure"], **changes}
    return make_goal(measure={k: v for k, v in measure.items() if v is not ...})


def scale_goal(baseline: float, target: float, **changes: Any) -> dict[str, Any]:
    direction = "increase" if target > baseline else "decrease" if target < baseline else "maintain"
    fields = {"name": "Calm rating", "unit": "points", "kind": "scale", "direction": direction}
    numbers = {"baseline": baseline, "target": target, "scale_min": 0, "scale_max": 10}
    return with_measure(**{**fields, **numbers, **changes})


def criterion(goal: Any, name: str) -> CriterionReport:
    report: CriterionReport = getattr(evaluate_goal(goal, TODAY).criteria, name)
    return report


def all_reports(report: SmartReport) -> list[CriterionReport]:
    return [getattr(report.criteria, name) for name in CRITERIA]


# --- the whole report ---------------------------------------------------------------------------


def test_well_formed_goal_passes_all_five() -> None:
    report = evaluate_goal(make_goal(), TODAY)
    assert report.score == 5
    assert report.passed
    for item in all_reports(report):
        assert item.status == "pass"
        assert item.messages
        assert item.suggestions == []


def test_date_objects_work_like_iso_strings() -> None:
    goal = make_goal(start_date=TODAY, target_date=TODAY + datetime.timedelta(days=84))
    assert evaluate_goal(goal, TODAY) == evaluate_goal(make_goal(), TODAY)


def test_warnings_do_not_block_but_lower_the_score() -> None:
    report = evaluate_goal(make_goal(description=None, relevance="For my kids."), TODAY)
    assert report.passed
    assert report.score == 3
    assert report.criteria.specific.status == "warn"
    assert report.criteria.relevant.status == "warn"


@pytest.mark.parametrize("goal", [None, [], "walk more", 3, {}, {"measure": []}])
def test_non_goal_input_fails_without_raising(goal: Any) -> None:
    report = evaluate_goal(goal, TODAY)
    assert report.score == 0
    assert not report.passed


def test_today_given_as_datetime_is_used_as_its_date() -> None:
    now = datetime.datetime(2026, 1, 15, 23, 59, tzinfo=datetime.UTC)
    assert evaluate_goal(make_goal(), now) == evaluate_goal(make_goal(), TODAY)


def test_report_schema_documents_fields_and_examples() -> None:
    schema = SmartReport.model_json_schema()
    assert schema["examples"]
    assert schema["properties"]["score"]["description"]
    assert CriterionReport.model_json_schema()["examples"][0]["suggestions"]


# --- specific -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "be happier",
        "feel better",
        "less anxious",
        "be calmer",
        "stop being sad",
        "Be happier and less anxious at work",
        "I'm going to be calmer with the children",
        "Stop worrying so much about everything",
        "Feel more confident around other people",
    ],
)
def test_feeling_or_state_title_fails_specific(title: str) -> None:
    result = criterion(make_goal(title=title), "specific")
    assert result.status == "fail"
    assert "feeling or state" in " ".join(result.messages)
    assert BE_HAPPIER_SUGGESTION in result.suggestions


@pytest.mark.parametrize(
    "title",
    [
        "Walk for 20 minutes after dinner",
        "Call my sister every Sunday",
        "Practise box breathing when I notice panic",
        "Write down one thing I feel each evening",
        "Going to the gym three times a week",
        "Stop drinking after 9pm on weeknights",
        "Feel better by walking to work",
        "Name my feelings to my partner once a day",
        "Texting a friend when I feel lonely",
    ],
)
def test_action_title_passes_specific(title: str) -> None:
    assert criterion(make_goal(title=title), "specific").status == "pass"


@pytest.mark.parametrize(
    ("title", "status", "fragment"),
    [
        ("Walk", "fail", "too short"),
        ("Run daily", "fail", "too short"),
        ("Go to bed", "fail", "too short"),
        ("Reduce screen time at night", "warn", "not the action"),
        ("Improve my work-life balance", "warn", "not the action"),
        ("Screen time under two hours", "warn", "clear action"),
        ("", "fail", "needs a title"),
        ("   ", "fail", "needs a title"),
        (None, "fail", "needs a title"),
        (42, "fail", "needs a title"),
        (["walk", "daily"], "fail", "needs a title"),
    ],
)
def test_title_problems(title: Any, status: str, fragment: str) -> None:
    result = criterion(make_goal(title=title), "specific")
    assert result.status == status
    assert fragment in " ".join(result.messages)
    assert result.suggestions


@pytest.mark.parametrize(
    "description", [None, "", "Walk more.", 123, {"text": "a long enough text"}]
)
def test_missing_or_short_description_warns(description: Any) -> None:
    result = criterion(make_goal(description=description), "specific")
    assert result.status == "warn"
    assert any("where, when and with whom" in s for s in result.suggestions)


def test_missing_description_key_warns() -> None:
    goal = make_goal()
    del goal["description"]
    assert criterion(goal, "specific").status == "warn"


# --- measurable ---------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", [None, "5 walks a week", [1, 4], 4, True])
def test_missing_or_malformed_measure_fails_with_an_example(measure: Any) -> None:
    result = criterion(make_goal(measure=measure), "measurable")
    assert result.status == "fail"
    assert any('kind "count"' in s and "baseline 1" in s for s in result.suggestions)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ...},
        {"name": "  "},
        {"unit": ...},
        {"unit": 7},
        {"kind": ...},
        {"kind": "percentage"},
        {"kind": ["count"]},
        {"direction": ...},
        {"direction": "up"},
        {"direction": {"increase": True}},
        {"baseline": ...},
        {"baseline": None},
        {"baseline": "1"},
        {"baseline": True},
        {"target": False},
        {"target": float("nan")},
        {"target": float("inf")},
        {"target": 10**400},
        {"target": 2e9},
    ],
)
def test_incomplete_or_invalid_measure_fails(changes: dict[str, Any]) -> None:
    result = criterion(with_measure(**changes), "measurable")
    assert result.status == "fail"
    assert result.suggestions


@pytest.mark.parametrize(
    ("direction", "baseline", "target"),
    [
        ("increase", 4, 1),
        ("increase", 3, 3),
        ("decrease", 1, 4),
        ("decrease", 2, 2),
        ("maintain", 3, 4),
        ("maintain", 3, 2),
    ],
)
def test_target_inconsistent_with_direction_fails(
    direction: str, baseline: int, target: int
) -> None:
    goal = with_measure(direction=direction, baseline=baseline, target=target)
    result = criterion(goal, "measurable")
    assert result.status == "fail"
    assert any(str(baseline) in s for s in result.suggestions)
    # The pace can't be judged for a contradictory measure, but that is not held against it twice.
    assert criterion(goal, "achievable").status == "warn"


@pytest.mark.parametrize(
    ("direction", "baseline", "target"),
    [("increase", 1, 4), ("decrease", 4, 3), ("maintain", 3, 3), ("increase", 0, 1)],
)
def test_target_consistent_with_direction_passes(
    direction: str, baseline: int, target: int
) -> None:
    goal = with_measure(direction=direction, baseline=baseline, target=target)
    assert criterion(goal, "measurable").status == "pass"


@pytest.mark.parametrize(
    "changes",
    [
        {"scale_min": ...},
        {"scale_max": None},
        {"scale_min": 10, "scale_max": 0},
        {"scale_min": 5, "scale_max": 5},
        {"scale_max": "10"},
    ],
)
def test_scale_needs_valid_ends(changes: dict[str, Any]) -> None:
    result = criterion(scale_goal(3, 6, **changes), "measurable")
    assert result.status == "fail"
    assert any("scale_min 0 and scale_max 10" in s for s in result.suggestions)


@pytest.mark.parametrize(("baseline", "target"), [(-1, 4), (3, 11), (11, 12), (-2, -1)])
def test_scale_values_outside_the_scale_fail(baseline: float, target: float) -> None:
    goal = scale_goal(baseline, target)
    measurable = criterion(goal, "measurable")
    assert measurable.status == "fail"
    assert any("from 0 to 10" in s for s in measurable.suggestions)
    assert criterion(goal, "achievable").status == "fail"


@pytest.mark.parametrize(("baseline", "target"), [(3, 6), (0, 2), (8, 10), (2.5, 4.5), (5, 5)])
def test_scale_values_on_the_scale_pass(baseline: float, target: float) -> None:
    assert criterion(scale_goal(baseline, target), "measurable").status == "pass"


@pytest.mark.parametrize(
    ("baseline", "target", "status"),
    [(0, 1, "pass"), (1, 0, "fail"), (0, 2, "fail"), (0, 0.5, "fail"), (0.0, 1.0, "pass")],
)
def test_boolean_measure_uses_zero_and_one(baseline: float, target: float, status: str) -> None:
    # (1, 0) is valid 0/1 but contradicts "increase".
    goal = with_measure(kind="boolean", unit="yes or no", baseline=baseline, target=target)
    assert criterion(goal, "measurable").status == status


@pytest.mark.parametrize(
    ("baseline", "target", "status"),
    [(1, 4, "pass"), (1.0, 4.0, "pass"), (-1, 4, "fail"), (1, 4.5, "fail"), (0.5, 3, "fail")],
)
def test_count_measure_needs_non_negative_whole_numbers(
    baseline: float, target: float, status: str
) -> None:
    assert criterion(with_measure(baseline=baseline, target=target), "measurable").status == status


def test_numeric_measure_allows_fractions_and_negatives() -> None:
    goal = with_measure(kind="numeric", unit="hours", baseline=-1.5, target=-0.5)
    assert criterion(goal, "measurable").status == "pass"


# --- achievable ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "baseline", "target", "days", "status"),
    [
        ("count", 1, 4, 84, "pass"),
        ("count", 0, 3, 28, "pass"),
        ("count", 0, 3, 7, "warn"),  # from none to 3 in a week: steep
        ("count", 0, 7, 7, "warn"),  # 8x in a week is the edge of plausible
        ("count", 0, 50, 7, "fail"),  # 0 to 50 gym visits in a week
        ("count", 0, 50, 28, "warn"),
        ("count", 20, 0, 7, "fail"),
        ("count", 20, 5, 56, "pass"),
        ("count", 0, 1, 2, "pass"),  # short goals are paced as one week
        ("scale", 8, 3, 28, "pass"),  # 1.25 points a week on 0-10
        ("scale", 8, 3, 14, "warn"),  # 2.5 points a week
        ("scale", 0, 10, 7, "fail"),  # the whole scale in a week
        ("scale", 0, 10, 1, "fail"),
        ("scale", 2, 8, 7, "fail"),  # 6 points in a week
        ("numeric", 5, 8, 28, "pass"),  # hours of sleep
        ("numeric", 0, 30, 7, "warn"),
        ("numeric", 0, 30, 84, "pass"),
        ("boolean", 0, 1, 7, "pass"),
        ("boolean", 1, 0, 7, "pass"),
    ],
)
def test_pace_of_change(kind: str, baseline: float, target: float, days: int, status: str) -> None:
    direction = "increase" if target > baseline else "decrease"
    measure: dict[str, Any] = {
        "name": "Measure",
        "unit": "units",
        "kind": kind,
        "direction": direction,
        "baseline": baseline,
        "target": target,
    }
    if kind == "scale":
        measure |= {"scale_min": 0, "scale_max": 10}
    goal = make_goal(measure=measure, start_date=day(0), target_date=day(days))
    assert criterion(goal, "measurable").status == "pass"
    result = criterion(goal, "achievable")
    assert result.status == status
    if status != "pass":
        assert any("more time" in s for s in result.suggestions)


def test_pace_messages_echo_numbers_only() -> None:
    goal = {**with_measure(baseline=0, target=50), "target_date": day(28)}
    result = criterion(goal, "achievable")
    assert result.status == "warn"
    assert result.messages == [
        "Going from 0 to 50 means a change of about 12.5 a week, a steep pace."
    ]


def test_maintain_goal_is_achievable() -> None:
    goal = with_measure(direction="maintain", baseline=4, target=4)
    assert criterion(goal, "achievable").status == "pass"


@pytest.mark.parametrize(
    "dates",
    [
        {"start_date": None},
        {"target_date": None},
        {"target_date": "soon"},
        {"start_date": day(30), "target_date": day(10)},
        {"start_date": day(10), "target_date": day(10)},
    ],
)
def test_pace_without_usable_dates_warns_not_fails(dates: dict[str, Any]) -> None:
    result = criterion(make_goal(**dates), "achievable")
    assert result.status == "warn"
    assert result.suggestions


def test_pace_without_a_measure_warns() -> None:
    assert criterion(make_goal(measure=None), "achievable").status == "warn"


# --- relevant -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"relevance": None}, "fail"),
        ({"relevance": ""}, "fail"),
        ({"relevance": "   "}, "fail"),
        ({"relevance": 12}, "fail"),
        ({"relevance": ["my kids"]}, "fail"),
        ({"relevance": "For my kids"}, "warn"),
        ({"relevance": "Important to me"}, "warn"),
        ({"relevance": "Sleeping helps everything"}, "warn"),  # long enough, but 3 words
        ({"category": None}, "fail"),
        ({"category": "Sleep"}, "fail"),
        ({"category": "fitness"}, "fail"),
        ({"category": ["sleep"]}, "fail"),
        ({"category": "other"}, "pass"),
    ],
)
def test_relevance_and_category(changes: dict[str, Any], status: str) -> None:
    result = criterion(make_goal(**changes), "relevant")
    assert result.status == status
    if status != "pass":
        assert result.suggestions


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_is_accepted(category: str) -> None:
    assert criterion(make_goal(category=category), "relevant").status == "pass"


def test_category_suggestion_lists_the_options() -> None:
    result = criterion(make_goal(category="fitness"), "relevant")
    assert any("emotional awareness" in s and "sleep" in s for s in result.suggestions)


# --- time-bound ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "status", "fragment"),
    [
        (day(0), day(84), "pass", "realistic"),
        (day(-60), day(30), "pass", "realistic"),  # started two months ago
        (day(-90), day(-1), "fail", "already past"),
        (day(-90), day(0), "fail", "already past"),
        (day(40), day(20), "fail", "start date is after"),
        (day(0), day(6 * 365), "fail", "more than 5 years"),
        (day(0), day(400), "warn", "more than 12 months"),
        (day(0), day(365), "pass", "realistic"),
        (day(-300), day(100), "warn", "more than 12 months"),
        (day(300), day(400), "warn", "more than 12 months"),  # starts far ahead
        (day(0), day(3), "warn", "less than a week"),
        (day(1), day(1), "warn", "less than a week"),
        (None, day(84), "fail", "needs a start date"),
        (day(0), None, "fail", "needs a target date"),
        (day(0), "", "fail", "needs a target date"),
        (day(0), "2026-02-30", "fail", "not a valid date"),
        (day(0), "30/04/2026", "fail", "not a valid date"),
        (day(0), "2026-4-30", "fail", "not a valid date"),
        (day(0), "20260430", "fail", "not a valid date"),
        (day(0), "2026-04-30T10:00:00", "fail", "not a valid date"),
        (day(0), 20260430, "fail", "not a valid date"),
        (day(0), datetime.datetime(2026, 4, 30, 10, 0, tzinfo=datetime.UTC), "fail", "time of day"),
        (day(0), {"date": "2026-04-30"}, "fail", "not a valid date"),
    ],
)
def test_time_bound(start: Any, target: Any, status: str, fragment: str) -> None:
    result = criterion(make_goal(start_date=start, target_date=target), "time_bound")
    assert result.status == status
    assert fragment in " ".join(result.messages)
    if status != "pass":
        assert result.suggestions


# --- properties ---------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
DATES = st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 1, 1))
DATE_VALUES = (
    DATES.map(datetime.date.isoformat)
    | DATES
    | st.datetimes()
    | st.sampled_from(["", "2026-02-30"])
)
NUMBERS = (
    st.integers(-5, 60)
    | st.floats(-100, 100)
    | st.sampled_from([True, 10**400, 2e9, float("nan"), float("-inf")])
)
TITLES = st.sampled_from(["be happier", "Walk after dinner daily", "Reduce screen time", "x"])
MEASURES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=20) | JSON_VALUES,
        "unit": st.text(max_size=20) | JSON_VALUES,
        "kind": st.sampled_from(MEASURE_KINDS) | JSON_VALUES,
        "direction": st.sampled_from(DIRECTIONS) | JSON_VALUES,
        "baseline": NUMBERS | JSON_VALUES,
        "target": NUMBERS | JSON_VALUES,
        "scale_min": NUMBERS | JSON_VALUES,
        "scale_max": NUMBERS | JSON_VALUES,
    },
)
GOALS = st.fixed_dictionaries(
    {},
    optional={
        "title": TITLES | st.text(max_size=60) | JSON_VALUES,
        "description": st.text(max_size=60) | JSON_VALUES,
        "category": st.sampled_from(CATEGORIES) | JSON_VALUES,
        "relevance": st.text(max_size=60) | JSON_VALUES,
        "measure": MEASURES | JSON_VALUES,
        "start_date": DATE_VALUES | JSON_VALUES,
        "target_date": DATE_VALUES | JSON_VALUES,
    },
)


def check_invariants(report: SmartReport) -> None:
    reports = all_reports(report)
    assert report.score == sum(r.status == "pass" for r in reports)
    assert report.passed == all(r.status != "fail" for r in reports)
    for item in reports:
        assert item.messages
        assert all(text and "{" not in text and "}" not in text for text in item.messages)
        if item.status == "pass":
            assert item.suggestions == []
        else:  # every fail (and warn) says what to do
            assert item.suggestions


@PROPERTY_SETTINGS
@given(goal=JSON_VALUES, today=DATES)
def test_never_raises_on_arbitrary_json(goal: Any, today: datetime.date) -> None:
    check_invariants(evaluate_goal(goal, today))


@PROPERTY_SETTINGS
@given(goal=GOALS, today=DATES)
def test_never_raises_on_goal_shaped_input(goal: dict[str, Any], today: datetime.date) -> None:
    check_invariants(evaluate_goal(goal, today))


@st.composite
def increase_goals(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(MEASURE_KINDS))
    low, high = draw(st.sampled_from([(0, 10), (1, 5), (-3, 3), (0, 100)]))
    values = {
        "count": st.integers(0, 60),
        "numeric": st.integers(-50, 50) | st.floats(-50, 50),
        "scale": st.integers(low - 2, high + 2) | st.floats(low, high),
        "boolean": st.sampled_from([0, 1, 2]),
    }[kind]
    start = draw(DATES)
    return make_goal(
        measure={
            "name": "Measure",
            "unit": "units",
            "kind": kind,
            "direction": "increase",
            "baseline": draw(values),
            "target": draw(values),
            "scale_min": low,
            "scale_max": high,
        },
        start_date=start.isoformat(),
        target_date=(start + datetime.timedelta(days=draw(st.integers(-10, 800)))).isoformat(),
    )


@PROPERTY_SETTINGS
@given(goal=increase_goals())
def test_mirrored_decrease_goal_gets_the_same_verdicts(goal: dict[str, Any]) -> None:
    measure = goal["measure"]
    mirrored = make_goal(
        **{k: v for k, v in goal.items() if k != "measure"},
        measure={
            **measure,
            "direction": "decrease",
            "baseline": measure["target"],
            "target": measure["baseline"],
        },
    )
    for name in ("measurable", "achievable"):
        assert criterion(goal, name).status == criterion(mirrored, name).status


@PROPERTY_SETTINGS
@given(secret=st.text(alphabet="QZXJKV", min_size=12, max_size=20), goal=GOALS)
def test_free_text_is_never_echoed(secret: str, goal: dict[str, Any]) -> None:
    goal = {**goal, "title": f"be {secret}", "description": secret, "relevance": secret}
    measure = goal.get("measure")
    if isinstance(measure, dict):
        goal["measure"] = {**measure, "name": secret, "unit": secret, "kind": secret}
    report = evaluate_goal(goal, TODAY)
    for item in all_reports(report):
        assert not any(secret in text for text in item.messages + item.suggestions)
