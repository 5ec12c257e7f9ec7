"""Hand-computed cases and properties for the pure progress maths in app.progress.summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.goals.vocabulary import ACHIEVEMENT_STATUSES
from app.progress.habits import (
    HABIT_DECIMALS,
    HABIT_HALF_LIFE_DAYS,
    HABIT_SPARSE_WINDOW_DAYS,
    habit_strength,
)
from app.progress.points import Point, Series, seconds
from app.progress.summary import (
    TREND_WINDOW,
    MeasureSpec,
    ProgressSummary,
    StepsSummary,
    Trend,
    _fit,
    _recent,
    expected_value,
    gas_t_score,
    percent_complete,
    projected_achievement_date,
    status_from_measurements,
    summarize,
    trend,
)

Kind = Literal["numeric", "count", "scale", "boolean"]
Direction = Literal["increase", "decrease", "maintain"]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
UP = MeasureSpec(kind="count", direction="increase", baseline=1, target=5)
DOWN = MeasureSpec(kind="numeric", direction="decrease", baseline=20, target=10)
NO_STEPS = StepsSummary(total=0, done=0, completion_rate=None)
FHIR_CODES = {
    "in_progress",
    "improving",
    "worsening",
    "no_change",
    "achieved",
    "sustaining",
    "not_achieved",
    "no_progress",
    "not_attainable",
}


def point(at: datetime, value: float) -> Point:
    return Point(seconds(at), value)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def weekly(values: list[float], *, last: date) -> list[Point]:
    """One point a week, the last one on `last`."""
    n = len(values)
    return [point(at(last - timedelta(weeks=n - 1 - i)), v) for i, v in enumerate(values)]


def run(
    measure: MeasureSpec | None, points: Sequence[Point], **overrides: object
) -> ProgressSummary:
    args: dict[str, object] = {
        "measure": measure,
        "start_date": date(2026, 9, 1),
        "target_date": date(2026, 12, 1),
        "measurements": points,
        "steps": NO_STEPS,
        "habits": [],
        "event_count": len(points),
        "latest_gas_level": None,
        "gas_weight": 1.0,
        "explicit_status": None,
        "now": NOW,
    }
    args.update(overrides)
    return summarize(**args)  # type: ignore[arg-type]


def test_constants_list_the_nine_fhir_codes() -> None:
    assert set(ACHIEVEMENT_STATUSES) == FHIR_CODES


# --- percent_complete ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "value", "expected"),
    [
        (UP, 4, 75.0),  # (4 - 1) / (5 - 1) = 3/4
        (UP, 1, 0.0),  # at baseline
        (UP, 7, 100.0),  # (7 - 1) / 4 = 150 % -> clamped
        (UP, 0, 0.0),  # (0 - 1) / 4 = -25 % -> clamped
        (DOWN, 14, 60.0),  # (14 - 20) / (10 - 20) = -6 / -10
        (DOWN, 8, 100.0),  # beyond the target of a decrease goal
        (DOWN, 25, 0.0),  # worse than baseline
        (MeasureSpec("scale", "increase", 2, 8, 0, 10), 5, 50.0),  # (5 - 2) / 6
    ],
)
def test_percent_complete_linear(measure: MeasureSpec, value: float, expected: float) -> None:
    assert percent_complete(measure, value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("measure", "inside", "outside"),
    [
        # numeric: band 10 % of |70| = 7
        (MeasureSpec("numeric", "maintain", 70, 70), 76.9, 77.5),
        # count: 10 % of 3 = 0.3, floor 1
        (MeasureSpec("count", "maintain", 3, 3), 4, 4.5),
        # scale 0..10: 10 % of the range = 1
        (MeasureSpec("scale", "maintain", 5, 5, 0, 10), 6, 6.5),
        # boolean: exact
        (MeasureSpec("boolean", "maintain", 1, 1), 1, 0),
        # numeric target 0: only the 1e-9 rounding floor
        (MeasureSpec("numeric", "maintain", 0, 0), 0, 0.001),
        # increase goal whose target equals its baseline behaves like maintain
        (MeasureSpec("numeric", "increase", 10, 10), 10.5, 11.5),
    ],
)
def test_percent_complete_band(measure: MeasureSpec, inside: float, outside: float) -> None:
    assert percent_complete(measure, inside) == 100.0
    assert percent_complete(measure, outside) == 0.0


# --- expected_value --------------------------------------------------------------------------


def test_expected_value_line() -> None:
    start, end = date(2026, 1, 1), date(2026, 1, 29)  # 28 days
    # 14 of 28 days: 1 + (5 - 1) * 0.5 = 3
    assert expected_value(UP, start, end, date(2026, 1, 15)) == pytest.approx(3.0)
    assert expected_value(UP, start, end, date(2025, 12, 1)) == 1.0  # before start: baseline
    assert expected_value(UP, start, end, start) == 1.0
    assert expected_value(UP, start, end, end) == 5.0
    assert expected_value(UP, start, end, date(2026, 3, 1)) == 5.0  # after: target
    assert expected_value(UP, start, start, date(2025, 1, 1)) == 5.0  # no time: target
    # decrease, 3 of 10 days: 20 + (10 - 20) * 0.3 = 17
    assert expected_value(DOWN, start, date(2026, 1, 11), date(2026, 1, 4)) == pytest.approx(17)


# --- trend -----------------------------------------------------------------------------------


def test_trend_slope_and_direction() -> None:
    points = weekly([1, 2, 3], last=NOW.date())
    # one unit a week; flat band for 1 -> 5 is 1 % of 4 = 0.04
    up = trend(UP, points, NOW)
    assert up is not None
    assert up.slope_per_week == pytest.approx(1.0)
    assert up.direction == "improving"
    down = trend(MeasureSpec("count", "decrease", 5, 1), points, NOW)
    assert down is not None
    assert down.direction == "worsening"
    # maintain at 5: flat band 1 % of max(|5|, 1) = 0.05; from 3 up to 5 is back on target
    steady = MeasureSpec("numeric", "maintain", 5, 5)
    assert trend(steady, points, NOW) == up.model_copy(update={"direction": "improving"})


@pytest.mark.parametrize(
    ("values", "direction"),
    [
        ([0, 1, 2, 3], "improving"),  # below the target, rising to it
        ([9, 8, 7, 6], "improving"),  # above it, falling to it
        ([4, 3, 2, 1], "worsening"),  # below it, falling away
        ([6, 7, 8, 9], "worsening"),  # above it, rising away
        ([3, 4, 5, 6, 7], "worsening"),  # past it: off the target band's far side
        ([3, 4, 5, 6], "improving"),  # 6 is inside the band (5 +- 1): arrived from below
        ([0, 1, 2, 3, 4, 5], "improving"),  # arrived on it from below
        ([10, 9, 8, 7, 6, 5], "improving"),  # arrived on it from above
        ([5, 5, 5, 5], "flat"),
    ],
)
def test_a_trend_of_a_goal_to_maintain_is_judged_from_where_the_value_is(
    values: list[float], direction: str
) -> None:
    """Keeping a value at 5 (on a 0-10 scale): moving back towards it is improving, away from
    it worsening, whichever way the line slopes."""
    found = trend(
        MeasureSpec("scale", "maintain", 5, 5, 0, 10), weekly(values, last=NOW.date()), NOW
    )
    assert found is not None
    assert found.direction == direction


def test_trend_least_squares_by_hand() -> None:
    # x = 0, 1, 2 weeks; y = 1, 3, 2. mean x = 1, mean y = 2.
    # Sxy = (-1)(-1) + 0(1) + 1(0) = 1; Sxx = 1 + 0 + 1 = 2; slope = 0.5 per week.
    points = weekly([1, 3, 2], last=NOW.date())
    # an old point outside the 8-week window is ignored
    points.append(point(NOW - timedelta(weeks=9), 100))
    found = trend(UP, points, NOW)
    assert found is not None
    assert found.slope_per_week == pytest.approx(0.5)


def test_trend_flat_band() -> None:
    # maintain 5: band 0.05 per week; 0.03 per week is flat
    points = weekly([5, 5.03, 5.06], last=NOW.date())
    found = trend(MeasureSpec("numeric", "maintain", 5, 5), points, NOW)
    assert found is not None
    assert found.direction == "flat"


def test_trend_needs_two_timestamps() -> None:
    assert trend(UP, [], NOW) is None
    assert trend(UP, [point(NOW, 3)], NOW) is None
    assert trend(UP, [point(NOW, 3), point(NOW, 4)], NOW) is None


def test_trend_needs_a_day_between_first_and_last() -> None:
    """Two values entered minutes apart are not a rate of change (it would be 1,000+ a week)."""
    minutes_apart = [point(NOW - timedelta(minutes=5), 2), point(NOW, 3)]
    assert trend(UP, minutes_apart, NOW) is None
    assert projected_achievement_date(UP, minutes_apart, NOW) is None
    a_day_apart = [point(NOW - timedelta(days=1), 2), point(NOW, 3)]
    assert trend(UP, a_day_apart, NOW) == Trend(slope_per_week=7.0, direction="improving")


# --- projected_achievement_date --------------------------------------------------------------


def test_projection_meets_target() -> None:
    # x = 0, 1, 2 weeks from 2026-11-07, y = 1, 2, 3: the line reaches 5 at x = 4 weeks,
    # 28 days after 2026-11-07 at 09:00 -> 2026-12-05.
    last = date(2026, 11, 21)
    points = weekly([1, 2, 3], last=last)
    now = at(last, 10)
    assert projected_achievement_date(UP, points, now) == date(2026, 12, 5)


def test_projection_none_when_not_improving() -> None:
    assert projected_achievement_date(UP, weekly([3, 2, 1], last=NOW.date()), NOW) is None
    assert projected_achievement_date(UP, weekly([2, 2, 2], last=NOW.date()), NOW) is None
    assert projected_achievement_date(UP, [point(NOW, 2)], NOW) is None
    assert projected_achievement_date(UP, [], NOW) is None


def test_projection_none_beyond_five_years() -> None:
    # increase 0 -> 10 (band 0.1/week), values -1000 -> -999.8 in a week: slope 0.2/week,
    # 1010 / 0.2 = 5050 weeks away, far over 5 years.
    measure = MeasureSpec("numeric", "increase", 0, 10)
    points = [point(NOW - timedelta(weeks=1), -1000), point(NOW, -999.8)]
    assert projected_achievement_date(measure, points, NOW) is None


def test_projection_already_past_is_today() -> None:
    # y = 0, 9.5, 9 at x = 0, 1, 2: mean y = 6.1667, Sxy = 6.1667 + 2.8333 = 9, slope 4.5;
    # the line hits 10 at x = 1 + 3.8333 / 4.5 = 1.85 weeks, before the latest point.
    measure = MeasureSpec("numeric", "increase", 0, 10)
    points = weekly([0, 9.5, 9], last=NOW.date())
    assert projected_achievement_date(measure, points, NOW) == NOW.date()


def test_projection_when_reached_is_start_of_run_at_target() -> None:
    last = NOW.date()
    points = weekly([3, 5, 5.5], last=last)
    assert projected_achievement_date(UP, points, NOW) == last - timedelta(weeks=1)
    broken = weekly([5, 4, 5], last=last)
    assert projected_achievement_date(UP, broken, NOW) == last


# --- GAS -------------------------------------------------------------------------------------


def test_gas_reference_values() -> None:
    assert gas_t_score([]) is None
    assert gas_t_score([(1.0, 0), (2.0, 0), (3.0, 0)]) == 50.0
    # one goal: T = 50 + 10 w x / sqrt(0.7 w^2 + 0.3 w^2) = 50 + 10 x
    assert gas_t_score([(1.0, 2)]) == pytest.approx(70.0)
    assert gas_t_score([(4.0, -1)]) == pytest.approx(40.0)


def test_gas_six_goals_by_hand() -> None:
    goals = [(1.0, 1), (2.0, 0), (3.0, -1), (1.0, 2), (2.0, 1), (1.0, 0)]
    # sum(w x)  = 1 + 0 - 3 + 2 + 2 + 0 = 2
    # sum(w^2)  = 1 + 4 + 9 + 1 + 4 + 1 = 20
    # sum(w)^2  = 10^2 = 100
    # denominator = sqrt(0.7 * 20 + 0.3 * 100) = sqrt(44) = 6.63325
    # T = 50 + 10 * 2 / 6.63325 = 53.01511
    assert gas_t_score(goals) == pytest.approx(53.01511, abs=1e-5)


def test_gas_rejects_nonsense() -> None:
    assert gas_t_score([(0.0, 1)]) is None  # no weight at all
    with pytest.raises(ValueError, match="levels"):
        gas_t_score([(1.0, 3)])
    with pytest.raises(ValueError, match="weights"):
        gas_t_score([(-1.0, 1)])


# --- habit strength --------------------------------------------------------------------------


def test_habit_strength_by_hand() -> None:
    end = date(2026, 3, 1)
    # daily: m = 0.5 ** (1/13) = 0.948078; 20 days done from 0: 1 - m^20 = 0.655748
    days = [end - timedelta(days=i) for i in range(20)]
    assert habit_strength(days, start=days[-1], end=end, times_per_day=1) == 0.6557
    # nothing done
    assert habit_strength([], start=date(2026, 1, 1), end=end, times_per_day=1) == 0.0
    # one day, done: 1 - m = 0.051922
    assert habit_strength([end], start=end, end=end, times_per_day=1) == 0.0519
    # twice a day, once done: m = 0.5 ** (sqrt 2 / 13) = 0.927368; 0.5 * (1 - m) = 0.036316
    assert habit_strength([end], start=end, end=end, times_per_day=2) == 0.0363
    # 3 a week: m = 0.5 ** (sqrt(3/7) / 13) = 0.965697; one of 6 due in two weeks:
    # (1 - m) / 6 = 0.005717
    assert habit_strength([end], start=end, end=end, times_per_day=3 / 7) == 0.0057
    # outside start..end is ignored
    assert habit_strength([end + timedelta(days=1)], start=end, end=end, times_per_day=1) == 0


def day_by_day_strength(
    completion_days: list[date], *, start: date, end: date, times_per_day: float
) -> float:
    """The definition in habit_strength's docstring, walked a day at a time, unrounded."""
    multiplier = 0.5 ** (math.sqrt(times_per_day) / HABIT_HALF_LIFE_DAYS)
    window = 1 if times_per_day >= 1 else HABIT_SPARSE_WINDOW_DAYS
    score = 0.0
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        trailing = [d for d in completion_days if start <= d <= day and (day - d).days < window]
        done = min(1.0, len(trailing) / (times_per_day * window))
        score = score * multiplier + done * (1 - multiplier)
    return score


