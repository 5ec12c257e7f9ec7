"""SMART validation of therapy goals: specific, measurable, achievable, relevant, time-bound.

Pure: no I/O. `evaluate_goal` takes a JSON-shaped goal (any field may be missing or of the wrong
type) and never raises. Every message and suggestion comes from `TEXTS`, filled in with numbers
only: the goal's own words are never echoed back, because reports may be logged.
"""

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.goals.vocabulary import CATEGORIES

CriterionStatus = Literal["pass", "warn", "fail"]

MEASURE_KINDS = ("numeric", "count", "scale", "boolean")
DIRECTIONS = ("increase", "decrease", "maintain")

# Specific. "Walk after dinner" is about the shortest title that still names an action.
MIN_TITLE_WORDS = 3
MIN_TITLE_CHARS = 10
MIN_DESCRIPTION_CHARS = 20  # about one short sentence: what, where, when, with whom
# Relevant: "So I can sleep" is a start; a reason tied to the client's life is usually longer.
MIN_RELEVANCE_CHARS = 20
MIN_RELEVANCE_WORDS = 4
# Measurable: the API caps numbers at 1e9 too; anything bigger is a typo, and the cap keeps the
# pace arithmetic finite.
MAX_ABS_VALUE = 1e9
# Achievable: pace is change per week. Goals shorter than a week are judged as one week
# (time-bound already warns about them), so a two-day goal isn't called impossible.
MIN_PACE_WEEKS = 1.0
# Scale: share of the scale's range per week. Meaningful change in therapy is typically 2-3 points
# on a 0-10 rating over 8-12 weeks, so 1.5 points a week is steep; half the scale in a week is not
# plausible (crossing the whole scale in a week always fails).
SCALE_WARN_PER_WEEK = 0.15
SCALE_FAIL_PER_WEEK = 0.5
# Count: weekly growth factor of (count + 1). It works from zero and treats a rise and the mirrored
# fall alike. More than doubling every week is steep; 0 -> 10 or 20 -> 0 within one week (an 11x
# or 21x factor) is beyond what most people sustain. 0 -> 7 in a week (8x) is only steep.
COUNT_WARN_FACTOR_PER_WEEK = 2.0
COUNT_FAIL_FACTOR_PER_WEEK = 8.0
# Numeric: change per week relative to the larger of baseline and target. The unit is unknown
# (minutes? kilometres?), so a numeric pace is only ever called steep, never impossible.
NUMERIC_WARN_PER_WEEK = 0.25
# Time-bound.
MIN_GOAL_DAYS = 7  # shorter goals can't show a pattern
LONG_GOAL_DAYS = 365  # beyond 12 months, milestones keep a goal alive
MAX_GOAL_DAYS = 5 * 365 + 1  # five years, leap day included

# Curated vocabulary for titles (a title with any action word names a behaviour). Feeling and
# state words describe an outcome; vague verbs name a change without saying what you will do.
_ACTION_WORDS = """
    practice practise write journal walk run jog swim cycle bike stretch exercise call text phone
    email message attend sleep go use list spend say ask read meditate breathe eat drink cook visit
    meet join schedule plan track log record note tell share talk reach invite take complete finish
    limit cut wake turn put leave pause name notice check pray draw paint play sing volunteer apply
    study clean shower tidy hug thank express label rate review listen sit stand repeat replace give
    send reply respond count unplug switch pack prepare bring drive dance garden lift train yoga gym
    set book sort hold open rest nap smoke vape hike brush floss save pay fill identify challenge
    follow do keep make climb face catch answer rehearse ground wind
"""
_STATE_WORDS = """
    happy happier happiness sad sadder sadness unhappy anxious anxiety calm calmer calmness better
    worse good fine okay ok depressed depression stressed stress angry anger upset worried worry
    nervous scared afraid lonely confident confidence relaxed peaceful peace content positive
    negative hopeful motivated normal healed healthy healthier fit active productive organised
    organized mindful strong stronger safe overwhelmed irritable guilty guilt ashamed shame
    insecure jealous panic mood moods emotional present worthy enough
"""
_VAGUE_WORDS = """
    be am become feel get stay stop start try want wish hope need improve reduce increase decrease
    lower boost manage handle deal cope overcome fix change control avoid work learn less more
"""
ACTION_WORDS, STATE_WORDS, VAGUE_WORDS = (
    frozenset(words.split()) for words in (_ACTION_WORDS, _STATE_WORDS, _VAGUE_WORDS)
)

