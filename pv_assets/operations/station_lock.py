"""One collection of a station at a time, guarded by a lock the operating system holds.

Looking for runs in progress and then starting one is a race: two `pv-media collect` of the
same station started together both saw none and both fetched every file. An exclusive `flock`
on `<instance root, i.e. $DAGSTER_HOME>/locks/<station>.lock` is atomic, and the kernel drops it when the process
dies (even by SIGKILL), so a dead collection never blocks its station.

Within one process the lock is re-entrant: the CLI takes it before it starts the run, and the
run's collecting step (which also runs for daemon-launched runs) takes it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from pv_model.keys import safe_segment
from resources.settings import dagster_home

_held: dict[str, tuple[int, int]] = {}  # station id -> (fd, depth) held by this process
_guard = threading.Lock()


class StationBusy(RuntimeError):
    """Another process is collecting this station now."""


def lock_path(station_id: str, home: Path | None = None) -> Path:
    return (home or dagster_home()) / "locks" / f"{safe_segment(station_id, 'station id')}.lock"


@contextlib.contextmanager
def station_lock(station_id: str, home: Path | None = None) -> Iterator[None]:
    """Hold the station's lock for the block, or raise StationBusy at once."""
    with _guard:
        if station_id in _held:
            fd, depth = _held[station_id]
            _held[station_id] = (fd, depth + 1)
        else:
            path = lock_path(station_id, home)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise StationBusy(f"station {station_id} is being collected by another process{holder}") from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            _held[station_id] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[station_id]
            if depth > 1:
                _held[station_id] = (fd, depth - 1)
            else:
                del _held[station_id]
                os.close(fd)  # closing the descriptor releases the lock


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def setup_lock(home: Path) -> Iterator[None]:
    """Serialises setting up a fresh Dagster instance: two first runs creating its SQLite tables at once
    crashed with `table secondary_indexes already exists`."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / ".pv-media-setup.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