@given(
    offsets=st.lists(st.integers(min_value=-10, max_value=200), max_size=60),
    length=st.integers(min_value=-3, max_value=190),
    times_per_day=st.sampled_from([1 / 7, 2 / 7, 3 / 7, 5 / 7, 1, 1.5, 2, 3]),
)
def test_habit_strength_matches_the_day_by_day_definition(
    offsets: list[int], length: int, times_per_day: float
) -> None:
    start = date(2026, 1, 1)
    days = [start + timedelta(days=offset) for offset in offsets]
    end = start + timedelta(days=length)
    expected = day_by_day_strength(days, start=start, end=end, times_per_day=times_per_day)
    strength = habit_strength(days, start=start, end=end, times_per_day=times_per_day)
    scaled = expected * 10**HABIT_DECIMALS
    on_a_rounding_edge = math.isclose(scaled % 1, 0.5, abs_tol=1e-6)
    assert strength == round(expected, HABIT_DECIMALS) or on_a_rounding_edge


def test_a_weekly_habit_kept_on_irregular_days_scores_as_loop_scores_it() -> None:
    """Once a week, kept on the first and last days of each fortnight (two completions back to
    back, then twelve days without): Loop Habit Tracker scores it 0.8125 on March 31st (its
    ScoreList.recompute, the boolean branch, walked by hand over Jan 1 - Mar 31, 2026); a
    trailing week alone would call most of those days a miss (0.5086)."""
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    kept = [start + timedelta(days=d + e) for d in range(0, 90, 14) for e in (0, 13)]
    kept = [day for day in kept if day <= end]
    assert habit_strength(kept, start=start, end=end, times_per_day=1 / 7) == 0.8125


