"""Progress maths: turns already-loaded goal data into the figures a clinician reads.

Pure functions only: no I/O, no database, no clock. Every function is deterministic given its
arguments; the current time is always passed in as `now`.

Conventions used throughout:

* "Reached" means `percent_complete(...) >= 100`, so maintain goals and goals whose target
  equals their baseline are reached while inside the tolerance band.
* Trend and projection use x = time in weeks and y = the measured value.
* A measurement's time is POSIX seconds (`at`), as the database sends it (`seconds` makes one
  from a datetime); `now` is a timezone-aware datetime in the client's time zone. Every date
  (today, a reading's day, a projected date) is a day of the client's calendar: a target date
  has passed once it has passed where the client lives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat
from operator import mul, sub, truediv
from typing import Literal

from pydantic import BaseModel

from app.progress.points import Point, Series, in_time_order, moment, seconds

# --- Constants -------------------------------------------------------------------------------

# Trend looks back 8 weeks: long enough to smooth week-to-week noise, short enough to show a
# change of course within a typical 8-12 week goal.
TREND_WINDOW = timedelta(weeks=8)
# Readings closer together than this make no trend: a slope per week from two values entered
# a minute apart would be millions, and its projection "today".
MIN_TREND_SPAN = timedelta(days=1)

# "Close enough" band for maintain goals and for on-track checks of maintain goals: 10 % of the
# scale range (scale) or of |target| (numeric, count). Roughly the smallest change a clinician
# would call meaningful on a self-report measure.
TOLERANCE_FRACTION = 0.10
# Counts are whole numbers, so the band is at least one: "5 ± 1 drinks" not "5 ± 0.5".
COUNT_TOLERANCE_FLOOR = 1.0
# A numeric target of 0 has no natural 10 % band; this floor only absorbs float rounding, so
# such a goal must be met exactly.
NUMERIC_TOLERANCE_FLOOR = 1e-9
# Boolean measures are 0 or 1: there is nothing between "yes" and "no".
BOOLEAN_TOLERANCE = 0.0

# A slope under 1 % of the goal's reference range per week counts as flat: at that pace the
# whole distance would take about two years, which is no change in a therapy time frame.
FLAT_BAND_FRACTION_PER_WEEK = 0.01

# Projections further out than 5 years are extrapolation noise, not a forecast.
MAX_PROJECTION = timedelta(days=5 * 365 + 1)

# Without any measurement, a goal counts as "no_progress" once 14 days have passed since its
# start: two weekly sessions without a single recorded measurement.
NO_PROGRESS_GRACE = timedelta(days=14)

# Kiresuk & Sherman (1968) assume an inter-goal correlation of 0.3 for the GAS T-score.
GAS_RHO = 0.3
GAS_LEVELS = range(-2, 3)


# --- Inputs and outputs ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    kind: Literal["numeric", "count", "scale", "boolean"]
    direction: Literal["increase", "decrease", "maintain"]
    baseline: float
    target: float
    scale_min: float | None = None
    scale_max: float | None = None


class Trend(BaseModel):
    slope_per_week: float
    direction: Literal["improving", "worsening", "flat"]


class StepsSummary(BaseModel):
    total: int
    done: int
    completion_rate: float | None  # done / total, None when total == 0


class HabitStrength(BaseModel):
    step_id: str
    frequency: Literal["daily", "weekly"]
    times: int
    strength: float  # 0..1


class ProgressSummary(BaseModel):
    baseline: float | None
    target: float | None
    latest_value: float | None
    latest_at: datetime | None
    percent_complete: float | None  # 0..100, None without a measure or a measurement
    expected_value_today: float | None
    on_track: bool | None
    trend: Trend | None
    projected_achievement_date: date | None
    steps: StepsSummary
    habits: list[HabitStrength]
    event_count: int
    achievement_status: str  # one of ACHIEVEMENT_STATUSES
    achievement_reason: str  # a sentence a person can read
    achievement_status_source: Literal["clinician", "derived"]
    gas_t_score: float | None


# --- Bands -----------------------------------------------------------------------------------


def _scale_range(measure: MeasureSpec) -> float | None:
    """The width of a scale measure, or None when it is not a usable scale."""
    if measure.kind != "scale" or measure.scale_min is None or measure.scale_max is None:
        return None
    width = measure.scale_max - measure.scale_min
    return width if width > 0 else None


def tolerance(measure: MeasureSpec) -> float:
    """Half-width of the "at target" band (see the TOLERANCE_* constants)."""
    if measure.kind == "boolean":
        return BOOLEAN_TOLERANCE
    width = _scale_range(measure)
    if width is not None:
        return TOLERANCE_FRACTION * width
    floor = COUNT_TOLERANCE_FLOOR if measure.kind == "count" else NUMERIC_TOLERANCE_FLOOR
    return max(floor, TOLERANCE_FRACTION * abs(measure.target))


def flat_band(measure: MeasureSpec) -> float:
    """Slopes (per week) with an absolute value up to this count as flat."""
    reference = _scale_range(measure)
    if reference is None:
        distance = abs(measure.target - measure.baseline)
        reference = distance if distance > 0 else max(abs(measure.baseline), 1.0)
    return FLAT_BAND_FRACTION_PER_WEEK * reference


def _uses_band(measure: MeasureSpec) -> bool:
    return measure.direction == "maintain" or measure.target == measure.baseline


# --- Percent complete and the planned line ---------------------------------------------------


def percent_complete(measure: MeasureSpec, value: float) -> float:
    """How far `value` is from baseline to target, 0..100.

    The ratio (value - baseline) / (target - baseline) points the right way for decrease goals
    too (both differences are negative). Maintain goals, and goals whose target equals their
    baseline, are all or nothing: 100 inside the tolerance band around the target, else 0.
    """
    if _uses_band(measure):
        return 100.0 if abs(value - measure.target) <= tolerance(measure) else 0.0
    ratio = (value - measure.baseline) / (measure.target - measure.baseline)
    return _clamp(ratio * 100.0, 0.0, 100.0)


def _clamp(x: float, low: float, high: float) -> float:
    if math.isnan(x):
        return low
    return min(high, max(low, x))


def reached(measure: MeasureSpec, value: float) -> bool:
    return percent_complete(measure, value) >= 100.0


def expected_value(measure: MeasureSpec, start: date, target_date: date, on: date) -> float:
    """The planned value on `on`: a straight line from baseline at `start` to target at
    `target_date`, held at baseline before the start and at target after the target date."""
    if target_date <= start or on >= target_date:
        return measure.target
    if on <= start:
        return measure.baseline
    fraction = (on - start).days / (target_date - start).days
    return measure.baseline + (measure.target - measure.baseline) * fraction


def on_track(measure: MeasureSpec, latest: float, expected: float) -> bool:
    """At or beyond the planned value in the goal's direction; maintain goals must be inside
    the tolerance band around the planned value. A value that has reached the target is always
    on track (this also keeps float rounding from contradicting `reached`)."""
    if reached(measure, latest):
        return True
    if measure.direction == "increase":
        return latest >= expected
    if measure.direction == "decrease":
        return latest <= expected
    return abs(latest - expected) <= tolerance(measure)


# --- Trend and projection --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    """A least-squares line y = mean_y + slope * (x - mean_x), x in weeks since `origin`
    (a Point's time)."""

    origin: float
    mean_x: float
    mean_y: float
    slope: float

    def weeks(self, at: datetime) -> float:
        return (seconds(at) - self.origin) / _WEEK


_WEEK = timedelta(weeks=1).total_seconds()
_MIN_TREND_SPAN = MIN_TREND_SPAN.total_seconds()
_MAX_PROJECTION_WEEKS = MAX_PROJECTION.total_seconds() / _WEEK


def _recent(ordered: Series, now: datetime) -> Series:
    """Points inside the trend window, oldest first. Future-dated points are left out."""
    start = seconds(now - TREND_WINDOW)  # the bound the database is given, rounded alike
    return ordered.between(start, seconds(now))


def _fit(points: Series) -> _Line | None:
    """Ordinary least squares over points in time order (as `_recent` gives them); None for
    fewer than two points or less than MIN_TREND_SPAN between the first and the last.

    Hundreds of points per client summary at a million events: the arithmetic runs in `map`
    over C functions, in the order a loop would do it, so no Python code runs per point."""
    times, ys = points.times, points.values
    if len(times) < 2:
        return None
    origin = times[0]
    if times[-1] - origin < _MIN_TREND_SPAN:
        return None
    xs = list(map(truediv, map(sub, times, repeat(origin)), repeat(_WEEK)))
    # Plain sums: with absurd values they overflow to inf/nan instead of raising like fsum.
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    dxs = list(map(sub, xs, repeat(mean_x)))
    sxx = sum(map(mul, dxs, dxs))
    if sxx == 0:
        return None
    slope = sum(map(mul, dxs, map(sub, ys, repeat(mean_y)))) / sxx
    if not (math.isfinite(slope) and math.isfinite(mean_y)):
        return None
    return _Line(origin=origin, mean_x=mean_x, mean_y=mean_y, slope=slope)


def _direction(
    measure: MeasureSpec, slope: float, level: float
) -> Literal["improving", "worsening", "flat"]:
    """A slope past the flat band is improving when it heads where the goal wants the value:
    up for an increase, down for a decrease, and for a goal to maintain, towards the target
    from `level`'s side of it (`_judged_from`: away from it, or off it, is worsening)."""
    band = flat_band(measure)
    if abs(slope) <= band:
        return "flat"
    if measure.direction == "maintain":
        return "improving" if (measure.target - level) * slope > 0 else "worsening"
    rising = slope > 0
    return "improving" if rising == (measure.direction == "increase") else "worsening"


def trend(measure: MeasureSpec, points: Sequence[Point], now: datetime) -> Trend | None:
    """Least-squares slope per week over the TREND_WINDOW before `now`, judged against the
    goal's direction (and for a goal to maintain, the latest reading) with the flat band
    from `flat_band`."""
    ordered = in_time_order(points)
    return _trend(measure, ordered, _fit(_recent(ordered, now)))


def _trend(measure: MeasureSpec, ordered: Series, line: _Line | None) -> Trend | None:
    if line is None:
        return None
    direction = _direction(measure, line.slope, _judged_from(measure, ordered[-1].value, line))
    return Trend(slope_per_week=line.slope, direction=direction)


def _judged_from(measure: MeasureSpec, latest: float, line: _Line) -> float:
    """The value a trend's direction is judged from: the latest reading, or, once that is at
    the target, where the line started (it arrived there from one side or the other)."""
    if reached(measure, latest):
        return line.mean_y - line.slope * line.mean_x  # the line at its first point
    return latest


def _day(at: float, now: datetime) -> date:
    """The day of the point time `at` on the calendar of `now`'s time zone (the client's)."""
    return datetime.fromtimestamp(at, now.tzinfo).date()


def _achieved_since(measure: MeasureSpec, ordered: Sequence[Point], now: datetime) -> date:
    """The date of the first point of the unbroken run of reached points that ends with the
    latest one. Only loaded points are seen, so with truncated history the true date may be
    earlier."""
    since = ordered[-1].at
    for point in reversed(ordered):
        if not reached(measure, point.value):
            break
        since = point.at
    return _day(since, now)


def projected_achievement_date(
    measure: MeasureSpec, points: Sequence[Point], now: datetime
) -> date | None:
    """When the trend line meets the target.

    * Latest value already at target: the date the current run at target began (see
      `_achieved_since`), i.e. when it was achieved rather than a forecast.
    * Trend not improving (flat, worsening, none): None.
    * Meeting point more than MAX_PROJECTION after `now`: None.
    * Meeting point already past although the latest value is short of the target (the line
      is ahead of the last reading): `now`'s date, "any day now".
    """
    if not points:
        return None
    ordered = in_time_order(points)
    return _projection(measure, ordered, _fit(_recent(ordered, now)), now)


def _projection(
    measure: MeasureSpec, ordered: Sequence[Point], line: _Line | None, now: datetime
) -> date | None:
    """`projected_achievement_date` for points already in time order, with their line."""
    if reached(measure, ordered[-1].value):
        return _achieved_since(measure, ordered, now)
    latest = ordered[-1].value
    if line is None or _direction(measure, line.slope, latest) != "improving":
        return None
    meets_at = line.mean_x + (measure.target - line.mean_y) / line.slope
    weeks_ahead = meets_at - line.weeks(now)
    if not math.isfinite(weeks_ahead) or weeks_ahead > _MAX_PROJECTION_WEEKS:
        return None
    return (now + timedelta(weeks=max(weeks_ahead, 0.0))).date()


# --- Goal Attainment Scaling -----------------------------------------------------------------


def gas_t_score(goals: Sequence[tuple[float, int]], rho: float = GAS_RHO) -> float | None:
    """Kiresuk & Sherman (1968) T-score over (weight, level) pairs:

        T = 50 + 10 * sum(w * x) / sqrt((1 - rho) * sum(w^2) + rho * sum(w)^2)

    None for no goals or when every weight is zero. Weights are first divided by the largest
    one; T does not change (top and bottom both scale linearly) but squares cannot overflow
    or underflow.
    """
    if not 0 <= rho < 1:
        raise ValueError("rho must be in [0, 1)")
    for weight, level in goals:
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError("GAS weights must be finite and not negative")
        if level not in GAS_LEVELS:
            raise ValueError("GAS levels run from -2 to +2")
    largest = max((weight for weight, _ in goals), default=0.0)
    if largest == 0:
        return None
    weights = [weight / largest for weight, _ in goals]
    levels = [level for _, level in goals]
    weighted = math.fsum(w * x for w, x in zip(weights, levels, strict=True))
    squares = math.fsum(w * w for w in weights)
    total = math.fsum(weights)
    return 50.0 + 10.0 * weighted / math.sqrt((1 - rho) * squares + rho * total * total)


# --- The summary -----------------------------------------------------------------------------


def _fmt(x: float) -> str:
    """A number for a sentence: at most two decimals, no trailing zeros."""
    if abs(x) >= 100:
        return f"{x:.0f}"
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _latest_clause(measure: MeasureSpec, latest: Point, now: datetime) -> str:
    on = _day(latest.at, now)
    return f"latest {_fmt(latest.value)} of target {_fmt(measure.target)} on {on}"


def _trend_clause(measure: MeasureSpec, found: Trend | None) -> str:
    if found is None:
        return "not enough recent measurements for a trend"
    slope = found.slope_per_week
    if found.direction == "flat":
        return f"steady, within {_fmt(flat_band(measure))} per week"
    way = "up" if slope > 0 else "down"
    return f"trending {way} {_fmt(abs(slope))} per week"


def _sentence(*clauses: str) -> str:
    text = "; ".join(clauses)
    return text[:1].upper() + text[1:] + "."


def _without_measurements(
    measure: MeasureSpec | None, start_date: date | None, now: datetime
) -> tuple[str, str]:
    missing = "no measure is defined" if measure is None else "no measurements recorded yet"
    if start_date is None:
        return "in_progress", _sentence(missing, "no start date")
    days = (now.date() - start_date).days
    if days < 0:
        return "in_progress", _sentence(missing, f"the goal starts on {start_date}")
    status = "no_progress" if now.date() > start_date + NO_PROGRESS_GRACE else "in_progress"
    since = "1 day" if days == 1 else f"{days} days"
    return status, _sentence(missing, f"{since} since the start on {start_date}")


def derive_status(
    *,
    measure: MeasureSpec | None,
    ordered: Sequence[Point],
    found: Trend | None,
    start_date: date | None,
    target_date: date | None,
    now: datetime,
) -> tuple[str, str]:
    """The derived FHIR achievement status and a sentence saying why, first rule that applies:
    no data -> no_progress/in_progress; at target twice running -> sustaining; at target ->
    achieved; target date passed -> not_achieved; then the trend; one point -> in_progress."""
    if measure is None or not ordered:
        return _without_measurements(measure, start_date, now)
    latest = ordered[-1]
    latest_clause = _latest_clause(measure, latest, now)
    if reached(measure, latest.value):
        if len(ordered) > 1 and reached(measure, ordered[-2].value):
            previous, on = ordered[-2], _day(ordered[-2].at, now)
            return "sustaining", _sentence(
                latest_clause, f"the previous {_fmt(previous.value)} on {on} was at target too"
            )
        return "achieved", _sentence(latest_clause, "the target is reached")
    if target_date is not None and now.date() > target_date:
        percent = percent_complete(measure, latest.value)
        return "not_achieved", _sentence(
            f"the target date {target_date} has passed",
            f"{latest_clause} ({percent:.0f}% complete)",
        )
    clause = _trend_clause(measure, found)
    if found is None:
        return "in_progress", _sentence(latest_clause, clause)
    status = {"improving": "improving", "worsening": "worsening", "flat": "no_change"}
    return status[found.direction], _sentence(latest_clause, clause)


def _fitted(
    measure: MeasureSpec | None, measurements: Sequence[Point], now: datetime
) -> tuple[Series, _Line | None, Trend | None]:
    """The points in time order, their line over the trend window (one fit serves the trend
    and the projection) and the trend it shows."""
    ordered = in_time_order(measurements)
    line = _fit(_recent(ordered, now))
    return ordered, line, _trend(measure, ordered, line) if measure is not None else None


def status_from_measurements(
    *,
    measure: MeasureSpec | None,
    measurements: Sequence[Point],
    start_date: date | None,
    target_date: date | None,
    now: datetime,
) -> str:
    """The status `summarize` would derive from the same measurements, without the rest of
    the summary (steps, habits, counts and GAS play no part in it)."""
    ordered, _, found = _fitted(measure, measurements, now)
    status, _ = derive_status(
        measure=measure,
        ordered=ordered,
        found=found,
        start_date=start_date,
        target_date=target_date,
        now=now,
    )
    return status


def _clinician_reason(measure: MeasureSpec | None, ordered: Sequence[Point], now: datetime) -> str:
    if measure is None or not ordered:
        return "Set by a clinician; no measurements recorded yet."
    return _sentence("set by a clinician", _latest_clause(measure, ordered[-1], now))


def summarize(
    *,
    measure: MeasureSpec | None,
    start_date: date | None,
    target_date: date | None,
    measurements: Sequence[Point],
    steps: StepsSummary,
    habits: Sequence[HabitStrength],
    event_count: int,
    latest_gas_level: int | None,
    gas_weight: float,
    explicit_status: str | None,
    now: datetime,
) -> ProgressSummary:
    """Everything a progress summary shows for one goal.

    `measurements` are the recorded ones in the TREND_WINDOW before `now` plus at least the
    latest two: in any order as Points (those sharing a timestamp keep their input order), or
    a Series, which is in time order already (see `in_time_order`). A
    clinician's `explicit_status` wins over the derived one. The goal's own GAS T-score uses
    `gas_weight`; a non-positive weight leaves the goal out of GAS (None).
    """
    ordered, line, found = _fitted(measure, measurements, now)
    latest = ordered[-1] if ordered else None

    percent = expected = track = projected = None
    if measure is not None:
        if start_date is not None and target_date is not None:
            expected = expected_value(measure, start_date, target_date, now.date())
        if latest is not None:
            percent = percent_complete(measure, latest.value)
            projected = _projection(measure, ordered, line, now)
            if expected is not None:
                track = on_track(measure, latest.value, expected)

    if explicit_status is not None:
        status, reason = explicit_status, _clinician_reason(measure, ordered, now)
        source: Literal["clinician", "derived"] = "clinician"
    else:
        status, reason = derive_status(
            measure=measure,
            ordered=ordered,
            found=found,
            start_date=start_date,
            target_date=target_date,
            now=now,
        )
        source = "derived"

    gas = None
    if latest_gas_level is not None and math.isfinite(gas_weight) and gas_weight > 0:
        gas = gas_t_score([(gas_weight, latest_gas_level)])

    return ProgressSummary(
        baseline=measure.baseline if measure else None,
        target=measure.target if measure else None,
        latest_value=latest.value if latest else None,
        latest_at=moment(latest.at) if latest else None,
        percent_complete=percent,
        expected_value_today=expected,
        on_track=track,
        trend=found,
        projected_achievement_date=projected,
        steps=steps,
        habits=list(habits),
        event_count=event_count,
        achievement_status=status,
        achievement_reason=reason,
        achievement_status_source=source,
        gas_t_score=gas,
    )
