"""`make scale`: pv-media as a production Dagster deployment on this machine, measured.

PostgreSQL-backed instances (a fresh database per phase, dropped afterwards), the code server and
`dagster-daemon run` as separate processes, moto's S3 server and the station simulator (all
stations on one port) as their own processes. Prints a table and, as its last line, one JSON object.

Phases (sizes are options; the defaults are the issue's):
  registry   --stations N registry entries: cold load (fresh process); registry sensor first tick
             (partitions added, first runs requested) and an unchanged tick, on PostgreSQL and SQLite
  change     --change-stations M stations: the change sensor's ticks, probes per minute, share of
             stations looked at within their poll_interval_s (the clock moved, not waited for)
  runs       --runs R small stations collected by daemon-launched runs at each --k K: the registry
             sensor, a manual `collect` and the daily schedule (fired once, ~2 min in) request the same stations
  overhead   a run with nothing to download: in-process (`pv-media collect`, SQLite) and daemon-launched
             (PostgreSQL): wall and CPU seconds, event-log rows and bytes per run, extrapolated to 10,000/day
  daily      --daily-stations S stations with nothing new: the daily schedule's batch runs (--batch-size)
             against one run per station (--daily-baseline of them), same stack: CPU per station of the
             run workers with the code server, the daemon and PostgreSQL; event log per station
  sigkill    a run worker killed with SIGKILL: time until it is marked failed, the retry, staging left;
             then a batch worker killed while it collects a station: its station run ended, the retry

Quick look: python -m bench.scale --stations 2000 --change-stations 200 --runs 12 --k 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.servers import S3_KEYS, s3_server, simulator
from bench.stack import (
    dagster_stack,
    max_overlap,
    postgres_unavailable,
    table_stats,
    temporary_database,
    write_production_home,
)

ROOT = Path(__file__).resolve().parents[1]
DAY_RUNS = 10_000


def small_station(station_id: str, seed: int, records: int = 2) -> dict:
    return {
        "station_id": station_id,
        "records": records,
        "seed": seed,
        "quirks": False,
        "all_picked_up": True,
        "photos_per_record": [1, 1],
        "photo_size": [2_000, 6_000],
        "max_connections": 2,
    }


def write_registry(path: Path, entries: list[dict]) -> Path:
    from pv_simulator import write_registry as write_registry_file

    write_registry_file(path, entries)
    return path


def synthetic_entries(count: int) -> list[dict]:
    """Registry entries for the registry phase: nothing is called, so no server answers them."""
    return [
        {
            "id": f"ST-{i:05d}",
            "name": f"光伏电站 {i}",
            "base_url": f"http://127.0.0.1:9/s/ST-{i:05d}",
            "region_company_code": "RC-320100",
            "account_env": f"ST_{i:05d}_ACCOUNT",
            "password_env": f"ST_{i:05d}_PASSWORD",
            "max_connections": 2,
        }
        for i in range(count)
    ]


def _wait_for(condition: Callable[[], object], what: str, timeout_s: float, stack=None, poll_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if stack is not None:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited while waiting for {what}:\n{stack.log_tail(name)}")
        if time.monotonic() > deadline:
            tail = stack.log_tail("daemon") if stack is not None else ""
            raise RuntimeError(f"{what}: not within {timeout_s:.0f} s\n{tail}")
        time.sleep(poll_s)


def sqlite_instance(home: Path):
    from dagster import DagsterInstance

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((ROOT / "conf" / "dagster.yaml").read_text("utf-8"), "utf-8")
    return DagsterInstance.from_config(str(home))


# ----------------------------------------------------------------------------------------------- registry


def cold_registry_load(path: Path) -> dict:
    code = (
        "import sys, time; t0 = time.perf_counter(); from resources.registry import load_registry; "
        "t1 = time.perf_counter(); r = load_registry(sys.argv[1]); t2 = time.perf_counter(); "
        "import json; print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'stations': len(r.ids())}))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def registry_ticks(instance, registry: Path) -> dict:
    from dagster import build_sensor_context

    from pv_assets.operations.sensors import station_registry_sensor
    from pv_assets.partitions import STATION_PARTITIONS_NAME
    from resources.dagster_resources import StationApiResource

    api = StationApiResource(stations_file=str(registry))
    # A new version of the file: the first tick parses it, as the first tick after a code server start or an edit.
    stamp = time.time_ns()
    os.utime(registry, ns=(stamp, stamp))
    with build_sensor_context(instance=instance, resources={"station_api": api}) as context:
        started = time.perf_counter()
        first = station_registry_sensor(context)
        first_s = time.perf_counter() - started
    [add] = first.dynamic_partitions_requests
    started = time.perf_counter()
    instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, list(add.partition_keys))  # what the daemon does
    apply_s = time.perf_counter() - started
    # An unchanged registry with no first run left to request.
    empty_cursor = json.dumps({"v": 1, "pending": []})
    with build_sensor_context(instance=instance, cursor=empty_cursor, resources={"station_api": api}) as context:
        started = time.perf_counter()
        unchanged = station_registry_sensor(context)
        unchanged_s = time.perf_counter() - started
    assert not unchanged.run_requests
    return {
        "first_tick_s": round(first_s, 3),
        "apply_partitions_s": round(apply_s, 3),
        "partitions_added": len(add.partition_keys),
        "first_runs_requested": len(first.run_requests),
        "first_runs_left_for_later_ticks": len(json.loads(first.cursor)["pending"]),
        "unchanged_tick_s": round(unchanged_s, 3),
    }


def phase_registry(args, work: Path) -> dict:
    from dagster import DagsterInstance

    registry = write_registry(work / "registry-scale.yaml", synthetic_entries(args.stations))
    result = {"stations": args.stations, "cold_load": cold_registry_load(registry)}
    with temporary_database("pv_media_scale") as pg_env:
        os.environ.update(pg_env)
        instance = DagsterInstance.from_config(str(write_production_home(work / "home-registry-pg")))
        try:
            result["postgres"] = registry_ticks(instance, registry)
        finally:
            instance.dispose()
    instance = sqlite_instance(work / "home-registry-sqlite")
    try:
        result["sqlite"] = registry_ticks(instance, registry)
    finally:
        instance.dispose()
    return result


# ----------------------------------------------------------------------------------------------- change sensor


def phase_change(args, work: Path) -> dict:
    from dagster import DagsterInstance, build_sensor_context

    from pv_assets.operations import sensors
    from pv_assets.operations.change_cursor import ChangeCursor
    from pv_assets.partitions import STATION_PARTITIONS_NAME
    from resources.dagster_resources import StationApiResource
    from resources.settings import settings

    ids = [f"CH-{i:05d}" for i in range(args.change_stations)]
    specs = [small_station(s, i, records=3) for i, s in enumerate(ids)]
    with simulator(specs, one_port=True) as sim, temporary_database("pv_media_scale") as pg_env:
        registry = write_registry(work / "registry-change.yaml", sim["entries"])
        os.environ.update(pg_env)
        instance = DagsterInstance.from_config(str(write_production_home(work / "home-change")))
        instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, ids)
        api = StationApiResource(stations_file=str(registry))
        clock = [datetime.now(UTC)]
        real_clock = sensors.utc_now
        sensors.utc_now = lambda: clock[0]
        cursor, ticks, looked_within = None, [], set()
        interval_s = 900
        try:
            # One simulated minute per tick over one poll interval (+1 tick): every station is due once.
            for _ in range(interval_s // 60 + 1):
                with build_sensor_context(instance=instance, cursor=cursor, resources={"station_api": api}) as ctx:
                    before = ChangeCursor.from_json(cursor).stations
                    started = time.perf_counter()
                    result = station_change_sensor_call(sensors, ctx)
                    elapsed = time.perf_counter() - started
                cursor = result.cursor
                after = ChangeCursor.from_json(cursor).stations
                looked = [s for s, w in after.items() if w.checked_at and (s not in before or
                          before[s].checked_at != w.checked_at)]  # fmt: skip
                looked_within.update(looked)
                ticks.append({"duration_s": round(elapsed, 3), "looked": len(looked)})
                clock[0] += timedelta(seconds=60)
        finally:
            sensors.utc_now = real_clock
            instance.dispose()
    busy = [t for t in ticks if t["looked"]]
    probes = sum(t["looked"] for t in busy)
    busy_s = sum(t["duration_s"] for t in busy)
    per_minute = probes / busy_s * 60 if busy_s else 0.0
    return {
        "stations": args.change_stations,
        "workers": settings().change_sensor_workers,
        "max_per_tick": settings().change_sensor_max_per_tick,
        "tick_budget_s": settings().change_sensor_budget_s,
        "ticks": len(ticks),
        "first_tick_s": ticks[0]["duration_s"],
        "first_tick_looked": ticks[0]["looked"],
        "probes_per_minute": round(per_minute, 1),
        "share_looked_within_interval": round(len(looked_within) / len(ids), 4),
        "minutes_to_cover_10000": round(DAY_RUNS / per_minute, 1) if per_minute else None,
    }


def station_change_sensor_call(sensors, context):
    return sensors.station_change_sensor(context)


# ----------------------------------------------------------------------------------------------- daemon runs


def run_intervals(instance) -> list[dict]:
    from dagster import RunsFilter

    rows = []
    for record in instance.get_run_records(RunsFilter(job_name="collect_station")):
        run = record.dagster_run
        rows.append(
            {
                "run_id": run.run_id,
                "station": run.tags.get("dagster/partition"),
                "trigger": run.tags.get("pv-media/trigger", "retry" if run.parent_run_id else "?"),
                "status": run.status.value,
                "start": record.start_time,
                "end": record.end_time,
            }
        )
    return rows


def busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of the intervals: the time at least one run was in progress."""
    total, end_so_far = 0.0, None
    for start, end in sorted(intervals):
        if end_so_far is None or start > end_so_far:
            total += end - start
            end_so_far = end
        elif end > end_so_far:
            total += end - end_so_far
            end_so_far = end
    return total