def test_habit_strength_kept_weekly_habit_gets_full_credit() -> None:
    start = date(2026, 1, 5)  # a Monday
    end = start + timedelta(days=179)
    mon_wed_fri = [start + timedelta(days=d) for d in range(180) if d % 7 in (0, 2, 4)]
    # after the first week every trailing week holds all 3 completions, so done = 1 daily
    assert habit_strength(mon_wed_fri, start=start, end=end, times_per_day=3 / 7) > 0.99


def test_habit_strength_one_miss_after_a_streak() -> None:
    start = date(2026, 1, 1)
    streak = [start + timedelta(days=i) for i in range(60)]
    before = habit_strength(streak, start=start, end=streak[-1], times_per_day=1)
    after = habit_strength(streak, start=start, end=streak[-1] + timedelta(days=1), times_per_day=1)
    # before = 1 - 0.5 ** (60/13) = 0.9592; after = before * 0.948078 = 0.9094
    assert before == 0.9592
    assert after == 0.9094
    assert after > 0.9 * before


# --- summarize -------------------------------------------------------------------------------


def test_summary_improving_example() -> None:
    points = weekly([2.8, 3.4, 4.0], last=date(2026, 11, 20))
    s = run(UP, points)
    assert s.latest_value == 4.0
    assert s.percent_complete == pytest.approx(75.0)  # (4 - 1) / 4
    # 81 of 91 days from 2026-09-01 to 2026-12-01: 1 + 4 * 81/91 = 4.5604
    assert s.expected_value_today == pytest.approx(4.56044, abs=1e-5)
    assert s.on_track is False
    assert s.trend is not None
    assert s.trend.slope_per_week == pytest.approx(0.6)
    # line hits 5 at 1 + 1.6 / 0.6 = 3.667 weeks = 25 d 16 h after 2026-11-06 09:00
    # -> 2026-12-02 01:00 UTC
    assert s.projected_achievement_date == date(2026, 12, 2)
    assert s.achievement_status == "improving"
    assert s.achievement_status_source == "derived"
    assert s.achievement_reason == "Latest 4 of target 5 on 2026-11-20; trending up 0.6 per week."
    assert s.baseline == 1
    assert s.target == 5
    assert s.gas_t_score is None


