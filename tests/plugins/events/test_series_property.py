"""Weekly series keep the local wall-clock time in any time zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.events.services import weekly_starts

ZONES = ["Europe/Berlin", "Europe/Stockholm", "America/New_York", "Australia/Sydney", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
    weeks=st.integers(min_value=1, max_value=52),
)
def test_weekly_starts_keep_weekday_and_local_time(zone, start, weeks):
    tz = ZoneInfo(zone)
    start_utc = start.replace(second=0, microsecond=0, tzinfo=UTC)
    local = start_utc.astimezone(tz)
    starts = weekly_starts(start_utc, zone, weeks)
    assert len(starts) == weeks
    for k, item in enumerate(starts, start=1):
        assert item.tzinfo is not None
        here = item.astimezone(tz)
        assert here.date() == local.date() + timedelta(weeks=k)
        assert here.weekday() == local.weekday()
        # the same wall-clock time, unless it does not exist that day (spring-forward gap)
        round_trip = here.replace(tzinfo=None) == (local.replace(tzinfo=None) + timedelta(weeks=k))
        gap = item.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != item.replace(tzinfo=None)
        assert round_trip or gap
    assert starts == sorted(starts)
