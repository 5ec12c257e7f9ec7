"""Which day of a client's calendar a moment falls on, for hundreds of moments a summary.

A client summary at a million events reads about 150 habit completions, each a POSIX time
(see `app.progress.points.Point`). `datetime.fromtimestamp(at, zone).date()` costs about
half a microsecond each; a zone's UTC offset changes only a few times a year, so it is looked
up once per UTC day and zone, and a moment's day is then a dictionary read and arithmetic
(about a fifth less for 150 completions: small, but paid by every habit in every summary).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

_DAY = 86_400
_EPOCH = date(1970, 1, 1).toordinal()
# Per zone, its UTC offset on each UTC day seen (days since 1970-01-01). A habit looks back 180
# days, so a zone's days rarely pass a few hundred; a zone's are dropped past this many.
_KEPT_DAYS = 4_096
_OFFSETS: dict[ZoneInfo, dict[int, int | None]] = {}


def _offset_all_day(zone: ZoneInfo, utc_day: int) -> int | None:
    """The zone's UTC offset in seconds through the whole UTC day `utc_day`, or None on a
    day it changes. Offsets change on whole seconds, and never twice in a day and back."""
    first = datetime.fromtimestamp(utc_day * _DAY, zone).utcoffset()
    last = datetime.fromtimestamp(utc_day * _DAY + _DAY - 1, zone).utcoffset()
    if first is None or first != last:
        return None
    return int(first.total_seconds())


def local_days(zone: ZoneInfo, moments: Iterable[float]) -> list[int]:
    """Each POSIX time's date in `zone`, as its proleptic ordinal (`date.toordinal`). Times
    are whole microseconds, as the database stores them: `fromtimestamp` rounds a finer one
    to the microsecond, which may carry it into the next day, where this does not."""
    offsets = _OFFSETS.setdefault(zone, {})
    if len(offsets) > _KEPT_DAYS:
        offsets.clear()
    days = []
    for at in moments:
        utc_day = int(at // _DAY)
        try:
            offset = offsets[utc_day]
        except KeyError:
            offset = offsets[utc_day] = _offset_all_day(zone, utc_day)
        if offset is None:  # a day the clocks change: look this moment up on its own
            days.append(datetime.fromtimestamp(at, zone).toordinal())
        else:
            days.append(int((at + offset) // _DAY) + _EPOCH)
    return days