def test_summary_clinician_status_wins() -> None:
    s = run(UP, weekly([2.8, 3.4, 4.0], last=date(2026, 11, 20)), explicit_status="not_attainable")
    assert s.achievement_status == "not_attainable"
    assert s.achievement_status_source == "clinician"
    assert s.achievement_reason == "Set by a clinician; latest 4 of target 5 on 2026-11-20."


@pytest.mark.parametrize(
    ("start", "status"),
    # 2026-11-07 + 14 days is today, not more than 14 days ago; 2026-11-06 is 15 days ago.
    [(date(2026, 11, 7), "in_progress"), (date(2026, 11, 6), "no_progress")],
)
def test_summary_without_measurements(start: date, status: str) -> None:
    s = run(UP, [], start_date=start)
    assert s.achievement_status == status
    assert s.percent_complete is None
    assert s.on_track is None
    assert s.trend is None
    # and without a measure: same rule
    assert run(None, [], start_date=start).achievement_status == status


@pytest.mark.parametrize(
    ("values", "overrides", "status"),
    [
        ([3, 5, 5.5], {}, "sustaining"),
        ([3, 4, 5], {}, "achieved"),
        ([5, 4, 5], {}, "achieved"),
        ([2, 3, 4], {"target_date": date(2026, 11, 20)}, "not_achieved"),
        ([4, 3, 2], {}, "worsening"),
        ([3, 3, 3], {}, "no_change"),
        ([3], {}, "in_progress"),
    ],
)
def test_summary_derived_statuses(
    values: list[float], overrides: dict[str, object], status: str
) -> None:
    s = run(UP, weekly(values, last=date(2026, 11, 20)), **overrides)
    assert s.achievement_status == status
    assert s.achievement_reason.endswith(".")


