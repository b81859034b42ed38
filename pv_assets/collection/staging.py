"""Per-run staging directories for downloads: created for a run, removed whatever happens.

A run killed with SIGKILL cannot clean up after itself, so every run first removes the
staging directories of runs that are no longer alive on this host.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

OWNER_FILE = "owner.json"
CREATED_BY = "pv-media"
# A directory pv-media marked on another host is only removed once this old.
FOREIGN_MAX_AGE_S = 24 * 3600


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(run_dir: Path, now: float | None = None) -> bool:
    """A staging directory of a dead pv-media run. Only directories pv-media created and marked as
    its own count: PV_STAGING_DIR may point at a shared folder with other programs' directories."""
    now = time.time() if now is None else now
    try:
        owner = json.loads((run_dir / OWNER_FILE).read_text("utf-8"))
        if not isinstance(owner, dict) or owner.get("created_by") != CREATED_BY:
            return False
        if owner.get("host") == socket.gethostname():
            return not pid_alive(int(owner["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:  # marked by pv-media on another host: removed once old
        return now - run_dir.stat().st_mtime > FOREIGN_MAX_AGE_S
    except OSError:
        return False


def clean_stale(root: Path) -> list[str]:
    """Remove staging directories of dead runs; returns their names."""
    removed = []
    if not root.is_dir():
        return removed
    for child in sorted(root.iterdir()):
        if child.is_dir() and is_stale(child):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed


@contextlib.contextmanager
def run_staging_dir(root: Path, run_id: str) -> Iterator[Path]:
    """A fresh directory for this run's staging files, removed on the way out."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / OWNER_FILE).write_text(
        json.dumps(
            {"created_by": CREATED_BY, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        ),
        "utf-8",
    )
    try:
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def leftover_files(root: Path) -> list[Path]:
    """Staging files (not owner markers) under root: what must be empty after a run."""
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.name != OWNER_FILE]
