"""Knobs of the sensors and the daily pass at scale, read from the environment when asked (never at import)."""

from __future__ import annotations

import os


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise ValueError(f"{name}={value}: must be at least {minimum}")
    return value


def first_runs_per_tick() -> int:
    """PV_REGISTRY_FIRST_RUNS_PER_TICK: first runs the registry sensor requests per tick (default 500);
    all new stations become partitions at once, their first runs follow on later ticks."""
    return _int("PV_REGISTRY_FIRST_RUNS_PER_TICK", 500, 1)


def change_probe_workers() -> int:
    """PV_CHANGE_SENSOR_WORKERS: stations the change sensor probes at once (default 16; one probe per station)."""
    return _int("PV_CHANGE_SENSOR_WORKERS", 16, 1)


def daily_run_priority() -> int:
    """PV_DAILY_PRIORITY: dagster/priority of the daily pass's runs (default -1): the queue launches higher
    priorities first, so sensor runs (0) are not stuck behind 10,000 daily runs."""
    return _int("PV_DAILY_PRIORITY", -1, -1000)


def daily_runs_per_minute() -> float:
    """PV_DAILY_RUNS_PER_MINUTE: station runs the deployment completes per minute (default 12, what `make scale`
    measured at 4 concurrent runs on a 2-core machine), only to say how long a full daily pass takes."""
    raw = os.environ.get("PV_DAILY_RUNS_PER_MINUTE")
    try:
        value = float(raw) if raw else 12.0
    except ValueError:
        raise ValueError(f"PV_DAILY_RUNS_PER_MINUTE={raw!r}: expected a number") from None
    if value <= 0:
        raise ValueError(f"PV_DAILY_RUNS_PER_MINUTE={value}: must be above 0")
    return value
