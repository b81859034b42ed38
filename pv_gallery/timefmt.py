"""Times as the group reads them: in its time zone (PV_GALLERY_TIME_ZONE), to the minute, zone named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def local_time(value: str | None, zone: str) -> str:
    """'2026-11-15T10:00:00+00:00' -> '2026-11-15 18:00' in Asia/Shanghai; '' for nothing; as given when
    it is not a time (an index written by other code)."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    when = when if when.tzinfo else when.replace(tzinfo=UTC)  # the producers write UTC
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def zone_label(zone: str, now: datetime | None = None) -> str:
    """'Asia/Shanghai (UTC+08:00)': the name and its current offset, for the page's legend."""
    offset = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).strftime("%z")
    return f"{zone} (UTC{offset[:3]}:{offset[3:]})"