def test_summary_reason_sentences() -> None:
    last = date(2026, 11, 20)
    late = run(UP, weekly([2, 3, 4], last=last), target_date=date(2026, 11, 1))
    assert late.achievement_reason == (
        "The target date 2026-11-01 has passed; latest 4 of target 5 on 2026-11-20 (75% complete)."
    )
    flat = run(UP, weekly([3, 3, 3], last=last))
    assert (
        flat.achievement_reason
        == "Latest 3 of target 5 on 2026-11-20; steady, within 0.04 per week."
    )
    none = run(None, [], start_date=date(2026, 11, 1))
    assert (
        none.achievement_reason == "No measure is defined; 20 days since the start on 2026-11-01."
    )
    one_day = run(None, [], start_date=date(2026, 11, 20))
    assert (
        one_day.achievement_reason == "No measure is defined; 1 day since the start on 2026-11-20."
    )


def test_summary_gas_and_passthrough() -> None:
    steps = StepsSummary(total=4, done=1, completion_rate=0.25)
    s = run(UP, [], latest_gas_level=1, gas_weight=3.0, steps=steps, event_count=7)
    assert s.gas_t_score == pytest.approx(60.0)  # one goal at +1 -> 50 + 10
    assert s.steps == steps
    assert s.event_count == 7
    assert run(UP, [], latest_gas_level=1, gas_weight=0.0).gas_t_score is None


