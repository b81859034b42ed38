"""The production instance (conf/dagster-postgres.yaml) against the real PostgreSQL server: a station
materialized on it, and runs queued by the registry sensor and by `pv-media collect`, launched by
`dagster-daemon run` through a standalone code server, within the run limits - and a run worker
killed with SIGKILL, marked failed and its station collected again.

Each test makes its own database and drops it. Without a server the tests are skipped with
the reason; PV_REQUIRE_POSTGRES=1 (set by .ci/run) makes that a failure instead.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus, RunsFilter
from sqlalchemy.engine import make_url

from bench.stack import (
    dagster_stack,
    max_overlap,
    postgres_unavailable,
    table_stats,
    temporary_database,
    write_production_home,
)
from pv_assets.cli.collect import collect
from pv_assets.collection.staging import leftover_files
from pv_assets.operations.deployment import DeploymentError
from pv_assets.operations.run_queue import follow_runs
from pv_assets.partitions import STATION_PARTITIONS_NAME
from pv_simulator import SimStationSpec
from resources.dagster_resources import LocalStoreResource
from resources.object_store import MinioObjectStore
from tests.conftest import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    expected_sha256s,
    fast_station_api,
    media_objects,
    run_station,
    sha256,
    write_registry,
)


@pytest.fixture(scope="module")
def pg_server():
    reason = postgres_unavailable()
    if reason:
        if os.environ.get("PV_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PV_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def pg_env(pg_server, monkeypatch):
    """A database of this test's own, dropped afterwards; its DAGSTER_PG_* variables are set."""
    with temporary_database() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env


@pytest.fixture
def pg_instance(pg_env, tmp_path):
    home = write_production_home(tmp_path / "dagster_home")
    instance = DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


def stored_media(store: MinioObjectStore) -> dict[str, str]:
    """object key -> sha256 of its bytes, media only (not the audit manifests)."""
    return {o.key: sha256(store.get_bytes(o.key)) for o in media_objects(store)}


def station_of(key: str) -> str:
    return key.split("/")[1]


def missing_files(sim, stored: dict[str, str], stations: tuple[str, ...]) -> dict[str, list[str]]:
    """sha256 of each station's expected files that the store lacks."""
    return {
        station_id: sorted(
            (
                Counter(expected_sha256s(sim, station_id))
                - Counter(v for k, v in stored.items() if station_of(k) == station_id)
            ).elements()
        )
        for station_id in stations
    }


