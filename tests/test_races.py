"""Two processes at once, and what a dead one leaves behind (issue 9: 9, 10, 14)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pv_assets.collection.staging import OWNER_FILE, clean_stale, run_staging_dir
from pv_assets.operations.station_lock import StationBusy, station_lock
from pv_simulator import SimStationSpec
from resources.object_store import LocalDirObjectStore
from tests.conftest import write_registry
from tests.test_faults import expected_count, media_keys

ROOT = Path(__file__).resolve().parents[1]


def test_two_first_collections_of_one_station_at_once_fetch_every_file_once(
    simulator_factory, tmp_path, monkeypatch, staging_dir
):
    # Slow media, so the two runs overlap; a fresh DAGSTER_HOME, so both set the instance up at once.
    sim = simulator_factory([SimStationSpec("ST-0001", records=12, seed=95)], bandwidth_bytes_per_s=400_000)
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "fresh_home"),
        "PV_LOCAL_STORE": str(tmp_path / "store"),
        "PV_STAGING_DIR": str(staging_dir),
    }
    env.pop("MINIO_ENDPOINT", None)
    command = [sys.executable, "-m", "pv_assets.cli", "collect", "--station", "ST-0001", "--stations", str(registry)]
    children = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=240) for child in children]
    codes = [child.returncode for child in children]
    for _out, errors in outputs:
        assert "Traceback" not in errors and "already exists" not in errors, errors[-2000:]
    # The runs overlap (slow media): one collects, the other is refused, saying why.
    assert sorted(codes) == [0, 1], outputs
    [refused] = [out for (out, _), code in zip(outputs, codes, strict=True) if code != 0]
    # Refused by the station lock, or (if the other run had already ended its look) by the run it found.
    by = r"station ST-0001 is being collected by another process \(pid \d+\)|already being collected by run \S+"
    assert re.search(rf"ST-0001 failed: (?:{by}); not started twice", refused), refused
    expected = expected_count(sim, "ST-0001")
    assert len(media_keys(LocalDirObjectStore(tmp_path / "store"))) == expected
    # Every station file fetched once, whichever way the race went (CDN files too: media_gets counts both).
    assert sim.station("ST-0001").media_gets == expected


def test_the_station_lock_is_exclusive_between_processes_and_reentrant_within_one(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pv_assets.operations.station_lock import station_lock\n"
            "with station_lock('ST-0001', Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StationBusy, match=rf"being collected by another process \(pid {holder.pid}\)"):
            with station_lock("ST-0001", tmp_path):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel dropped the dead holder's lock: no stale lock file blocks the station.
    with station_lock("ST-0001", tmp_path), station_lock("ST-0001", tmp_path):
        pass


def test_stale_cleanup_removes_only_directories_pv_media_marked(tmp_path):
    shared = tmp_path / "shared"
    reports = shared / "quarterly-reports"
    reports.mkdir(parents=True)
    (reports / "q3.xlsx").write_text("someone else's")
    old = time.time() - 3 * 24 * 3600
    os.utime(reports, (old, old))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ours = shared / "run-of-a-dead-process"
    with run_staging_dir(shared, "run-of-a-dead-process"):
        marker = (ours / OWNER_FILE).read_text()
    ours.mkdir()
    (ours / OWNER_FILE).write_text(marker.replace(f'"pid": {os.getpid()}', f'"pid": {dead.pid}'))
    assert clean_stale(shared) == ["run-of-a-dead-process"]
    assert (reports / "q3.xlsx").read_text() == "someone else's"


def test_a_copy_into_the_local_store_killed_mid_way_leaves_nothing_the_next_run_keeps(tmp_path):
    fifo = tmp_path / "never-ending"
    os.mkfifo(fifo)
    root = tmp_path / "store"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from resources.object_store import LocalDirObjectStore\n"
            "LocalDirObjectStore(Path(sys.argv[1])).put_file('RC-1/ST-1/a.jpg', Path(sys.argv[2]), 'image/jpeg', {})",
            str(root),
            str(fifo),
        ],
        cwd=ROOT,
    )
    with open(fifo, "wb") as feed:  # the copy is in progress while we hold the pipe open
        feed.write(b"\xff\xd8\xff" + b"x" * 70_000)
        feed.flush()
        deadline = time.monotonic() + 30
        while not list(root.rglob(".tmp-*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the temporary file, with a deadline
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert list(root.rglob(".tmp-*")), "the killed copy left its temporary file"
    store = LocalDirObjectStore(root)
    assert list(store.list_prefix("RC-1/ST-1/")) == []
    assert list(root.rglob(".tmp-*")) == []  # the next run's listing removed what the dead one left