def test_summary_maintain_on_track_uses_band() -> None:
    measure = MeasureSpec("numeric", "maintain", 70, 70)  # band 7
    assert run(measure, weekly([75], last=date(2026, 11, 20))).on_track is True
    assert run(measure, weekly([60], last=date(2026, 11, 20))).on_track is False


# --- properties ------------------------------------------------------------------------------

BOUNDED = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
# hypothesis wants naive bounds for datetimes(); seconds from an aware epoch avoid them.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# To the microsecond: a Point's time is a float, inexact for most microseconds.
MOMENTS = st.integers(0, 15 * 365 * 86400 * 10**6).map(lambda n: EPOCH + timedelta(microseconds=n))
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1))
KINDS: tuple[Kind, ...] = ("numeric", "count", "scale", "boolean")
DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease", "maintain")
LEVELS = st.integers(min_value=-2, max_value=2)
WEIGHTS = st.floats(min_value=0, max_value=1e300, exclude_min=True)


@st.composite
def measures(draw: st.DrawFn, numbers: st.SearchStrategy[float] = BOUNDED) -> MeasureSpec:
    kind = draw(st.sampled_from(KINDS))
    direction = draw(st.sampled_from(DIRECTIONS))
    ends = draw(st.one_of(st.none(), st.tuples(numbers, numbers)))
    low, high = ends if ends is not None else (None, None)
    return MeasureSpec(kind, direction, draw(numbers), draw(numbers), low, high)


@st.composite
def recent_points(draw: st.DrawFn, now: datetime, values: st.SearchStrategy[float]) -> list[Point]:
    age = st.integers(min_value=0, max_value=timedelta(weeks=9) // timedelta(microseconds=1))
    ages = draw(st.lists(age, max_size=8))
    return [point(now - timedelta(microseconds=n), draw(values)) for n in ages]


@settings(max_examples=300, deadline=None)
@given(measure=measures(FINITE), value=FINITE)
def test_percent_is_between_0_and_100(measure: MeasureSpec, value: float) -> None:
    assert 0.0 <= percent_complete(measure, value) <= 100.0


@settings(max_examples=300, deadline=None)
@given(data=st.data(), now=MOMENTS, start=DAYS, span=st.integers(0, 400))
def test_mirroring_increase_into_decrease(
    data: st.DataObject, now: datetime, start: date, span: int
) -> None:
    kind = data.draw(st.sampled_from(KINDS[:3]))
    baseline, target = sorted(data.draw(st.tuples(BOUNDED, BOUNDED)))
    assume(baseline < target)
    low = baseline - data.draw(st.floats(0, 10)) if kind == "scale" else None
    high = target + data.draw(st.floats(0, 10)) if kind == "scale" else None
    up = MeasureSpec(kind, "increase", baseline, target, low, high)
    down = MeasureSpec(
        kind,
        "decrease",
        -baseline,
        -target,
        None if high is None else -high,
        None if low is None else -low,
    )
    points = data.draw(recent_points(now, BOUNDED))
    mirrored = [Point(p.at, -p.value) for p in points]
    end = start + timedelta(days=span)

    for value in [baseline, target, *[p.value for p in points]]:
        assert percent_complete(up, value) == percent_complete(down, -value)
    up_trend, down_trend = trend(up, points, now), trend(down, mirrored, now)
    assert (up_trend is None) == (down_trend is None)
    if up_trend is not None and down_trend is not None:
        assert up_trend.direction == down_trend.direction
    assert projected_achievement_date(up, points, now) == projected_achievement_date(
        down, mirrored, now
    )
    common = {"start_date": start, "target_date": end, "now": now}
    up_summary = run(up, points, **common)
    down_summary = run(down, mirrored, **common)
    for key in ("percent_complete", "on_track", "achievement_status"):
        assert getattr(up_summary, key) == getattr(down_summary, key)


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(WEIGHTS, min_size=1, max_size=10))
def test_gas_all_zero_levels_is_50(weights: list[float]) -> None:
    assert gas_t_score([(w, 0) for w in weights]) == 50.0


