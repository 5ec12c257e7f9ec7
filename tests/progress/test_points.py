"""Where a new measurement falls among the points read before it (`with_measurement`), checked
against the rule stated plainly: sort everything by (time, id), keep what is since `since`
and the latest two."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from app.progress.points import IdentifiedSeries, Measured, Point, seconds, with_measurement

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
START = seconds(SINCE)
DAY = timedelta(days=1).total_seconds()
# Few distinct times and ids, so that ties in time, and ties at `since`, are common.
TIMES = st.sampled_from([START - 3 * DAY, START - DAY, START, START + DAY, START + 2 * DAY])
IDS = st.integers(min_value=1, max_value=40).map(lambda n: uuid.UUID(int=n))
POINT = st.tuples(TIMES, IDS, st.floats(min_value=0, max_value=10, allow_nan=False))


def read_by_query(points: list[Measured]) -> list[Measured]:
    """What the measurements query reads of `points`: by (time, id), every point since
    `since` and the latest two."""
    ordered = sorted(points)
    latest = ordered[-2:]
    return [point for point in ordered if point[0] >= START or point in latest]


def as_read(points: list[Measured]) -> IdentifiedSeries:
    read = read_by_query(points)
    return IdentifiedSeries(
        [at for at, _, _ in read], [id_ for _, id_, _ in read], [value for _, _, value in read]
    )


@given(
    points=st.lists(POINT, max_size=8, unique_by=lambda point: point[1]),
    new=POINT,
)
@example(points=[], new=(START, uuid.UUID(int=1), 1.0))  # nothing read before
@example(  # a tie in time: the new one goes after the smaller id, before the larger
    points=[(START, uuid.UUID(int=1), 1.0), (START, uuid.UUID(int=3), 3.0)],
    new=(START, uuid.UUID(int=2), 2.0),
)
@example(  # everything before `since`: only the latest two are kept
    points=[(START - 3 * DAY, uuid.UUID(int=1), 1.0), (START - DAY, uuid.UUID(int=2), 2.0)],
    new=(START - DAY, uuid.UUID(int=3), 3.0),
)
def test_a_new_measurement_falls_where_the_query_would_read_it(
    points: list[Measured], new: Measured
) -> None:
    if any(id_ == new[1] for _, id_, _ in points):
        new = (new[0], uuid.UUID(int=99), new[2])  # ids are unique
    found = with_measurement(as_read(points), new, since=SINCE)
    expected = [Point(at, value) for at, _, value in read_by_query([*points, new])]
    assert list(found) == expected