def stored_sha256_by_station(endpoint: str, bucket: str) -> dict[str, list[str]]:
    import hashlib

    from resources.object_store import MinioObjectStore

    store = MinioObjectStore(endpoint, S3_KEYS["MINIO_ACCESS_KEY"], S3_KEYS["MINIO_SECRET_KEY"], bucket)
    found: dict[str, list[str]] = {}
    for obj in store.list_prefix(""):
        if obj.key.startswith("_pv-media/"):
            continue
        found.setdefault(obj.key.split("/")[1], []).append(hashlib.sha256(store.get_bytes(obj.key)).hexdigest())
    return {station: sorted(values) for station, values in found.items()}


def stack_env(s3: str, bucket: str, registry: Path, staging: Path, pg_env: dict, sim_env: dict, **extra) -> dict:
    return {
        **sim_env,
        **pg_env,
        "MINIO_ENDPOINT": s3,
        "MINIO_BUCKET": bucket,
        "MINIO_SECURE": "false",
        **S3_KEYS,
        "PV_STATIONS_FILE": str(registry),
        "PV_STAGING_DIR": str(staging),
        **extra,
    }


def phase_runs(args, work: Path, s3: str, k: int) -> dict:
    from dagster import DagsterInstance, RunsFilter

    from pv_assets.operations.batch import BATCH_JOB_NAME
    from pv_assets.operations.run_queue import submit_station_runs
    from pv_assets.partitions import STATION_PARTITIONS_NAME

    ids = [f"RN{k}-{i:04d}" for i in range(args.runs)]
    manual_ids = ids[: max(1, len(ids) // 10)]
    bucket = f"scale-runs-k{k}"
    with (
        simulator([small_station(s, i) for i, s in enumerate(ids)], one_port=True) as sim,
        temporary_database("pv_media_scale") as pg_env,
    ):
        registry = write_registry(work / f"registry-runs-{k}.yaml", sim["entries"])
        staging = work / f"staging-runs-{k}"
        # The daily schedule, fired once during the phase: its cron names a minute about two minutes ahead.
        # (A schedule's run keys dedupe within a tick only: an every-minute cron would refresh every minute.)
        fire = datetime.now(UTC) + timedelta(seconds=120)
        env = stack_env(s3, bucket, registry, staging, pg_env, sim["env"], PV_REFRESH_TIMEZONE="UTC",
                        PV_REFRESH_CRON=f"{fire.minute} {fire.hour} * * *",
                        PV_DAILY_BATCH_SIZE=str(args.batch_size))  # fmt: skip
        os.environ.update(env)
        home = write_production_home(
            work / f"home-runs-{k}",
            max_concurrent_runs=k,
            overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}},
        )
        with dagster_stack(home, env) as stack:
            instance = DagsterInstance.from_config(str(home))
            started = time.monotonic()
            _wait_for(lambda: len(instance.get_dynamic_partitions(STATION_PARTITIONS_NAME)) == len(ids),
                      "the registry sensor's first tick", 300, stack)  # fmt: skip
            submit_station_runs(instance, manual_ids, trigger="manual", workspace=stack.workspace)

            batches = -(-len(ids) // args.batch_size)

            def all_done():
                rows = run_intervals(instance)
                batch_runs = instance.get_runs(RunsFilter(job_name=BATCH_JOB_NAME))
                finished = all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in rows)
                return finished and len(batch_runs) == batches and all(b.is_finished for b in batch_runs) and rows

            rows = _wait_for(all_done, "every run (sensor, manual, schedule) to finish", args.run_timeout, stack, 1.0)
            wall = time.monotonic() - started
            batch_runs = instance.get_runs(RunsFilter(job_name=BATCH_JOB_NAME))
            reports = [batch_report_of(instance, b.run_id) for b in batch_runs]
            instance.dispose()
        expected = sim["expected_sha256"]
    stored = stored_sha256_by_station(s3, bucket)
    launched = [r for r in rows if r["start"] is not None]
    per_station = {}
    for r in launched:
        per_station.setdefault(r["station"], []).append((r["start"], r["end"]))
    first_start = min(r["start"] for r in launched)
    last_end = max(r["end"] for r in launched)
    return {
        "k": k,
        "stations": len(ids),
        "runs": len(rows),
        "runs_by_trigger": {t: sum(1 for r in rows if r["trigger"] == t) for t in sorted({r["trigger"] for r in rows})},
        "failed_runs": sum(1 for r in rows if r["status"] != "SUCCESS"),
        # The schedule's batch runs: a station whose sensor or manual run was in progress is left to that run.
        "daily_batch_runs": len(reports),
        "daily_stations_left_to_a_run_in_progress": sum(
            sum("already being collected" in row["error"] for row in r.get("not_collected", [])) for r in reports
        ),
        # Over the time some run was in progress (the wait for the schedule's minute does not count).
        "runs_per_minute": round(len(launched) / busy_seconds([(r["start"], r["end"]) for r in launched]) * 60, 1),
        "first_start_to_last_end_s": round(last_end - first_start, 1),
        "wall_s": round(wall, 1),
        "max_overlap": max_overlap([(r["start"], r["end"]) for r in launched]),
        "max_overlap_per_station": max(max_overlap(v) for v in per_station.values()),
        "stored_equals_simulator_sha256": all(stored.get(s, []) == expected[s] for s in ids),
        "stations_mismatched": [s for s in ids if stored.get(s, []) != expected[s]][:5],
    }


