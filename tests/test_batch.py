"""The daily pass in batches: several stations in one run worker, each as its own collect_station run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from dagster import AssetKey, AssetRecordsFilter, DagsterRunStatus, RunsFilter, execute_job

from pv_assets.definitions import make_definitions
from pv_assets.operations.batch import BATCH_JOB_NAME, BATCH_TAG, batch_run_request, end_orphaned_station_runs
from pv_assets.operations.jobs import COLLECT_JOB_NAME
from pv_assets.operations.station_run import HOST_TAG, PID_TAG, active_collection
from pv_assets.operations.tags import STATION_TAG
from pv_assets.partitions import STATION_PARTITIONS_NAME
from pv_simulator import SimStationSpec
from resources.dagster_private import reconstructable_job
from tests.conftest import expected_sha256s, media_objects, sha256, write_registry

ROOT = Path(__file__).resolve().parents[1]
STATIONS = ["BT-0001", "BT-0002", "BT-0003"]


def batch_job_as_a_run_worker_loads_it():
    """The batch job loaded from the code location (`defs`), settings from this test's environment (not an
    earlier test's, whose bucket it would write to)."""
    return reconstructable_job("pv_assets.definitions", "defs", BATCH_JOB_NAME, ROOT)


def run_of(instance, job_name: str, status: DagsterRunStatus, tags: dict[str, str] | None = None):
    """A run of the job in the given status, as another process would have left it."""
    job = make_definitions().resolve_job_def(job_name)
    run_config = batch_run_request([]).run_config if job_name == BATCH_JOB_NAME else None  # a batch names stations
    return instance.create_run_for_job(job_def=job, run_config=run_config, status=status, tags=tags or {})


