"""Start the benchmark's servers as child processes: moto's S3 server and the station simulator."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from bench.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
S3_KEYS = {"MINIO_ACCESS_KEY": "bench-access", "MINIO_SECRET_KEY": "bench-secret-key-0123456789"}


def _wait(condition, what: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout:.0f} s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields host:port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500
        except requests.RequestException:
            return False

    try:
        _wait(up, "moto S3 server", process)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(process)


@contextlib.contextmanager
def simulator(specs: list[dict], latency_ms: float = 0.0, one_port: bool = False) -> Iterator[dict]:
    """The station simulator in its own process; yields its registry entries, credentials and counts."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sim.json"
        spec_file = Path(tmp) / "specs.json"  # thousands of specs do not fit a command line
        spec_file.write_text(json.dumps(specs), "utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.sim_main", "@" + str(spec_file), str(out), "--latency-ms", str(latency_ms)]
            + (["--one-port"] if one_port else []),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(out.exists, "station simulator", process)
            info = json.loads(out.read_text("utf-8"))
            os.environ.update(info["env"])
            yield info
        finally:
            _stop(process)
