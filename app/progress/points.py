"""A goal's measurements as a summary reads them: each a Point (POSIX seconds and a value),
and a goal's in time order a Series, as the database sends them."""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple, overload


class Point(NamedTuple):
    """One recorded (non-retracted) measurement. A tuple: hundreds are made per summary at a
    million events, and a frozen dataclass costs half as much again to build.

    Its time is POSIX seconds, not a datetime: asyncpg makes a datetime of each timestamp in
    about 0.6 µs, nearly all a summary of 500 points spent decoding them, and the fit would
    only turn them into numbers again. A float holds every microsecond exactly and in order
    until the year 2242 (below 2**33 seconds its step is under a microsecond), and PostgreSQL
    (`date_part('epoch', …)`) and Python (`seconds`) round the same microseconds to the same
    float: both divide the exact count of microseconds by 10**6, correctly rounded."""

    at: float  # POSIX seconds (UTC)
    value: float


def seconds(at: datetime) -> float:
    """A timezone-aware datetime as a Point's time."""
    return at.timestamp()


def moment(at: float) -> datetime:
    """A Point's time as a timezone-aware UTC datetime, to the microsecond it was stored to."""
    return datetime.fromtimestamp(at, UTC)


_AT = itemgetter(0)  # a Point's `at`, as a sort key without a Python call per point
_VALUE = itemgetter(1)


# A recorded measurement as the database orders them: by time (POSIX seconds), then id.
Measured = tuple[float, uuid.UUID, float]


def points(times: Iterable[float], values: Iterable[float]) -> list[Point]:
    """Points from parallel columns. `tuple.__new__` builds each in C: `Point(at, value)`
    runs the named tuple's Python `__new__` once per point."""
    return list(map(tuple.__new__, repeat(Point), zip(times, values, strict=True)))


class Series(Sequence[Point]):
    """Points in time order, held as two parallel lists: as the database sends a goal's
    measurements (its `times` and `values` arrays, sorted by its query: see
    `app.progress.figures._in_order`; the order is not checked here). The fit reads the
    lists themselves, and a Point is made only of the few a summary looks at one by one (the
    latest two, a run at target): a summary at a million events fits about 400 points, and
    making, sorting and unpacking a Point of each cost more than the fit's arithmetic."""

    __slots__ = ("times", "values")

    def __init__(self, times: list[float], values: list[float]) -> None:
        if len(times) != len(values):
            raise ValueError("A series needs a value for each time.")
        self.times = times
        self.values = values

    @classmethod
    def of(cls, measurements: Iterable[Point]) -> Series:
        """Points in any order; those sharing a time keep their order."""
        ordered = sorted(measurements, key=_AT)
        return cls(list(map(_AT, ordered)), list(map(_VALUE, ordered)))

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> Series: ...

    def __getitem__(self, index: int | slice) -> Point | Series:
        if isinstance(index, slice):
            return Series(self.times[index], self.values[index])
        return Point(self.times[index], self.values[index])

    def between(self, start: float, end: float) -> Series:
        """The points from `start` to `end`, both included."""
        first = bisect_left(self.times, start)
        return self[first : bisect_right(self.times, end, lo=first)]


def in_time_order(measurements: Sequence[Point]) -> Series:
    """`measurements` as a Series: as they are if already one, else sorted."""
    if isinstance(measurements, Series):
        return measurements
    return Series.of(measurements)


class IdentifiedSeries(Series):
    """A goal's measurements as recording progress reads them (`Series`), with each point's
    event id: where a new measurement falls among points of the same time (the query orders
    ties by id)."""

    __slots__ = ("ids",)

    def __init__(self, times: list[float], ids: list[uuid.UUID], values: list[float]) -> None:
        super().__init__(times, values)
        if len(ids) != len(times):
            raise ValueError("An identified series needs an id for each time.")
        self.ids = ids


def with_measurement(read: IdentifiedSeries, new: Measured, *, since: datetime) -> Series:
    """The points the measurements query would read once `new` is recorded too, from what it
    read before: every point since `since`, and the latest two whenever they were. The latest
    two of all are among what it read (those before `since` are read for being them), so the
    latest two after `new` are the latest two of what it read and `new`: the points kept run
    from the first since `since`, or the second to last if that is earlier. Ties in time are
    ordered by id, as the query orders them. Lists are copied and sliced, never a point made:
    hundreds of points per goal at a million events."""
    at, id_, value = new
    place = bisect_left(read.times, at)
    while place < len(read) and read.times[place] == at and read.ids[place] < id_:
        place += 1
    times, values = read.times.copy(), read.values.copy()
    times.insert(place, at)
    values.insert(place, value)
    first = max(0, min(bisect_left(times, seconds(since)), len(times) - 2))
    return Series(times[first:], values[first:])