_TITLE_EXAMPLE = 'e.g. "Walk for 20 minutes after dinner on weekdays".'
_DATES = "Give dates as YYYY-MM-DD, with the target date about 8 to 12 weeks after the start."
_NUMBERS = "Enter where things stand now and where you want them as numbers, e.g. 1 and 4."
_SLOWER = "Give yourself more time (a later target date) or aim for a smaller first step."
_FIX_MEASURE_FIRST = "Fix the measure first (see measurable); then the pace can be checked."
_WHY = ('Add a sentence on why this matters to you, e.g. "Walking clears my head, and I want the '
        'energy to play with my kids."')  # fmt: skip

# Every text a report can show: code -> (message, suggestion). Placeholders only take numbers
# and fixed labels, never the goal's own words.
# fmt: off
TEXTS: dict[str, tuple[str, str]] = {
    "no_title": ("The goal needs a title that says what you will do.",
                 "Start the title with an action, " + _TITLE_EXAMPLE),
    "short_title": ("The title is too short to say what you will do.",
                    "Use at least 3 words naming the action and when, " + _TITLE_EXAMPLE),
    "state_title": ("The title describes a feeling or state rather than something you will do.",
                    'Name something you will do, e.g. "Write down one thing I feel each evening" '
                    'rather than "be happier".'),
    "vague_title": ("The title says what should change, but not the action you will take.",
                    'Name the action, e.g. "Put my phone in the kitchen at 9pm" rather than '
                    '"reduce screen time".'),
    "unknown_title": ("The title doesn't name a clear action.",
                      "Start the title with something you will do, " + _TITLE_EXAMPLE),
    "short_description": ("The description is missing or very short.",
                          "Add a sentence saying what you will do, where, when and with whom."),
    "no_measure": ("The goal has no measure yet, so progress can't be tracked.",
                   'Add a measure, e.g. name "Evening walks", unit "walks per week", kind "count", '
                   'direction "increase", baseline 1, target 4.'),
    "no_name": ("The measure needs a name.", 'Name what you will track, e.g. "Evening walks".'),
    "no_unit": ("The measure needs a unit.",
                'Say what one step means, e.g. "walks per week" or "hours per night".'),
    "no_kind": ("The measure needs a kind: numeric, count, scale or boolean.",
                'Use "count" for things you tally, "scale" for ratings such as 0 to 10, "numeric" '
                'for amounts such as hours, and "boolean" for yes or no.'),
    "no_direction": ("The measure needs a direction: increase, decrease or maintain.",
                     "Say whether the number should go up, go down or stay the same."),
    "no_baseline": ("The starting level (baseline) is missing or is not a number.", _NUMBERS),
    "no_target": ("The target is missing or is not a number.", _NUMBERS),
    "count_values": ("A count needs whole numbers of 0 or more.",
                     "Use whole numbers for the baseline and target, such as 0, 3 or 10."),
    "boolean_values": ("A yes-or-no measure uses 0 for no and 1 for yes.",
                       "Set the baseline and target to 0 or 1, e.g. baseline 0 and target 1."),
    "scale_ends": ("A rating scale needs a lowest and a highest value, lowest first.",
                   "Set the ends of the scale, e.g. scale_min 0 and scale_max 10."),
    "off_scale": ("The baseline and target must be on the scale, from {low} to {high}.",
                  "Pick values from {low} to {high}."),
    "increase": ("For an increase, the target must be higher than the baseline.",
                 "Raise the target above {baseline}, or change the direction."),
    "decrease": ("For a decrease, the target must be lower than the baseline.",
                 "Lower the target below {baseline}, or change the direction."),
    "maintain": ("To maintain a level, the target must equal the baseline.",
                 "Set the target to {baseline}, or choose increase or decrease."),
    "pace_no_measure": ("Whether the change is realistic can't be judged without a measure.",
                        _FIX_MEASURE_FIRST),
    "pace_off_scale": ("A level outside the rating scale can't be reached.",
                       "Keep the baseline and target from {low} to {high}."),
    "pace_bad_measure": ("The pace can't be judged until the measure's numbers agree.",
                         _FIX_MEASURE_FIRST),
    "pace_no_dates": ("The pace can't be judged without a start date before the target date.",
                      "Add valid start and target dates so the pace can be checked."),
    "pace_absurd": ("Going from {baseline} to {target} means a change of about {per_week} a week, "
                    "more than most people can manage.", _SLOWER),
    "pace_steep": ("Going from {baseline} to {target} means a change of about {per_week} a week, "
                   "a steep pace.", _SLOWER),
    "no_relevance": ("There's no note on why this goal matters to you.", _WHY),
    "short_relevance": ("The note on why this goal matters is very short.", _WHY),
    "no_category": ("The goal needs a category from the list.",
                    "Choose a category: " + ", ".join(c.replace("_", " ") for c in CATEGORIES)
                    + "."),
    "date_missing": ("The goal needs a {label}.", _DATES),
    "date_has_time": ("The {label} includes a time of day; only the date is needed.", _DATES),
    "date_invalid": ("The {label} is not a valid date.", _DATES),
    "target_past": ("The target date is today or already past.",
                    "Choose a target date in the future, e.g. 8 to 12 weeks from today."),
    "too_far": ("The goal stretches over more than 5 years.",
                "Set a target within 12 months; a bigger aim can become a series of goals."),
    "too_long": ("The goal stretches over more than 12 months.",
                 "Split it into shorter goals of about 3 months, each with its own target."),
    "start_after_target": ("The start date is after the target date.",
                           "Move the target date after the start date."),
    "too_short": ("The goal lasts less than a week, too short to show a pattern.",
                  "Allow at least 2 weeks between the start and target dates."),
}
# fmt: on