@settings(max_examples=300, deadline=None)
@given(goals=st.lists(st.tuples(WEIGHTS, LEVELS), min_size=1, max_size=10), data=st.data())
def test_gas_monotone_in_each_level(goals: list[tuple[float, int]], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(goals) - 1))
    weight, level = goals[i]
    assume(level < 2)
    raised = [*goals[:i], (weight, level + 1), *goals[i + 1 :]]
    before, after = gas_t_score(goals), gas_t_score(raised)
    assert before is not None
    assert after is not None
    assert after >= before
    assert 0 <= before <= 100


@settings(max_examples=300, deadline=None)
@given(
    start=DAYS,
    span=st.integers(0, 120),
    offsets=st.lists(st.integers(-5, 125), max_size=60),
    extra=st.integers(0, 120),
    times_per_day=st.one_of(
        st.sampled_from([1 / 7, 2 / 7, 3 / 7, 5 / 7, 1, 2, 3]),
        st.floats(min_value=0.01, max_value=20),
    ),
)
def test_habit_strength_bounded_and_monotone(
    start: date, span: int, offsets: list[int], extra: int, times_per_day: float
) -> None:
    end = start + timedelta(days=span)
    days = [start + timedelta(days=o) for o in offsets]
    score = habit_strength(days, start=start, end=end, times_per_day=times_per_day)
    more = habit_strength(
        [*days, start + timedelta(days=extra)], start=start, end=end, times_per_day=times_per_day
    )
    assert 0.0 <= score <= more <= 1.0


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    measure=st.one_of(st.none(), measures(FINITE)),
    now=MOMENTS,
    start=st.one_of(st.none(), DAYS),
    end=st.one_of(st.none(), DAYS),
    gas=st.one_of(st.none(), LEVELS),
    weight=FINITE,
    explicit=st.one_of(st.none(), st.sampled_from(sorted(FHIR_CODES))),
)
def test_summarize_never_raises(
    data: st.DataObject,
    measure: MeasureSpec | None,
    now: datetime,
    start: date | None,
    end: date | None,
    gas: int | None,
    weight: float,
    explicit: str | None,
) -> None:
    points = data.draw(recent_points(now, FINITE))
    s = run(
        measure,
        points,
        start_date=start,
        target_date=end,
        latest_gas_level=gas,
        gas_weight=weight,
        explicit_status=explicit,
        now=now,
    )
    assert s.achievement_status in FHIR_CODES
    assert s.achievement_reason.endswith(".")
    assert s.percent_complete is None or 0 <= s.percent_complete <= 100
    if s.achievement_status_source == "derived" and s.achievement_status in {
        "achieved",
        "sustaining",
    }:
        assert s.on_track is not False


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    now=MOMENTS,
    start=st.one_of(st.none(), DAYS),
    end=st.one_of(st.none(), DAYS),
    measured=st.booleans(),
    steps=st.tuples(st.integers(0, 20), st.integers(0, 20)),
    events=st.integers(0, 10_000),
    gas_level=st.one_of(st.none(), LEVELS),
)
def test_status_from_measurements_alone_is_the_summarys(
    data: st.DataObject,
    now: datetime,
    start: date | None,
    end: date | None,
    measured: bool,
    steps: tuple[int, int],
    events: int,
    gas_level: int | None,
) -> None:
    """Recording progress re-derives a goal's status from its measurements alone: whatever
    the steps, event count and GAS level, it must be the status the full summary shows."""
    measure = data.draw(measures(BOUNDED)) if measured else None
    points = data.draw(recent_points(now, BOUNDED))
    dates = {"start_date": start, "target_date": end, "now": now}
    total, done = max(steps), min(steps)
    summary = run(
        measure,
        points,
        steps=StepsSummary(total=total, done=done, completion_rate=done / total if total else None),
        event_count=events,
        latest_gas_level=gas_level,
        **dates,
    )
    alone = status_from_measurements(measure=measure, measurements=points, **dates)
    assert alone == summary.achievement_status


