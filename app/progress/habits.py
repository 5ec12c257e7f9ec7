"""Habit strength: Loop Habit Tracker's score of how well a recurring step is kept.

Pure functions, no I/O and no clock, like `app.progress.summary`: the caller passes the days.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from datetime import date
from itertools import repeat
from operator import mul, sub, truediv

# Loop Habit Tracker's decay: multiplier m = 0.5 ** (sqrt(f) / 13), so a daily habit's score
# halves after 13 days of no completions.
HABIT_HALF_LIFE_DAYS = 13.0
# Habits due less than once a day (weekly ones) are judged over the trailing two weeks, as Loop
# does: it doubles such a habit's numerator and denominator (n in 7 days -> 2n in 14) to smooth
# out irregular schedules, such as a weekly habit kept on different days of the week.
HABIT_SPARSE_WINDOW_DAYS = 14
HABIT_DECIMALS = 4


def _credited_days(done_on: list[int], window: int, days: int) -> list[int]:
    """The days, in order, with a completion in the `window` days up to them (from the day
    offsets `done_on`): the only days that earn credit."""
    credited: list[int] = []
    following = 0  # the first day not credited yet: `done_on` is in order
    for done in done_on:
        credited.extend(range(max(done, following), min(done + window, days)))
        following = max(following, done + window)
    return credited


def habit_strength(
    completion_days: Iterable[date], *, start: date, end: date, times_per_day: float
) -> float:
    """Loop Habit Tracker's score, 0..1, on `end`.

    f = `times_per_day` (daily n times -> n, weekly n times -> n / 7) and
    m = 0.5 ** (sqrt(f) / 13). The score starts at 0 and, for each day from `start` to `end`
    inclusive, s <- s * m + done * (1 - m), where `done` is the share of what was due:

    * f >= 1: completions that day / f, capped at 1 (repeat a date for several a day);
    * f < 1 (weekly): completions in the trailing 14 days / (14 * f), capped at 1, so keeping
      "3 times a week" earns full credit every day rather than 3/7 of it, and a week with one
      completion fewer after one with one more still does (as Loop does: ScoreList.recompute).

    Completions outside `start..end` are ignored. Rounded to HABIT_DECIMALS.
    """
    return habit_strength_on_days(
        map(date.toordinal, completion_days),
        start=start.toordinal(),
        end=end.toordinal(),
        times_per_day=times_per_day,
    )


def habit_strength_on_days(
    completion_days: Iterable[int], *, start: int, end: int, times_per_day: float
) -> float:
    """`habit_strength` with each day as its proleptic ordinal (`date.toordinal`): a summary
    gets its completions' days as numbers (`local_days`), and makes no date of each."""
    if not (math.isfinite(times_per_day) and times_per_day > 0):
        raise ValueError("times_per_day must be a positive number")
    days = max(0, end - start + 1)
    # Completions on each day, by offset from `start`; those outside start..end are ignored.
    per_day = Counter(map(sub, completion_days, repeat(start)))
    done_on = sorted(per_day)
    done_on = done_on[bisect_left(done_on, 0) : bisect_left(done_on, days)]
    if len(done_on) < len(per_day):  # a weekly habit's window looks back before `start`
        per_day = Counter({day: per_day[day] for day in done_on})
    multiplier = 0.5 ** (math.sqrt(times_per_day) / HABIT_HALF_LIFE_DAYS)
    if times_per_day >= 1:
        score = _daily_score(done_on, per_day, days=days, due=times_per_day, multiplier=multiplier)
    else:
        score = _sparse_score(done_on, per_day, days=days, due=times_per_day, multiplier=multiplier)
    return round(min(max(score, 0.0), 1.0), HABIT_DECIMALS)


def _daily_score(
    done_on: list[int], per_day: Counter[int], *, days: int, due: float, multiplier: float
) -> float:
    """The score of a habit due at least once a day, on the last of `days`: each day's credit
    only decays afterwards, so the score is their sum, each decayed for the days since, and
    `map` works it out over C functions, with no Python code run per day (a daily habit kept
    for 180 days is 180 days of credit in every summary of its goal)."""
    last = days - 1
    decays = map(pow, repeat(multiplier), map(sub, repeat(last), done_on))
    if due == 1:  # a day with any completion earns full credit
        credited: float = sum(decays)
    else:
        counts = map(per_day.__getitem__, done_on)
        credited = sum(map(mul, decays, map(min, repeat(1.0), map(truediv, counts, repeat(due)))))
    return credited * (1 - multiplier)


def _sparse_score(
    done_on: list[int], per_day: Counter[int], *, days: int, due: float, multiplier: float
) -> float:
    """The score of a habit due less than once a day, walked over the days that earn credit
    (those with a completion in the trailing window: `_credited_days`)."""
    window = HABIT_SPARSE_WINDOW_DAYS
    due_in_window = due * window
    score = 0.0
    scored = 0  # the days before this one are in `score`
    in_window = 0  # completions in the `window` days up to the day being scored
    completions_on = per_day.get
    for day in _credited_days(done_on, window, days):
        if day > scored:
            # Nothing due was done in between: each of those days only decays the score, so
            # they go in one step (a habit kept now and then costs a step per completion,
            # not one per day of the 180), and none of them counts in this day's window.
            score *= multiplier ** (day - scored)
            in_window = completions_on(day, 0)
        else:
            in_window += completions_on(day, 0) - completions_on(day - window, 0)
        score = score * multiplier + min(1.0, in_window / due_in_window) * (1 - multiplier)
        scored = day + 1
    if days > scored:
        score *= multiplier ** (days - scored)
    return score
