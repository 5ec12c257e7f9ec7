"""`local_days` against the plain reading it replaces, `datetime.fromtimestamp(at, zone)`,
in every zone a client may live in, on ordinary days and on the days clocks change."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.progress.days import local_days

# Every zone a client may name (app.clients.schemas accepts these).
ZONES = st.sampled_from(sorted(zoneinfo.available_timezones())).map(zoneinfo.ZoneInfo)
# 1900 to 2100, to the microsecond.
MOMENTS = st.floats(min_value=-2.2e9, max_value=4.1e9).map(lambda at: round(at, 6))


def plainly(zone: zoneinfo.ZoneInfo, moments: list[float]) -> list[int]:
    return [datetime.fromtimestamp(at, zone).toordinal() for at in moments]


@given(zone=ZONES, moments=st.lists(MOMENTS, max_size=30))
def test_any_moment_in_any_zone(zone: zoneinfo.ZoneInfo, moments: list[float]) -> None:
    assert local_days(zone, moments) == plainly(zone, moments)


CHANGING = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
            "Pacific/Chatham", "America/St_Johns", "Africa/Casablanca", "Asia/Kolkata"]  # fmt: skip


@pytest.mark.parametrize("name", CHANGING)
def test_every_quarter_hour_of_three_years(name: str) -> None:
    """Zones whose clocks change (by half an hour on Lord Howe, at odd offsets on the Chatham
    Islands and in Newfoundland) and one whose do not: every quarter of an hour, and the
    second and microsecond either side of it, from 2025 to 2027."""
    zone = zoneinfo.ZoneInfo(name)
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    quarters = [start + 900 * n for n in range(3 * 366 * 96)]
    moments = [at + nudge for at in quarters for nudge in (-1, -1e-6, 0, 1e-6, 1)]
    assert local_days(zone, moments) == plainly(zone, moments)