_FUTURE_STATE = re.compile(r"\bgoing to (?=(?:be|feel|get|become|stay)\b)")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RANK: dict[CriterionStatus, int] = {"pass": 0, "warn": 1, "fail": 2}
_FAIL_EXAMPLE: dict[str, Any] = {
    "status": "fail",
    "messages": [TEXTS["state_title"][0]],
    "suggestions": [TEXTS["state_title"][1]],
}
# What each criterion says when it passes (the checks below say the same).
_PASSED = {
    "specific": "The title names a clear action.",
    "measurable": "The measure is complete and its numbers agree.",
    "achievable": "The amount of change fits the time given.",
    "relevant": "The goal says why it matters and has a category.",
    "time_bound": "The goal has a start date and a realistic target date.",
}


class CriterionReport(BaseModel):
    """The verdict on one SMART criterion, with what to do about it."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_FAIL_EXAMPLE]})

    status: CriterionStatus = Field(description="`fail` blocks the goal; `warn` is advice only.")
    messages: list[str] = Field(description="What was found, in plain English.")
    suggestions: list[str] = Field(description="What to change; every `fail` has at least one.")


class SmartCriteria(BaseModel):
    model_config = ConfigDict(frozen=True)

    specific: CriterionReport = Field(description="The title names a behaviour, not a feeling.")
    measurable: CriterionReport = Field(description="The measure is complete and consistent.")
    achievable: CriterionReport = Field(description="The pace of change is realistic.")
    relevant: CriterionReport = Field(description="Why it matters to the client, and a category.")
    time_bound: CriterionReport = Field(description="Valid start and target dates, sensibly apart.")


_REPORT_EXAMPLE: dict[str, Any] = {
    "score": 4,
    "passed": False,
    "criteria": {
        **{
            name: {"status": "pass", "messages": [_PASSED[name]], "suggestions": []}
            for name in SmartCriteria.model_fields
        },
        "specific": _FAIL_EXAMPLE,
    },
}


class SmartReport(BaseModel):
    """A goal's SMART report. Warnings are advice; only a `fail` stops a goal from being SMART."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    score: int = Field(ge=0, le=5, description="How many of the five criteria pass outright.")
    passed: bool = Field(description="True when no criterion fails (warnings don't block).")
    criteria: SmartCriteria


class _Findings:
    """Collects findings for one criterion; its status is the worst finding's."""

    def __init__(self) -> None:
        self.status: CriterionStatus = "pass"
        self.messages: list[str] = []
        self.suggestions: list[str] = []

    def add(self, status: CriterionStatus, code: str, **values: float | str) -> None:
        shown = {k: _fmt(v) if isinstance(v, float) else v for k, v in values.items()}
        message, suggestion = (text.format(**shown) for text in TEXTS[code])
        self.status = max(self.status, status, key=_RANK.__getitem__)
        self.messages.append(message)
        if suggestion not in self.suggestions:
            self.suggestions.append(suggestion)

    def report(self, ok_message: str) -> CriterionReport:
        messages = self.messages or [ok_message]
        return CriterionReport(status=self.status, messages=messages, suggestions=self.suggestions)