# ----------------------------------------------------------------------------------------------- overhead


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has waited for (run workers, once reaped)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                children.append(int(entry.name))
    return children + [d for c in children for d in _descendants(c)]


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants, living or reaped."""
    total = 0.0
    for pid in [root, *_descendants(root)]:
        try:
            total += _proc_cpu(pid)
        except OSError:
            continue
    return total


def code_server_cpu(stack) -> float:
    return tree_cpu(stack.processes["code-server"].pid)


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process (its backends are its children), if it runs on this machine."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if (
                stat.split("(", 1)[1].startswith("postgres)")
                and "postgres)" not in Path(f"/proc/{parent}/stat").read_text()
            ):
                return int(entry.name)
        except (OSError, IndexError, ValueError):
            continue
    return None


def deployment_cpu(stack, postgres: int | None) -> dict[str, float]:
    """CPU seconds so far of the code server with its run workers, the daemon, and PostgreSQL."""
    return {
        "run_workers_and_code_server": code_server_cpu(stack),
        "daemon": tree_cpu(stack.processes["daemon"].pid),
        "postgres": tree_cpu(postgres) if postgres else 0.0,
    }


def cli_collect(station_id: str, env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of `pv-media collect --station X` as a new process, as a user runs it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "pv-media"), "collect", "--station", station_id], cwd=ROOT,
                   env=env, check=True, capture_output=True)  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def phase_overhead(args, work: Path, s3: str) -> dict:
    from dagster import DagsterInstance

    from pv_assets.operations.run_queue import follow_runs, submit_station_runs
    from pv_assets.partitions import STATION_PARTITIONS_NAME

    station = "NOOP-0001"
    bucket = "scale-overhead"
    result: dict = {"noop_runs": args.noop_runs}
    with simulator([small_station(station, 1, records=4)], one_port=True) as sim:
        registry = write_registry(work / "registry-noop.yaml", sim["entries"])
        # In-process, the embedded default: `pv-media collect` on SQLite.
        home = work / "home-noop-sqlite"
        env = {**os.environ, **stack_env(s3, bucket, registry, work / "staging-noop", {}, sim["env"]),
               "DAGSTER_HOME": str(home), "PV_DAGSTER_YAML": str(ROOT / "conf" / "dagster.yaml")}  # fmt: skip
        env.pop("PV_DEPLOYMENT", None)
        cli_collect(station, env)  # the first collection stores everything; the runs measured find nothing new
        size_before = sum(p.stat().st_size for p in home.rglob("*.db"))
        samples = [cli_collect(station, env) for _ in range(args.noop_runs)]
        size_after = sum(p.stat().st_size for p in home.rglob("*.db"))
        result["in_process_sqlite"] = {
            "wall_s": round(sum(s[0] for s in samples) / len(samples), 2),
            "cpu_s": round(sum(s[1] for s in samples) / len(samples), 2),
            "sqlite_bytes_per_run": round((size_after - size_before) / len(samples)),
        }
        # Daemon-launched on PostgreSQL.
        with temporary_database("pv_media_scale") as pg_env:
            env = stack_env(s3, bucket, registry, work / "staging-noop-pg", pg_env, sim["env"])
            os.environ.update(env)
            home = write_production_home(
                work / "home-noop-pg", overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}}
            )
            with dagster_stack(home, env) as stack:
                instance = DagsterInstance.from_config(str(home))
                _wait_for(
                    lambda: instance.get_dynamic_partitions(STATION_PARTITIONS_NAME), "registry sensor", 300, stack
                )

                def first_run_done():
                    rows = run_intervals(instance)
                    return rows and all(r["status"] == "SUCCESS" for r in rows)

                _wait_for(first_run_done, "the first run", 300, stack)
                stats_before = table_stats(pg_env["DAGSTER_PG_DB"])
                cpu_before = code_server_cpu(stack)
                walls, run_walls = [], []
                for _ in range(args.noop_runs):
                    started = time.perf_counter()
                    runs = submit_station_runs(instance, [station], trigger="manual", workspace=stack.workspace)
                    [summary] = follow_runs(instance, runs, poll_s=0.1, timeout_s=300)
                    walls.append(time.perf_counter() - started)
                    record = instance.get_run_record_by_id(summary.run_id)
                    run_walls.append(record.end_time - record.start_time)
                    assert summary.ok and summary.counts.get("uploaded") == 0, summary
                cpu = code_server_cpu(stack) - cpu_before
                stats_after = table_stats(pg_env["DAGSTER_PG_DB"])
                instance.dispose()
        rows = (stats_after["event_logs"]["rows"] - stats_before["event_logs"]["rows"]) / args.noop_runs
        size = (stats_after["event_logs"]["bytes"] - stats_before["event_logs"]["bytes"]) / args.noop_runs
        result["daemon_postgres"] = {
            "submit_to_end_wall_s": round(sum(walls) / len(walls), 2),
            "run_start_to_end_s": round(sum(run_walls) / len(run_walls), 2),
            "code_server_cpu_s_per_run": round(cpu / args.noop_runs, 2),
            "event_log_rows_per_run": round(rows, 1),
            "event_log_bytes_per_run": round(size),
            "event_log_rows_per_day_10000": round(rows * DAY_RUNS),
            "event_log_mib_per_day_10000": round(size * DAY_RUNS / 2**20, 1),
        }
    return result


# ----------------------------------------------------------------------------------------------- daily pass


def phase_daily(args, work: Path, s3: str) -> dict:
    """The daily pass over stations with nothing new, daemon-launched on PostgreSQL: batch runs (the
    schedule's own requests) against one run per station (as the sensors request them), same stack,
    same stations, CPU of every process of the deployment per station."""
    from dagster import DagsterInstance, RunsFilter, build_schedule_context

    from pv_assets.operations.batch import BATCH_JOB_NAME, collect_stations_in_batch
    from pv_assets.operations.run_queue import follow_runs, submit_runs, submit_station_runs
    from pv_assets.operations.schedules import build_daily_full_refresh
    from pv_assets.partitions import STATION_PARTITIONS_NAME
    from resources.dagster_resources import StationApiResource

    ids = [f"DY-{i:05d}" for i in range(args.daily_stations)]
    sample = ids[: args.daily_baseline]
    with (
        simulator([small_station(s, i) for i, s in enumerate(ids)], one_port=True) as sim,
        temporary_database("pv_media_scale") as pg_env,
    ):
        # Looked at by the change sensor once a day only: its probes are not what is measured here.
        entries = [{**e, "poll_interval_s": 86_400} for e in sim["entries"]]
        registry = write_registry(work / "registry-daily.yaml", entries)
        env = stack_env(s3, "scale-daily", registry, work / "staging-daily", pg_env, sim["env"],
                        PV_DAILY_BATCH_SIZE=str(args.batch_size))  # fmt: skip
        os.environ.update(env)
        home = write_production_home(
            work / "home-daily",
            max_concurrent_runs=args.daily_k,
            overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}},
        )
        instance = DagsterInstance.from_config(str(home))
        # Partitions already: the registry sensor finds nothing new and requests no first runs.
        instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, ids)
        schedule = build_daily_full_refresh(batch_size=args.batch_size)
        postgres = postmaster_pid()
        with dagster_stack(home, env) as stack:

            def daily_pass(skip_unchanged: bool) -> dict:
                with build_schedule_context(
                    instance=instance,
                    resources={"station_api": StationApiResource(stations_file=str(registry))},
                    scheduled_execution_time=datetime.now(UTC),
                ) as context:
                    requests = schedule(context)
                for request in requests:  # the schedule's requests, PV_DAILY_SKIP_UNCHANGED chosen per pass
                    batch_config = request.run_config["ops"][collect_stations_in_batch.name]["config"]
                    batch_config["skip_unchanged"] = skip_unchanged
                cpu_before, events_before = deployment_cpu(stack, postgres), table_stats(pg_env["DAGSTER_PG_DB"])
                started = time.monotonic()
                batch_ids = submit_runs(instance, BATCH_JOB_NAME, [(r.run_config, r.tags) for r in requests],
                                        workspace=stack.workspace)  # fmt: skip

                def finished():
                    runs = instance.get_runs(RunsFilter(run_ids=batch_ids))
                    return len(runs) == len(batch_ids) and all(r.is_finished for r in runs) and runs

                runs = _wait_for(finished, "the daily pass's batch runs", args.run_timeout, stack, 1.0)
                wall = time.monotonic() - started
                # The gallery index runs the pass caused are part of its cost.
                _wait_for(lambda: quiet(instance), "the gallery index to catch up", args.run_timeout, stack, 1.0)
                reports = [batch_report_of(instance, run_id) for run_id in batch_ids]
                return {
                    "worker_startup_cpu_s": sum(r.get("worker_startup_cpu_s", 0) for r in reports),
                    "unchanged": sum(r.get("unchanged", 0) for r in reports),
                    "stations_cpu_s": sum(r.get("stations_cpu_s", 0) for r in reports),
                    "batch_runs": len(batch_ids),
                    "batch_runs_failed": sum(r.status.value != "SUCCESS" for r in runs),
                    "wall_s": wall,
                    "window_s": time.monotonic() - started,
                    "cpu": _minus(deployment_cpu(stack, postgres), cpu_before),
                    "events": _minus(table_stats(pg_env["DAGSTER_PG_DB"])["event_logs"], events_before["event_logs"]),
                }

            first = daily_pass(skip_unchanged=True)  # stores every file: the passes below find nothing new
            batched = daily_pass(skip_unchanged=False)  # a run for every station
            skipping = daily_pass(skip_unchanged=True)  # no run where a run could change nothing
            # What the deployment burns with no pass at all (sensor ticks, the daemon's loops): it runs all day,
            # pass or not, so the pass's own cost is its CPU minus this rate over the pass's window.
            idle_before, idle_started = deployment_cpu(stack, postgres), time.monotonic()
            runs_before_idle = instance.get_runs_count()
            time.sleep(args.idle_s)
            runs_during_idle = instance.get_runs_count() - runs_before_idle  # 0, or the idle rate is not idle
            idle_cpu, idle_s = _minus(deployment_cpu(stack, postgres), idle_before), time.monotonic() - idle_started
            idle_rate = {k: v / idle_s for k, v in idle_cpu.items()}
            cpu_before, events_before = deployment_cpu(stack, postgres), table_stats(pg_env["DAGSTER_PG_DB"])
            started = time.monotonic()
            runs = submit_station_runs(instance, sample, trigger="manual", workspace=stack.workspace)
            summaries = follow_runs(instance, runs, poll_s=0.5, timeout_s=args.run_timeout)
            wall = time.monotonic() - started
            _wait_for(lambda: quiet(instance), "the gallery index to catch up", args.run_timeout, stack, 1.0)
            single = {
                "wall_s": wall,
                "window_s": time.monotonic() - started,
                "cpu": _minus(deployment_cpu(stack, postgres), cpu_before),
                "events": _minus(table_stats(pg_env["DAGSTER_PG_DB"])["event_logs"], events_before["event_logs"]),
                "failed": sum(not s.ok for s in summaries),
                "uploaded": sum(s.counts.get("uploaded", 0) for s in summaries),
            }
            station_runs = [r for r in run_intervals(instance) if r["trigger"] == "daily"]
            instance.dispose()
        expected = sim["expected_sha256"]
    stored = stored_sha256_by_station(s3, "scale-daily")

    def per_station(part: dict, stations: int) -> dict:
        cpu = {k: round(v / stations, 3) for k, v in part["cpu"].items()}
        marginal = {k: round((v - idle_rate[k] * part["window_s"]) / stations, 3) for k, v in part["cpu"].items()}
        return {
            "cpu_s_per_station": round(sum(part["cpu"].values()) / stations, 3),
            "cpu_s_per_station_by_process": cpu,
            # The deployment's CPU over the pass minus what it burns idle over as long: what the pass costs.
            "cpu_s_per_station_of_the_pass": round(sum(marginal.values()), 3),
            "cpu_s_per_station_of_the_pass_by_process": marginal,
            "stations_per_minute": round(stations / part["wall_s"] * 60, 1),
            "event_log_rows_per_station": round(part["events"]["rows"] / stations, 1),
            "event_log_bytes_per_station": round(part["events"]["bytes"] / stations),
        }

    batch_figures = per_station(batched, len(ids))
    skip_figures = per_station(skipping, len(ids))
    # The batch workers' own account (process CPU): start-up, and the stations' runs after it.
    batch_figures["batch_worker_cpu_s_per_station"] = {
        "startup": round(batched["worker_startup_cpu_s"] / len(ids), 3),
        "stations": round(batched["stations_cpu_s"] / len(ids), 3),
    }
    single_figures = per_station(single, len(sample))
    return {
        "stations": len(ids),
        "idle_cpu_s_per_minute": {k: round(v * 60, 2) for k, v in idle_rate.items()},
        "runs_during_idle": runs_during_idle,
        "batch_size": args.batch_size,
        "k": args.daily_k,
        "first_pass_batch_runs_failed": first["batch_runs_failed"],
        "batched": {
            **batch_figures,
            "batch_runs": batched["batch_runs"],
            "batch_runs_failed": batched["batch_runs_failed"],
        },
        # The default pass (PV_DAILY_SKIP_UNCHANGED): every station's records fetched, no run where none was needed.
        "batched_skipping_unchanged": {
            **skip_figures,
            "stations_left_out": skipping["unchanged"],
            "batch_runs_failed": skipping["batch_runs_failed"],
        },
        "one_run_per_station": {
            **single_figures,
            "stations": len(sample),
            "failed": single["failed"],
            "uploaded": single["uploaded"],
        },  # fmt: skip
        "cpu_ratio_one_run_per_station_to_batched": round(
            single_figures["cpu_s_per_station"] / batch_figures["cpu_s_per_station"], 2
        ),
        "station_runs_of_batches": len(station_runs),
        "station_runs_of_batches_failed": sum(r["status"] != "SUCCESS" for r in station_runs),
        "hours_for_10000_stations_batched": round(DAY_RUNS / batch_figures["stations_per_minute"] / 60, 1),
        "hours_for_10000_stations_default": round(DAY_RUNS / skip_figures["stations_per_minute"] / 60, 1),
        "cpu_hours_for_10000_stations": {
            "default": round(skip_figures["cpu_s_per_station"] * DAY_RUNS / 3600, 2),
            "batched": round(batch_figures["cpu_s_per_station"] * DAY_RUNS / 3600, 2),
            "one_run_per_station": round(single_figures["cpu_s_per_station"] * DAY_RUNS / 3600, 2),
        },
        "stored_equals_simulator_sha256": all(stored.get(s, []) == expected[s] for s in ids),
    }


def quiet(instance) -> bool:
    """No run queued or running, and the gallery index built by a run that started after the last gallery
    piece was written (an index run already going when the last piece landed leaves the sensor one more)."""
    from dagster import AssetKey, RunsFilter

    from pv_assets.operations.jobs import IN_PROGRESS_STATUSES

    if instance.get_runs_count(RunsFilter(statuses=IN_PROGRESS_STATUSES)):
        return False
    piece = instance.fetch_materializations(AssetKey("gallery_piece"), limit=1).records
    if not piece:
        return True
    index = instance.fetch_materializations(AssetKey("gallery_index"), limit=1).records
    if not index:
        return False
    index_run = instance.get_run_record_by_id(index[0].run_id)
    return bool(index_run and index_run.start_time and index_run.start_time > piece[0].timestamp)


def batch_report_of(instance, run_id: str) -> dict:
    """The metadata of a batch run's report (its op's output)."""
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.is_successful_output:
            return {k: v.value for k, v in event.step_output_data.metadata.items()}
    return {}


def _minus(after: dict, before: dict) -> dict:
    return {k: after[k] - before[k] for k in after}


# ----------------------------------------------------------------------------------------------- SIGKILL


def phase_sigkill(args, work: Path, s3: str) -> dict:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from pv_assets.collection.staging import leftover_files
    from pv_assets.operations.run_queue import follow_runs

    station = "KILL-0001"
    spec = {**small_station(station, 7, records=8), "photos_per_record": [2, 2], "max_connections": 1}
    bucket = "scale-sigkill"
    staging = work / "staging-kill"
    with simulator([spec], latency_ms=200, one_port=True) as sim, temporary_database("pv_media_scale") as pg_env:
        registry = write_registry(work / "registry-kill.yaml", sim["entries"])
        env = stack_env(s3, bucket, registry, staging, pg_env, sim["env"])
        os.environ.update(env)
        home = write_production_home(
            work / "home-kill", overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}}
        )
        with dagster_stack(home, env) as stack:
            instance = DagsterInstance.from_config(str(home))

            def staging_run():
                runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
                return runs and (staging / runs[0].run_id / "owner.json").exists() and runs[0]

            run = _wait_for(staging_run, "the run worker to start staging", 300, stack, 0.05)
            pid = json.loads((staging / run.run_id / "owner.json").read_text("utf-8"))["pid"]
            os.kill(int(pid), signal.SIGKILL)
            killed = time.monotonic()
            _wait_for(lambda: instance.get_run_by_id(run.run_id).is_finished, "marked failed", 120, stack, 0.05)
            marked_s = time.monotonic() - killed
            [summary] = follow_runs(instance, {station: run.run_id}, poll_s=0.2, timeout_s=300)
            again_s = time.monotonic() - killed
            status = instance.get_run_by_id(run.run_id).status.value
            instance.dispose()
        expected = sim["expected_sha256"][station]
    stored = stored_sha256_by_station(s3, bucket).get(station, [])
    return {
        "killed_run_status": status,
        "marked_failed_s": round(marked_s, 2),
        "collected_again_by_retry": summary.ok and summary.run_id != run.run_id,
        "kill_to_retry_done_s": round(again_s, 1),
        "stored_equals_simulator_sha256": stored == expected,
        "staging_files_left": len(leftover_files(staging)),
        "staging_dirs_left": len(list(staging.iterdir())) if staging.exists() else 0,
    }


def phase_sigkill_batch(args, work: Path, s3: str) -> dict:
    """A batch worker killed with SIGKILL while it collects a station: the station run it leaves, the retry."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from pv_assets.collection.staging import leftover_files
    from pv_assets.operations.batch import BATCH_JOB_NAME, batch_run_request
    from pv_assets.operations.run_queue import submit_runs
    from pv_assets.partitions import STATION_PARTITIONS_NAME

    ids = [f"KILLB-{i:04d}" for i in range(3)]
    specs = [{**small_station(s, 20 + i, records=8), "photos_per_record": [2, 2], "max_connections": 1}
             for i, s in enumerate(ids)]  # fmt: skip
    bucket = "scale-sigkill-batch"
    staging = work / "staging-kill-batch"
    with simulator(specs, latency_ms=200, one_port=True) as sim, temporary_database("pv_media_scale") as pg_env:
        registry = write_registry(work / "registry-kill-batch.yaml", sim["entries"])
        env = stack_env(s3, bucket, registry, staging, pg_env, sim["env"])
        os.environ.update(env)
        home = write_production_home(
            work / "home-kill-batch", overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}}
        )
        instance = DagsterInstance.from_config(str(home))
        instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, ids)  # no first runs: the batch collects them
        with dagster_stack(home, env) as stack:
            request = batch_run_request(ids)
            [batch_id] = submit_runs(instance, BATCH_JOB_NAME, [(request.run_config, request.tags)],
                                     workspace=stack.workspace)  # fmt: skip

            def staging_station_run():
                runs = instance.get_runs(RunsFilter(job_name="collect_station", statuses=[DagsterRunStatus.STARTED]))
                return runs and (staging / runs[0].run_id / "owner.json").exists() and runs[0]

            station_run = _wait_for(staging_station_run, "the batch's first station run to stage", 300, stack, 0.05)
            pid = json.loads((staging / station_run.run_id / "owner.json").read_text("utf-8"))["pid"]
            os.kill(int(pid), signal.SIGKILL)  # the batch worker: its station runs execute in its process
            killed = time.monotonic()
            _wait_for(lambda: instance.get_run_by_id(station_run.run_id).is_finished,
                      "the orphaned station run marked failed", 300, stack, 0.1)  # fmt: skip
            orphan_ended_s = time.monotonic() - killed

            def retry_done():
                retries = instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": batch_id}))
                return retries and retries[0].is_finished and retries[0]

            retry = _wait_for(retry_done, "the batch's retry", 600, stack, 0.5)
            retry_s = time.monotonic() - killed
            orphan = instance.get_run_by_id(station_run.run_id)
            result = {
                "killed_batch_status": instance.get_run_by_id(batch_id).status.value,
                "orphaned_station_run_status": orphan.status.value,
                "orphaned_station_run_ended_s": round(orphan_ended_s, 1),
                "retry_batch_status": retry.status.value,
                "kill_to_retry_done_s": round(retry_s, 1),
            }
            instance.dispose()
        expected = sim["expected_sha256"]
    stored = stored_sha256_by_station(s3, bucket)
    return {
        **result,
        "stored_equals_simulator_sha256": all(stored.get(s, []) == expected[s] for s in ids),
        "staging_files_left": len(leftover_files(staging)),
    }


