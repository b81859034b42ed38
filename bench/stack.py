"""A production-shaped Dagster deployment on this machine, for the PostgreSQL tests and `make scale`:
a database of its own on the PostgreSQL server, an instance from conf/dagster-postgres.yaml, and the
code server and the daemon as separate processes (as `dagster code-server start` and
`dagster-daemon run` run in production)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def pg_host() -> str:
    return os.environ.get("PV_TEST_PG_HOST") or PG_HOST


def pg_port() -> int:
    return int(os.environ.get("PV_TEST_PG_PORT") or PG_PORT)


def pg_user() -> str:
    return os.environ.get("PV_TEST_PG_USER") or PG_USER


def _connect(dbname: str = "postgres"):
    import psycopg2

    return psycopg2.connect(host=pg_host(), port=pg_port(), user=pg_user(), dbname=dbname, connect_timeout=3)


def postgres_unavailable() -> str | None:
    """None when the PostgreSQL server answers; else why not, for a skip message."""
    try:
        _connect().close()
    except Exception as exc:  # any driver error means: no server to test against
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {pg_host()}:{pg_port()} (user {pg_user()}) does not answer: {first}"
    return None


@contextlib.contextmanager
def temporary_database(prefix: str = "pv_media_test") -> Iterator[dict[str, str]]:
    """A new database, dropped afterwards; yields the DAGSTER_PG_* variables of conf/dagster-postgres.yaml."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connection = _connect()
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield {
            "DAGSTER_PG_HOST": pg_host(),
            "DAGSTER_PG_PORT": str(pg_port()),
            "DAGSTER_PG_USER": pg_user(),
            "DAGSTER_PG_PASSWORD": os.environ.get("PV_TEST_PG_PASSWORD", ""),
            "DAGSTER_PG_DB": name,
        }
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def table_stats(db_name: str, tables: tuple[str, ...] = ("event_logs", "runs")) -> dict[str, dict[str, int]]:
    """Rows and on-disk bytes (with indexes and TOAST) of the instance's tables."""
    connection = _connect(db_name)
    try:
        with connection.cursor() as cursor:
            stats = {}
            for table in tables:
                cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")  # noqa: S608
                rows, size = cursor.fetchone()
                stats[table] = {"rows": int(rows), "bytes": int(size)}
            return stats
    finally:
        connection.close()


def write_production_home(home: Path, *, max_concurrent_runs: int | None = None, overrides: dict | None = None) -> Path:
    """DAGSTER_HOME with conf/dagster-postgres.yaml, its run limit and intervals adjusted for a short test."""
    config = yaml.safe_load((ROOT / "conf" / "dagster-postgres.yaml").read_text("utf-8"))
    if max_concurrent_runs is not None:
        config["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent_runs
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return home


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DagsterStack:
    """The code server and the daemon of one instance, as child processes (own process groups)."""

    home: Path
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.home / "workspace.yaml"

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_file = log  # type: ignore[attr-defined]
        self.processes[name] = process
        return process

    def start_code_server(self, timeout_s: float = 120.0) -> None:
        from resources.dagster_private import code_server_loaded

        bindir = Path(sys.executable).parent
        process = self._spawn(
            "code-server",
            [str(bindir / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(self.port),
             "-m", "pv_assets.definitions", "--location-name", "pv_media"],
        )  # fmt: skip
        self.workspace.write_text(
            yaml.safe_dump(
                {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": self.port, "location_name": "pv_media"}}]}
            ),
            "utf-8",
        )
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the code server exited with {process.returncode}: {self.log_tail('code-server')}")
            # `code-server start` answers before its definitions have loaded: wait until they have.
            with contextlib.suppress(Exception):  # not listening yet, or still loading
                if code_server_loaded("127.0.0.1", self.port):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the code server did not answer within {timeout_s:.0f} s")
            time.sleep(0.25)

    def start_daemon(self) -> None:
        bindir = Path(sys.executable).parent
        self._spawn("daemon", [str(bindir / "dagster-daemon"), "run", "-w", str(self.workspace)])

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        text = path.read_text("utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.log_file.close()  # type: ignore[attr-defined]
        self.processes.clear()


@contextlib.contextmanager
def dagster_stack(home: Path, env: dict[str, str], *, daemon: bool = True) -> Iterator[DagsterStack]:
    """Code server (and daemon) for the instance at `home`, stopped on the way out."""
    full_env = {**os.environ, **env, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    stack = DagsterStack(home, full_env, home)
    try:
        stack.start_code_server()
        if daemon:
            stack.start_daemon()
        yield stack
    finally:
        stack.stop()


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most runs alive at one time, from their (start, end) times."""
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = level = 0
    for _, step in points:
        level += step
        peak = max(peak, level)
    return peak