def _loop_fit(points: list[Point]) -> tuple[float, float, float] | None:
    """The textbook least squares, one Python loop per sum: what `_fit` must equal exactly
    (it maps C functions over the points instead, in the same order of operations)."""
    if len(points) < 2 or points[-1].at - points[0].at < timedelta(days=1).total_seconds():
        return None
    xs = [(p.at - points[0].at) / timedelta(weeks=1).total_seconds() for p in points]
    ys = [p.value for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) * (x - mean_x) for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    if not (math.isfinite(slope) and math.isfinite(mean_y)):
        return None
    return mean_x, mean_y, slope


@settings(max_examples=300, deadline=None)
@given(data=st.data(), now=MOMENTS)
def test_the_fit_equals_the_textbook_loop_to_the_last_bit(
    data: st.DataObject, now: datetime
) -> None:
    points = _recent(Series.of(data.draw(recent_points(now, st.one_of(BOUNDED, FINITE)))), now)
    line = _fit(points)
    expected = _loop_fit(list(points))
    assert (line is None) == (expected is None)
    if line is not None and expected is not None:
        assert (line.mean_x, line.mean_y, line.slope) == expected


@pytest.mark.parametrize("micros", [0, 1, 123457, 999999])
def test_the_trend_window_includes_both_ends_and_sorts_what_it_keeps(micros: int) -> None:
    now = NOW + timedelta(microseconds=micros)  # most such times are not exact floats
    start = now - TREND_WINDOW
    inside = [point(now, 3), point(start, 1), point(now - timedelta(days=3), 2)]
    outside = [
        point(start - timedelta(microseconds=1), 9),
        point(now + timedelta(microseconds=1), 9),
    ]
    kept = _recent(Series.of([*outside, *inside]), now)
    assert list(kept) == sorted(inside, key=lambda p: p.at)
    assert list(_recent(Series.of([]), now)) == []


@settings(max_examples=300, deadline=None)
@given(data=st.data(), now=MOMENTS, start=st.one_of(st.none(), DAYS), end=DAYS)
def test_a_series_in_time_order_summarizes_as_its_points_do(
    data: st.DataObject, now: datetime, start: date | None, end: date
) -> None:
    """A summary reads the database's arrays as a Series, trusted to be in time order (the
    query sorts them); the same points as a list, sorted by `summarize`, give the same."""
    measure = data.draw(st.one_of(st.none(), measures(BOUNDED)))
    points = data.draw(recent_points(now, BOUNDED))
    dates = {"start_date": start, "target_date": end, "now": now}
    ordered = sorted(points, key=lambda p: p.at)
    series = Series([p.at for p in ordered], [p.value for p in ordered])
    assert run(measure, series, **dates) == run(measure, points, **dates)
    assert list(series) == ordered
    assert list(series[1:3]) == ordered[1:3]


def test_a_series_needs_a_value_for_each_time() -> None:
    with pytest.raises(ValueError, match="a value for each time"):
        Series([1.0, 2.0], [3.0])


def test_dates_are_the_clients_days() -> None:
    """A target date passes once it has passed where the client lives: at 18:00 in Los
    Angeles on the target day it is already the next day in UTC, and the goal is not yet
    `not_achieved`; the reading's day in the sentence is the client's too."""
    los_angeles = ZoneInfo("America/Los_Angeles")
    evening = datetime(2026, 3, 1, 18, 0, tzinfo=los_angeles)  # 2026-03-02T02:00Z
    reading = point(datetime(2026, 2, 28, 17, 0, tzinfo=los_angeles), 3)  # 01:00Z on 03-01
    common = {"start_date": date(2026, 1, 1), "target_date": date(2026, 3, 1)}
    local = run(UP, [reading], now=evening, **common)
    assert local.achievement_status == "in_progress"
    assert local.achievement_reason == "Latest 3 of target 5 on 2026-02-28; " + (
        "not enough recent measurements for a trend."
    )
    assert local.expected_value_today == 5.0  # the target day: the line's end
    assert run(UP, [reading], now=evening.astimezone(UTC), **common).achievement_status == (
        "not_achieved"  # where it is already March 2nd
    )
    auckland = evening.astimezone(ZoneInfo("Pacific/Auckland"))  # 15:00 on March 2nd
    assert run(UP, [reading], now=auckland, **common).achievement_status == "not_achieved"