# ----------------------------------------------------------------------------------------------- report


def print_table(results: dict) -> None:
    rows = []
    reg = results.get("registry")
    if reg:
        cold = reg["cold_load"]
        rows.append(
            (
                "registry",
                f"{reg['stations']} stations: cold load",
                f"{cold['load_s']:.3f} s (+{cold['import_s']:.2f} s import)",
            )
        )
        for backend in ("postgres", "sqlite"):
            r = reg[backend]
            rows.append(
                (
                    "registry",
                    f"{backend}: first sensor tick",
                    f"{r['first_tick_s']:.2f} s, {r['partitions_added']} partitions, "
                    f"{r['first_runs_requested']} first runs (+{r['first_runs_left_for_later_ticks']} later); "
                    f"apply {r['apply_partitions_s']:.2f} s",
                )
            )
            rows.append(("registry", f"{backend}: unchanged tick", f"{r['unchanged_tick_s']:.3f} s"))
    ch = results.get("change")
    if ch:
        rows.append(
            (
                "change",
                f"{ch['stations']} stations, {ch['workers']} workers",
                f"{ch['probes_per_minute']} probes/min, first tick {ch['first_tick_s']} s",
            )
        )
        rows.append(
            (
                "change",
                "looked at within poll_interval_s",
                f"{ch['share_looked_within_interval']:.2%}; 10,000 in {ch['minutes_to_cover_10000']} min",
            )
        )
    for key, r in results.items():
        if key.startswith("runs_k"):
            rows.append(
                (
                    key,
                    f"{r['stations']} stations, {r['runs']} runs {r['runs_by_trigger']}",
                    f"{r['runs_per_minute']} runs/min, overlap {r['max_overlap']} (K={r['k']}), "
                    f"per station {r['max_overlap_per_station']}, "
                    f"sha256 {'equal' if r['stored_equals_simulator_sha256'] else 'DIFFER'}, failed {r['failed_runs']}",
                )
            )
    ov = results.get("overhead")
    if ov:
        a, b = ov["in_process_sqlite"], ov["daemon_postgres"]
        rows.append(("overhead", "no-op run in-process (collect, SQLite)", f"{a['wall_s']} s wall, {a['cpu_s']} CPU-s"))
        rows.append(
            (
                "overhead",
                "no-op run daemon-launched (PostgreSQL)",
                f"{b['submit_to_end_wall_s']} s submit-to-end, {b['run_start_to_end_s']} s run, "
                f"{b['code_server_cpu_s_per_run']} CPU-s in the run worker",
            )
        )
        rows.append(
            (
                "overhead",
                "event log per run / 10,000 a day",
                f"{b['event_log_rows_per_run']} rows, {b['event_log_bytes_per_run']} B / "
                f"{b['event_log_rows_per_day_10000']} rows, {b['event_log_mib_per_day_10000']} MiB",
            )
        )
    sk = results.get("sigkill")
    if sk:
        rows.append(
            (
                "sigkill",
                "run worker killed",
                f"marked {sk['killed_run_status']} in {sk['marked_failed_s']} s; retried ok "
                f"{sk['collected_again_by_retry']} ({sk['kill_to_retry_done_s']} s); "
                f"staging left {sk['staging_files_left']} files",
            )
        )
    kb = results.get("sigkill_batch")
    if kb:
        rows.append(
            (
                "sigkill",
                "batch worker killed",
                f"batch {kb['killed_batch_status']}; its station run {kb['orphaned_station_run_status']} after "
                f"{kb['orphaned_station_run_ended_s']} s; retry {kb['retry_batch_status']} "
                f"({kb['kill_to_retry_done_s']} s), "
                f"sha256 {'equal' if kb['stored_equals_simulator_sha256'] else 'DIFFER'}, "
                f"staging left {kb['staging_files_left']} files",
            )
        )
    dy = results.get("daily")
    if dy:
        b, o = dy["batched"], dy["one_run_per_station"]
        rows.append(
            (
                "daily",
                f"{dy['stations']} stations with nothing new, batches of {dy['batch_size']}, K={dy['k']}",
                f"batched: {b['cpu_s_per_station']} CPU-s/station {b['cpu_s_per_station_by_process']}, "
                f"{b['stations_per_minute']} stations/min",
            )
        )
        k = dy["batched_skipping_unchanged"]
        rows.append(
            (
                "daily",
                "the default pass: records fetched, no run where a run could change nothing",
                f"{k['cpu_s_per_station']} CPU-s/station {k['cpu_s_per_station_by_process']}, own cost "
                f"{k['cpu_s_per_station_of_the_pass']}; {k['stations_left_out']} of {dy['stations']} left out; "
                f"{k['stations_per_minute']} stations/min",
            )
        )
        rows.append(
            (
                "daily",
                f"the pass's own cost (minus the idle deployment's {dy['idle_cpu_s_per_minute']} CPU-s/min, "
                f"{dy['runs_during_idle']} runs while idle)",
                f"batched {b['cpu_s_per_station_of_the_pass']} CPU-s/station "
                f"{b['cpu_s_per_station_of_the_pass_by_process']}; one run per station "
                f"{o['cpu_s_per_station_of_the_pass']}",
            )
        )
        rows.append(
            (
                "daily",
                f"same stack, one run per station ({o['stations']} of them)",
                f"{o['cpu_s_per_station']} CPU-s/station {o['cpu_s_per_station_by_process']}, "
                f"{o['stations_per_minute']} stations/min; ratio {dy['cpu_ratio_one_run_per_station_to_batched']}x",
            )
        )
        rows.append(
            (
                "daily",
                "10,000 stations a day",
                f"default {dy['cpu_hours_for_10000_stations']['default']} CPU-h "
                f"in ~{dy['hours_for_10000_stations_default']} h; "
                f"a run for every station {dy['cpu_hours_for_10000_stations']['batched']} CPU-h "
                f"in ~{dy['hours_for_10000_stations_batched']} h; "
                f"one run per station {dy['cpu_hours_for_10000_stations']['one_run_per_station']} CPU-h; "
                f"sha256 {'equal' if dy['stored_equals_simulator_sha256'] else 'DIFFER'}",
            )
        )
    from rich.console import Console
    from rich.table import Table

    table = Table(title="make scale")
    for column in ("phase", "what", "measured"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000, help="registry phase size")
    parser.add_argument("--change-stations", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200, help="stations collected by daemon-launched runs per K")
    parser.add_argument("--k", type=int, nargs="+", default=[4, 8], help="max_concurrent_runs values")
    parser.add_argument("--noop-runs", type=int, default=3)
    parser.add_argument("--daily-stations", type=int, default=400, help="daily phase: stations with nothing new")
    parser.add_argument("--daily-baseline", type=int, default=40, help="daily phase: of them, collected one run each")
    parser.add_argument("--batch-size", type=int, default=50, help="daily phase: PV_DAILY_BATCH_SIZE")
    parser.add_argument("--daily-k", type=int, default=4, help="daily phase: max_concurrent_runs")
    parser.add_argument("--idle-s", type=float, default=120, help="daily phase: idle window, for the background rate")
    parser.add_argument("--run-timeout", type=float, default=3600)
    parser.add_argument("--only", nargs="+", choices=["registry", "change", "runs", "overhead", "daily", "sigkill"])
    args = parser.parse_args(argv)
    # Stopped with SIGTERM: unwind, so the code server, the daemon and the databases go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reason = postgres_unavailable()
    if reason:
        print(f"make scale needs PostgreSQL: {reason}", file=sys.stderr)
        return 2
    phases = set(args.only or ["registry", "change", "runs", "overhead", "daily", "sigkill"])
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="pv-scale-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        s3 = stack.enter_context(s3_server())
        os.environ.update({**S3_KEYS, "MINIO_ENDPOINT": s3, "MINIO_SECURE": "false"})
        if "registry" in phases:
            results["registry"] = _report_phase("registry", phase_registry(args, work))
        if "change" in phases:
            results["change"] = _report_phase("change", phase_change(args, work))
        if "runs" in phases:
            for k in args.k:
                results[f"runs_k{k}"] = _report_phase(f"runs_k{k}", phase_runs(args, work, s3, k))
        if "overhead" in phases:
            results["overhead"] = _report_phase("overhead", phase_overhead(args, work, s3))
        if "daily" in phases:
            results["daily"] = _report_phase("daily", phase_daily(args, work, s3))
        if "sigkill" in phases:
            results["sigkill"] = _report_phase("sigkill", phase_sigkill(args, work, s3))
            results["sigkill_batch"] = _report_phase("sigkill_batch", phase_sigkill_batch(args, work, s3))
    print_table(results)
    print(json.dumps(results, sort_keys=True))
    return 0


def _report_phase(name: str, result: dict) -> dict:
    """Each phase's figures as soon as it ends (stderr), so a long run that breaks later keeps them."""
    print(f"[scale] {name}: {json.dumps(result, sort_keys=True)}", file=sys.stderr, flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