def test_a_batch_collects_each_station_as_its_own_run_and_a_refused_login_fails_only_its_station(
    simulator_factory, tmp_path, monkeypatch, dagster_instance, minio_env, s3_store, staging_dir
):
    sim = simulator_factory([SimStationSpec(s, records=4, seed=i, quirks=False) for i, s in enumerate(STATIONS)])
    write_registry(sim, tmp_path / "stations.yaml", monkeypatch, wrong_password_for=["BT-0002"])
    dagster_instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, STATIONS)
    # BT-BUSY is being collected by a live run of this host; BT-GONE left the partitions (an error around its run).
    busy_tags = {"dagster/partition": "BT-BUSY", PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    busy = run_of(dagster_instance, COLLECT_JOB_NAME, DagsterRunStatus.STARTED, tags=busy_tags)
    request = batch_run_request(["BT-0001", "BT-BUSY", "BT-0002", "BT-GONE", "BT-0003"], priority=-1)
    assert request.tags["dagster/priority"] == "-1" and request.tags["pv-media/stations"] == "5"

    batch_job = batch_job_as_a_run_worker_loads_it()
    with execute_job(batch_job, dagster_instance, run_config=request.run_config, tags=request.tags) as batch:
        assert not batch.success
        [failure] = batch.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == "2 of 5 stations not collected: BT-0002, BT-GONE"
    station_runs = dagster_instance.get_run_records(
        RunsFilter(job_name=COLLECT_JOB_NAME, tags={BATCH_TAG: batch.run_id})
    )
    by_station = {r.dagster_run.tags[STATION_TAG]: r.dagster_run for r in station_runs}
    assert sorted(by_station) == STATIONS  # BT-BUSY was not started twice, BT-GONE never got a run
    assert dagster_instance.get_run_by_id(busy.run_id).status == DagsterRunStatus.STARTED
    assert {s: run.status for s, run in by_station.items()} == {
        "BT-0001": DagsterRunStatus.SUCCESS,
        "BT-0002": DagsterRunStatus.FAILURE,
        "BT-0003": DagsterRunStatus.SUCCESS,
    }
    # Every asset of a collected station is materialized for its partition, by its own run.
    for station_id in ("BT-0001", "BT-0003"):
        events = dagster_instance.get_records_for_run(by_station[station_id].run_id).records
        dagster_events = [e.event_log_entry.dagster_event for e in events if e.event_log_entry.dagster_event]
        materialized = {e.asset_key.to_user_string() for e in dagster_events if e.is_step_materialization}
        assert materialized == {"station_token", "infrastructure_records", "media_manifest", "uploaded_media",
                                "media_previews", "photo_facts", "gallery_piece", "evidence_piece"}  # fmt: skip
    stored = {o.key.split("/")[1]: [] for o in media_objects(s3_store)}
    for o in media_objects(s3_store):
        stored[o.key.split("/")[1]].append(sha256(s3_store.get_bytes(o.key)))
    assert sorted(stored) == ["BT-0001", "BT-0003"]
    for station_id in ("BT-0001", "BT-0003"):
        assert sorted(stored[station_id]) == expected_sha256s(sim, station_id)
    [report] = [
        e for e in dagster_instance.all_logs(batch.run_id) if e.dagster_event and e.dagster_event.is_successful_output
    ]
    metadata = report.dagster_event.step_output_data.metadata
    counts = {k: metadata[k].value for k in ("stations", "collected", "failed", "left_to_a_run_in_progress")}
    assert counts == {"stations": 5, "collected": 2, "failed": 2, "left_to_a_run_in_progress": 1}
    not_collected = {row["station"]: row["error"] for row in metadata["not_collected"].value}
    assert sorted(not_collected) == ["BT-0002", "BT-BUSY", "BT-GONE"]
    assert f"already being collected by run {busy.run_id}" in not_collected["BT-BUSY"]
    assert "BT-GONE" in not_collected["BT-GONE"]


def test_a_station_run_left_behind_by_an_ended_batch_is_marked_failed(dagster_instance):
    job = make_definitions().resolve_job_def(COLLECT_JOB_NAME)
    ended = run_of(dagster_instance, BATCH_JOB_NAME, DagsterRunStatus.FAILURE)
    running = run_of(dagster_instance, BATCH_JOB_NAME, DagsterRunStatus.STARTED)

    def station_run(batch_id: str | None):
        tags = {STATION_TAG: "BT-0001", **({BATCH_TAG: batch_id} if batch_id else {})}
        return dagster_instance.create_run_for_job(job_def=job, tags=tags, status=DagsterRunStatus.STARTED)

    # A batch being canceled is still alive: it stops after the station it is collecting.
    canceling = run_of(dagster_instance, BATCH_JOB_NAME, DagsterRunStatus.CANCELING)
    orphan, in_live_batch, alone = station_run(ended.run_id), station_run(running.run_id), station_run(None)
    winding_down = station_run(canceling.run_id)
    assert end_orphaned_station_runs(dagster_instance) == [orphan.run_id]
    runs = (orphan, in_live_batch, alone, winding_down)
    assert [dagster_instance.get_run_by_id(r.run_id).status for r in runs] == [
        DagsterRunStatus.FAILURE, DagsterRunStatus.STARTED, DagsterRunStatus.STARTED, DagsterRunStatus.STARTED
    ]  # fmt: skip
    assert end_orphaned_station_runs(dagster_instance) == []


def test_a_station_whose_only_run_outlived_its_batch_is_free_to_collect_from_any_host(dagster_instance):
    job = make_definitions().resolve_job_def(COLLECT_JOB_NAME)
    ended = run_of(dagster_instance, BATCH_JOB_NAME, DagsterRunStatus.CANCELED)
    # Left by a batch worker on another host: its pid says nothing here, its batch does.
    tags = {"dagster/partition": "BT-0009", BATCH_TAG: ended.run_id, PID_TAG: "1", HOST_TAG: "another-host"}
    orphan = dagster_instance.create_run_for_job(job_def=job, tags=tags, status=DagsterRunStatus.STARTED)
    assert active_collection(dagster_instance, "BT-0009") is None
    assert dagster_instance.get_run_by_id(orphan.run_id).status == DagsterRunStatus.FAILURE


def test_the_daily_pass_leaves_out_the_run_of_a_station_whose_run_could_change_nothing(
    simulator_factory, tmp_path, monkeypatch, dagster_instance, minio_env, s3_store, s3_endpoint, staging_dir
):
    from minio import Minio

    from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY

    stations = ["UC-0001", "UC-0002", "UC-0003", "UC-0004"]
    sim = simulator_factory([SimStationSpec(s, records=4, seed=20 + i, quirks=False) for i, s in enumerate(stations)])
    sim.station("UC-0004").script("media", [404])  # the first run leaves a failed item, which only a run retries
    write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    dagster_instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, stations)
    batch_job = batch_job_as_a_run_worker_loads_it()

    def daily_batch(skip_unchanged: bool = True) -> tuple[dict, dict[str, str]]:
        """The batch's report, and the collect_station run of each station it ran."""
        request = batch_run_request(stations, skip_unchanged=skip_unchanged)
        with execute_job(batch_job, dagster_instance, run_config=request.run_config, tags=request.tags) as batch:
            assert batch.success
            [output] = [e for e in batch.all_events if e.is_successful_output]
        report = {k: v.value for k, v in output.step_output_data.metadata.items()}
        runs = dagster_instance.get_run_records(RunsFilter(job_name=COLLECT_JOB_NAME, tags={BATCH_TAG: batch.run_id}))
        return report, {r.dagster_run.tags[STATION_TAG]: r.dagster_run.run_id for r in runs}

    report, first_runs = daily_batch()
    assert (report["collected"], report["unchanged"], sorted(first_runs)) == (4, 0, stations)
    # UC-0001's station changed a record; one of UC-0002's stored photos was deleted; UC-0003 is as it was.
    changed = next(r for r in sim.records("UC-0001") if r["pickupStatus"] == "已提货")
    sim.station("UC-0001").update_record(changed["recordId"], capacityKw=99.5)
    [gone] = [o.key for o in media_objects(s3_store) if o.key.split("/")[1] == "UC-0002"][:1]
    Minio(s3_endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False).remove_object(
        s3_store.bucket, gone
    )

    report, second_runs = daily_batch()
    assert (report["stations"], report["collected"], report["unchanged"]) == (4, 3, 1)
    assert sorted(second_runs) == ["UC-0001", "UC-0002", "UC-0004"]  # no run for UC-0003
    assert sha256(s3_store.get_bytes(gone)) in expected_sha256s(sim, "UC-0002")  # stored again by its run
    [observation] = [
        r.asset_observation
        for r in dagster_instance.fetch_observations(
            AssetRecordsFilter(asset_key=AssetKey("infrastructure_records"), asset_partitions=["UC-0003"]), limit=5
        ).records
    ]
    assert observation.metadata["unchanged_since_run"].value == first_runs["UC-0003"]

    # Nothing changed now (UC-0004's item was stored by its second run): no run at all; with the shortcut
    # off, every station runs.
    report, third_runs = daily_batch()
    assert (report["collected"], report["unchanged"], third_runs) == (0, 4, {})
    # A run of UC-0003 failed since (a sensor's, timed out before its records): the pass runs it again.
    run_of(dagster_instance, COLLECT_JOB_NAME, DagsterRunStatus.FAILURE, tags={"dagster/partition": "UC-0003"})
    report, after_failure = daily_batch()
    assert (report["unchanged"], sorted(after_failure)) == (3, ["UC-0003"])
    # A rotated pseudonym key changes every object key: every station runs (the settings' secrets count too).
    monkeypatch.setenv("PV_ID_PSEUDONYM_KEY", "rotated-" + "k" * 24)
    report, after_rotation = daily_batch()
    assert (report["unchanged"], sorted(after_rotation)) == (0, stations)
    assert report["looks_failed"] == 0
    report, forced_runs = daily_batch(skip_unchanged=False)
    assert (report["collected"], report["unchanged"], sorted(forced_runs)) == (4, 0, stations)
