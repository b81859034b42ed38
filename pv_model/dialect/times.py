"""Station times: a strftime pattern, epoch seconds or epoch milliseconds, both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EPOCH_MS = "epoch_ms"
EPOCH_S = "epoch_s"


def format_time(when: datetime, time_format: str) -> str:
    """A datetime as the station wants it: a strftime pattern, epoch seconds or epoch milliseconds."""
    if time_format == EPOCH_MS:
        return str(int(when.timestamp() * 1000))
    if time_format == EPOCH_S:
        return str(int(when.timestamp()))
    return when.strftime(time_format)


def parse_time(value: Any, time_format: str, tz: Any = UTC) -> datetime | None:
    """A station's time as an aware datetime (None when it does not read), the inverse of format_time."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if time_format in (EPOCH_MS, EPOCH_S):
            number = float(value)
            return datetime.fromtimestamp(number / 1000 if time_format == EPOCH_MS else number, tz)
        return datetime.strptime(str(value).strip(), time_format).replace(tzinfo=tz)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