@dataclass(frozen=True)
class _Measure:
    kind: str
    baseline: float
    target: float
    scale: tuple[float, float] | None  # (min, max), only for kind "scale"
    consistent: bool  # direction, bounds and kind rules all hold


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_ABS_VALUE else None


def _fmt(number: float) -> str:
    return f"{round(number, 2):g}"


def _parse_date(value: object) -> tuple[datetime.date | None, str]:
    """The date, or None and the code of the problem."""
    if value is None or value == "":
        return None, "date_missing"
    if isinstance(value, datetime.datetime):  # a subclass of date: don't drop the time silently
        return None, "date_has_time"
    if isinstance(value, datetime.date):
        return value, ""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value), ""
        except ValueError:  # e.g. 2025-02-30
            pass
    return None, "date_invalid"


def _word_forms(word: str) -> set[str]:
    """The word plus plausible base forms: walks, walking, walked -> walk; writing -> write."""
    forms = {word}
    if word.endswith("s"):
        forms |= {word[:-1], word[:-2], word[:-3] + "y"}  # walks, goes, tidies
    if word.endswith("ing"):
        forms |= {word[:-3], word[:-3] + "e", word[:-4]}  # walking, writing, running
    if word.endswith("ed"):
        forms |= {word[:-2], word[:-1], word[:-3]}  # walked, practised, planned
    return forms


def _title_kind(title: str) -> str:
    """'action', 'state' (feelings, no action), 'vague' (a change, no action) or 'unknown'."""
    forms: set[str] = set()
    title = _FUTURE_STATE.sub(" ", title.lower())  # "going to be calmer" is not about going
    for word in re.findall(r"[a-z]+", title):
        forms |= _word_forms(word)
    if forms & ACTION_WORDS:
        return "action"
    if forms & STATE_WORDS:
        return "state"
    return "vague" if forms & VAGUE_WORDS else "unknown"


def _check_specific(title: object, description: object) -> CriterionReport:
    found = _Findings()
    text = _text(title)
    if not text:
        found.add("fail", "no_title")
    else:
        if len(re.findall(r"[^\W_]+", text)) < MIN_TITLE_WORDS or len(text) < MIN_TITLE_CHARS:
            found.add("fail", "short_title")
        kind = _title_kind(text)
        if kind != "action":
            found.add("fail" if kind == "state" else "warn", f"{kind}_title")
    if len(_text(description)) < MIN_DESCRIPTION_CHARS:
        found.add("warn", "short_description")
    return found.report(_PASSED["specific"])


def _check_measurable(raw: object) -> tuple[CriterionReport, _Measure | None]:
    found = _Findings()
    if not isinstance(raw, Mapping):
        found.add("fail", "no_measure")
        return found.report(""), None
    for field in ("name", "unit"):
        if not _text(raw.get(field)):
            found.add("fail", f"no_{field}")
    kind, direction = raw.get("kind"), raw.get("direction")
    if kind not in MEASURE_KINDS:
        found.add("fail", "no_kind")
    if direction not in DIRECTIONS:
        found.add("fail", "no_direction")
    baseline, target = _number(raw.get("baseline")), _number(raw.get("target"))
    if baseline is None:
        found.add("fail", "no_baseline")
    if target is None:
        found.add("fail", "no_target")
    if kind not in MEASURE_KINDS or baseline is None or target is None:
        return found.report(""), None
    problems_before = len(found.messages)
    scale = None
    if kind == "count" and not all(v >= 0 and v.is_integer() for v in (baseline, target)):
        found.add("fail", "count_values")
    elif kind == "boolean" and not {baseline, target} <= {0.0, 1.0}:
        found.add("fail", "boolean_values")
    elif kind == "scale":
        low, high = _number(raw.get("scale_min")), _number(raw.get("scale_max"))
        if low is None or high is None or low >= high:
            found.add("fail", "scale_ends")
            return found.report(""), None
        scale = (low, high)
        if not (low <= baseline <= high and low <= target <= high):
            found.add("fail", "off_scale", low=low, high=high)
    # "maintain" means keeping today's level, so its target is the baseline itself; a different
    # target is a change, which should say whether it goes up or down.
    agrees = {"increase": target > baseline, "decrease": target < baseline}
    if direction in DIRECTIONS and not agrees.get(direction, target == baseline):
        found.add("fail", direction, baseline=baseline)
    consistent = len(found.messages) == problems_before and direction in DIRECTIONS
    measure = _Measure(kind, baseline, target, scale, consistent)
    return found.report(_PASSED["measurable"]), measure