def test_the_production_instance_uses_psycopg2_on_postgres_and_runs_a_station(
    pg_env, pg_instance, simulator_factory, tmp_path, monkeypatch, staging_dir, s3_endpoint, s3_store, s3_resource
):
    storage = pg_instance.run_storage
    assert type(storage).__name__ == "PostgresRunStorage"
    # The driver is the point: SQLAlchemy loads the one the storage's URL names.
    assert make_url(storage.postgres_url).drivername == "postgresql+psycopg2"
    sim = simulator_factory([SimStationSpec("PG-0001", records=12, seed=3, quirks=False)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store = s3_resource

    result = run_station(pg_instance, fast_station_api(registry), store, "PG-0001")

    assert result.success
    assert sorted(stored_media(s3_store).values()) == expected_sha256s(sim, "PG-0001")
    # The run and its events are in the PostgreSQL database, not in a local file.
    assert pg_instance.get_run_by_id(result.run_id).status == DagsterRunStatus.SUCCESS
    stats = table_stats(pg_env["DAGSTER_PG_DB"])
    assert stats["runs"]["rows"] == 1 and stats["event_logs"]["rows"] > 20
    assert leftover_files(staging_dir) == []


def test_production_refuses_the_local_directory_store(
    pg_instance, simulator_factory, tmp_path, monkeypatch, staging_dir
):
    from pv_assets.definitions import store_for
    from resources.settings import settings

    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    monkeypatch.setenv("PV_DEPLOYMENT", "production")
    with pytest.raises(
        DeploymentError, match="local-directory object store cannot be used in production.*MINIO_ENDPOINT"
    ):
        store_for(settings())
    monkeypatch.delenv("PV_DEPLOYMENT")
    # Even without the setting, a run on a PostgreSQL instance refuses it: its workers may be on other hosts.
    sim = simulator_factory([SimStationSpec("PG-0002", records=3, seed=4, quirks=False)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    local = LocalStoreResource(root=str(tmp_path / "store"))
    result = run_station(pg_instance, fast_station_api(registry), local, "PG-0002")
    assert not result.success
    failure = result.get_run_failure_event() or result.all_events[-1]
    assert "local-directory object store cannot be used in production" in str(failure.event_specific_data)
    assert not (tmp_path / "store").exists()


def _runs(instance, station_id: str | None = None):
    tags = {"dagster/partition": station_id} if station_id else {}
    return instance.get_run_records(RunsFilter(job_name="collect_station", tags=tags))


def _wait(condition, what: str, timeout_s: float, stack) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited while waiting for {what}:\n{stack.log_tail(name)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s\n{stack.log_tail('daemon')}")
        time.sleep(0.1)


def test_the_daemon_launches_queued_runs_within_the_limits_and_retries_a_killed_worker(
    pg_env, tmp_path, monkeypatch, simulator_factory, s3_endpoint, s3_store, minio_env
):
    limit = 2
    specs = [SimStationSpec(f"Q-000{i}", records=4, seed=i, quirks=False, all_picked_up=True) for i in (1, 2)]
    specs.append(SimStationSpec("Q-SLOW", records=4, seed=9, quirks=False, all_picked_up=True, max_connections=2))
    sim = simulator_factory(specs)
    # The slow station's first media request hangs for 6 s: its run worker is surely staging when killed.
    # (The hung request holds one of its two connections a little longer; the retry has the other.)
    sim.station("Q-SLOW").script("media", ["slow:6"])
    # One of Q-0002's files is missing at first (404): a failed item its run reports and the next run stores.
    sim.station("Q-0002").script("media", [404])
    write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    staging = tmp_path / "staging"
    monkeypatch.setenv("PV_STAGING_DIR", str(staging))
    home = write_production_home(
        tmp_path / "home",
        max_concurrent_runs=limit,
        overrides={"run_coordinator": {"config": {"dequeue_interval_seconds": 1}}},
    )

    with dagster_stack(home, {}) as stack:
        instance = DagsterInstance.from_config(str(home))
        # The registry sensor's first tick adds the partitions and queues a first run per station ...
        _wait(
            lambda: len(instance.get_dynamic_partitions(STATION_PARTITIONS_NAME)) == 3,
            "registry sensor tick",
            120,
            stack,
        )
        # ... and `pv-media collect` on this instance queues Q-0001 again at the same time, and follows its run.
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("PV_WORKSPACE", str(stack.workspace))
        cli_result: dict = {}
        cli = threading.Thread(
            target=lambda: cli_result.update(
                zip(("code", "summaries"), collect(["Q-0001"], all_stations=False, stations_file=None,
                                                   show_progress=False), strict=True)
            )
        )  # fmt: skip
        cli.start()

        def slow_run_staging():
            runs = [r for r in _runs(instance, "Q-SLOW") if r.dagster_run.status == DagsterRunStatus.STARTED]
            return runs and (staging / runs[0].dagster_run.run_id / "owner.json").exists() and runs[0]

        _wait(slow_run_staging, "the slow station's run worker to start staging", 120, stack)
        killed = slow_run_staging().dagster_run
        owner = (staging / killed.run_id / "owner.json").read_text("utf-8")
        pid = int(__import__("json").loads(owner)["pid"])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        _wait(
            lambda: instance.get_run_by_id(killed.run_id).is_finished, "the killed run to be marked failed", 60, stack
        )
        marked_failed_s = time.monotonic() - killed_at

        first_runs = {r.dagster_run.tags["dagster/partition"]: r.dagster_run.run_id for r in _runs(instance)
                      if r.dagster_run.tags.get("pv-media/trigger") == "new-station"}  # fmt: skip
        summaries = follow_runs(instance, first_runs, poll_s=0.2, timeout_s=150)
        cli.join(timeout=150)
        assert not cli.is_alive(), "pv-media collect did not finish"
        manual = {s.station_id: s.run_id for s in cli_result["summaries"]}
        summaries += cli_result["summaries"]
        records = _runs(instance)
        store = MinioObjectStore(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, s3_store.bucket)
        missing = missing_files(sim, stored_media(store), ("Q-0001", "Q-0002", "Q-SLOW"))
        # What a station's latest run did not store, it reported as failed items - nothing lost silently (a
        # transient error under load lands here too) - and the next run, queued by `pv-media collect`, stores it.
        latest = {s.station_id: s for s in summaries}
        for station_id, files in missing.items():
            summary = latest[station_id]
            assert len(files) == summary.counts.get("failed", 0), (station_id, summary.counts, summary.failures)
        assert len(missing["Q-0002"]) >= 1
        code, _ = collect(sorted(s for s, files in missing.items() if files), all_stations=False,
                          stations_file=None, show_progress=False)  # fmt: skip
        assert code == 0
    stack_logs = stack.log_tail("daemon", 40)

    # `pv-media collect` queued its run, followed it and summed it up like an in-process run.
    assert cli_result["code"] == 0
    [cli_summary] = cli_result["summaries"]
    assert cli_summary.counts["uploaded"] + cli_summary.counts["skipped"] == len(expected_sha256s(sim, "Q-0001"))
    assert instance.get_run_by_id(cli_summary.run_id).tags["pv-media/trigger"] == "cli"
    # The killed worker's run failed, within seconds; the retry collected the station again.
    assert instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.FAILURE
    assert marked_failed_s < 30
    by_station = {s.station_id + ("/manual" if s.run_id in manual.values() else ""): s for s in summaries}
    assert all(s.ok for s in summaries), [(s.station_id, s.error) for s in summaries] + [stack_logs]
    retry = instance.get_run_by_id(by_station["Q-SLOW"].run_id)
    assert retry.tags.get("dagster/parent_run_id") == killed.run_id
    # Every stored object is the simulator's, for every station; no staging file is left behind.
    stored = stored_media(store)
    for station_id in ("Q-0001", "Q-0002", "Q-SLOW"):
        assert sorted(v for k, v in stored.items() if station_of(k) == station_id) == expected_sha256s(sim, station_id)
    assert leftover_files(staging) == []
    assert [p.name for p in staging.iterdir()] == []
    # The limits: never more than `limit` runs at once, never two runs of one station at once.
    intervals = {r.dagster_run.run_id: (r.start_time, r.end_time) for r in records if r.start_time}
    assert len(intervals) >= len(summaries)  # every run that was followed started
    assert all(end is not None for _, end in intervals.values())
    assert max_overlap(list(intervals.values())) <= limit
    q1 = [intervals[r.dagster_run.run_id] for r in records if r.dagster_run.tags["dagster/partition"] == "Q-0001"]
    assert len(q1) == 2 and max_overlap(q1) == 1


def test_a_station_run_keeps_its_connections_and_asks_the_catalogue_and_partitions_once(
    pg_instance, simulator_factory, tmp_path, monkeypatch, staging_dir, s3_endpoint, s3_store, s3_resource
):
    import sqlalchemy

    sim = simulator_factory([SimStationSpec("PG-0003", records=4, seed=5, quirks=False)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store = s3_resource
    assert run_station(pg_instance, fast_station_api(registry), store, "PG-0003").success
    statements: list[str] = []
    connections: list[object] = []

    def on_statement(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()))

    def on_connect(dbapi_connection, record):
        connections.append(dbapi_connection)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", on_statement)
    sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", on_connect)
    try:
        # The next run in the same process (as a batch worker runs its stations), nothing new to collect.
        result = run_station(pg_instance, fast_station_api(registry), store, "PG-0003")
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", on_statement)
        sqlalchemy.event.remove(sqlalchemy.pool.Pool, "connect", on_connect)
    assert result.success
    inserts = [s for s in statements if s.startswith("INSERT INTO event_logs")]
    catalogue = [s for s in statements if "pg_catalog." in s]  # does a table or a column exist?
    partition_lookups = [s for s in statements if s.startswith("SELECT dynamic_partitions.partition FROM")]
    assert len(inserts) > 50  # the run's events were written, through the counted engine
    assert (len(connections), len(partition_lookups)) == (0, 0)
    assert len(catalogue) <= 1  # the runs table's columns, at its first insert of this process; was ~110 a run
    assert [s for s in statements if s.startswith("NOTIFY")] == []  # was one after each of the ~90 events
    # Written without NOTIFY, the run's materializations and check results are indexed as before.
    for asset in ("station_token", "infrastructure_records", "media_manifest", "uploaded_media", "media_previews",
                  "gallery_piece"):  # fmt: skip
        [latest] = pg_instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=["PG-0003"]), limit=1
        ).records
        assert latest.run_id == result.run_id
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 11
    for evaluation in checks:
        [last] = pg_instance.event_log_storage.get_asset_check_execution_history(evaluation.asset_check_key, limit=1)
        assert (last.run_id, last.status.value) == (result.run_id, "SUCCEEDED")