def _check_achievable(
    measure: _Measure | None, start: datetime.date | None, end: datetime.date | None
) -> CriterionReport:
    found = _Findings()
    low, high = measure.scale if measure and measure.scale else (-math.inf, math.inf)
    if measure is None:
        found.add("warn", "pace_no_measure")
    elif not (low <= measure.baseline <= high and low <= measure.target <= high):
        found.add("fail", "pace_off_scale", low=low, high=high)
    elif not measure.consistent:
        found.add("warn", "pace_bad_measure")
    elif start is None or end is None or end <= start:
        found.add("warn", "pace_no_dates")
    else:
        _check_pace(found, measure, max((end - start).days / 7, MIN_PACE_WEEKS))
    return found.report(_PASSED["achievable"])


def _check_pace(found: _Findings, measure: _Measure, weeks: float) -> None:
    change = abs(measure.target - measure.baseline)
    if measure.kind == "boolean" or change == 0:
        return  # a yes/no switch or holding steady has no pace to judge
    if measure.scale:
        rate = change / (measure.scale[1] - measure.scale[0]) / weeks
        warn_at, fail_at = SCALE_WARN_PER_WEEK, SCALE_FAIL_PER_WEEK
    elif measure.kind == "count":
        low, high = sorted((measure.baseline, measure.target))
        rate = ((high + 1) / (low + 1)) ** (1 / weeks)
        warn_at, fail_at = COUNT_WARN_FACTOR_PER_WEEK, COUNT_FAIL_FACTOR_PER_WEEK
    else:
        rate = change / max(abs(measure.baseline), abs(measure.target)) / weeks
        warn_at, fail_at = NUMERIC_WARN_PER_WEEK, math.inf
    if rate > warn_at:
        code = "pace_absurd" if rate > fail_at else "pace_steep"
        numbers = {
            "baseline": measure.baseline,
            "target": measure.target,
            "per_week": change / weeks,
        }
        found.add("fail" if rate > fail_at else "warn", code, **numbers)


def _check_relevant(relevance: object, category: object) -> CriterionReport:
    found = _Findings()
    text = _text(relevance)
    if not text:
        found.add("fail", "no_relevance")
    elif len(text) < MIN_RELEVANCE_CHARS or len(text.split()) < MIN_RELEVANCE_WORDS:
        found.add("warn", "short_relevance")
    if category not in CATEGORIES:
        found.add("fail", "no_category")
    return found.report(_PASSED["relevant"])


def _check_time_bound(
    start: tuple[datetime.date | None, str],
    end: tuple[datetime.date | None, str],
    today: datetime.date,
) -> CriterionReport:
    found = _Findings()
    for label, (_, problem) in (("start date", start), ("target date", end)):
        if problem:
            found.add("fail", problem, label=label)
    begin, finish = start[0], end[0]
    if finish is not None:
        if finish <= today:
            found.add("fail", "target_past")
        # Measured from the start date or today, whichever is earlier (today if no usable start).
        origin = today if begin is None or begin > finish else min(begin, today)
        if (finish - origin).days > MAX_GOAL_DAYS:
            found.add("fail", "too_far")
        elif (finish - origin).days > LONG_GOAL_DAYS:
            found.add("warn", "too_long")
    if begin is not None and finish is not None:
        if begin > finish:
            found.add("fail", "start_after_target")
        elif (finish - begin).days < MIN_GOAL_DAYS:
            found.add("warn", "too_short")
    return found.report(_PASSED["time_bound"])


def evaluate_goal(goal: Mapping[str, Any], today: datetime.date) -> SmartReport:
    """The SMART report for a JSON-shaped goal. Never raises, whatever the goal holds."""
    data: Mapping[str, Any] = goal if isinstance(goal, Mapping) else {}
    if isinstance(today, datetime.datetime):
        today = today.date()
    start, end = _parse_date(data.get("start_date")), _parse_date(data.get("target_date"))
    measurable, measure = _check_measurable(data.get("measure"))
    criteria = SmartCriteria(
        specific=_check_specific(data.get("title"), data.get("description")),
        measurable=measurable,
        achievable=_check_achievable(measure, start[0], end[0]),
        relevant=_check_relevant(data.get("relevance"), data.get("category")),
        time_bound=_check_time_bound(start, end, today),
    )
    reports = [getattr(criteria, name) for name in SmartCriteria.model_fields]
    return SmartReport(
        score=sum(r.status == "pass" for r in reports),
        passed=all(r.status != "fail" for r in reports),
        criteria=criteria,
    )
