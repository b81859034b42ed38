"""End to end: real Dagster materializations against the simulator and moto's S3 server."""

from __future__ import annotations

from collections import Counter

import pytest

from pv_assets.collection.staging import leftover_files
from pv_assets.operations.station_run import materialization_metadata
from pv_model.identity import normalize_id_card
from pv_simulator import SimStationSpec
from resources.dagster_resources import LocalStoreResource
from resources.object_store import LocalDirObjectStore
from tests.conftest import (
    fast_station_api,
    media_objects,
    run_station,
    sha256,
    write_registry,
)


def expected_objects(sim, station_id):
    """(ID number, canonical URL) -> sha256 of every ok media file of a picked-up record."""
    expected = {}
    for media in sim.expected_media(station_id):
        if media.picked_up and media.outcome == "ok":
            expected[(normalize_id_card(media.id_card_no), media.canonical_url)] = media.sha256
    return expected


@pytest.fixture
def two_stations(simulator_factory, tmp_path, monkeypatch, staging_dir):
    sim = simulator_factory(
        [
            SimStationSpec("ST-0001", records=30, seed=11),
            SimStationSpec("ST-0002", records=20, seed=22, region_company_code="RC-510100"),
        ]
    )
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    return sim, registry


def output(result, node):
    return result.asset_value(node)


def test_collects_every_picked_up_file_once_with_the_right_bytes_into_s3(
    two_stations, dagster_instance, s3_endpoint, s3_store, staging_dir, s3_resource
):
    sim, registry = two_stations
    store_resource = s3_resource
    api = fast_station_api(registry)
    for station_id in ("ST-0001", "ST-0002"):
        result = run_station(dagster_instance, api, store_resource, station_id)
        assert result.success, station_id

    stored = media_objects(s3_store)
    by_station = Counter(o.key.split("/")[1] for o in stored)
    for station_id, region in (("ST-0001", "RC-320100"), ("ST-0002", "RC-510100")):
        expected = expected_objects(sim, station_id)
        assert by_station[station_id] == len(expected), station_id
        stored_here = [o for o in stored if o.key.startswith(f"{region}/{station_id}/")]
        assert len(stored_here) == len(expected)  # region from the registry, or from the station info call
        # Bytes by sha256: what the store holds is what the station served, once per (owner, file).
        pairs = Counter()
        for obj in stored_here:
            data = s3_store.get_bytes(obj.key)
            meta = s3_store.stat(obj.key).metadata
            assert meta["content-sha256"] == sha256(data)
            assert meta["station"] == station_id and meta["record-id"]
            id_part = obj.key.rsplit("/", 1)[1].split("_", 1)[0]
            pairs[(id_part, sha256(data))] += 1
        assert pairs == Counter((id_no, digest) for (id_no, _url), digest in expected.items())

    # Nothing of records that are not picked up, unless the same file also belongs to a picked-up one.
    stored_hashes = {s3_store.stat(o.key).metadata["content-sha256"] for o in stored}
    picked = {m.sha256 for sid in ("ST-0001", "ST-0002") for m in sim.expected_media(sid) if m.picked_up}
    not_picked = {
        m.sha256
        for sid in ("ST-0001", "ST-0002")
        for m in sim.expected_media(sid)
        if not m.picked_up and m.outcome == "ok"
    } - picked
    assert not_picked and not (stored_hashes & not_picked)
    assert leftover_files(staging_dir) == []
    # The token never went to the CDN host.
    cdn_requests = [r for r in sim.requests if r.server == "cdn"]
    assert cdn_requests and all(r.authorization is None for r in cdn_requests)


def test_broken_items_are_failed_rows_with_reasons_and_the_station_succeeds(
    two_stations, dagster_instance, tmp_path, staging_dir
):
    sim, registry = two_stations
    store_resource = LocalStoreResource(root=str(tmp_path / "store"))
    result = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    assert result.success
    outcomes = output(result, "uploaded_media")
    expected = [m for m in sim.expected_media("ST-0001") if m.picked_up]
    broken = Counter(m.outcome for m in expected if m.outcome != "ok")
    reasons = Counter(r.split(":")[0] for r in outcomes.loc[outcomes.outcome == "failed", "reason"])
    assert broken["html"] >= 1 and broken["not_found"] >= 1 and broken["gone"] >= 1
    assert reasons["not_media"] == broken["html"]
    assert reasons["not_found"] == broken["not_found"]
    assert reasons["gone"] == broken["gone"]
    # "rejected": refused before any request (bad scheme) or by the SSRF guard (metadata address).
    assert reasons["invalid_input"] + reasons["forbidden_target"] == broken["rejected"] >= 1
    html_rows = outcomes[outcomes.reason.fillna("").str.startswith("not_media")]
    assert (html_rows.reason.str.contains("HTML page instead of media")).all()
    # No HTML body was stored as a photo.
    store = LocalDirObjectStore(tmp_path / "store")
    assert media_objects(store)
    for obj in media_objects(store):
        assert not store.get_bytes(obj.key).lstrip().lower().startswith((b"<!doctype", b"<html"))
    meta = materialization_metadata(result)["uploaded_media"]
    assert meta["failed"] == sum(broken.values())
    assert meta["uploaded"] == len(media_objects(store))


def test_a_rerun_downloads_nothing_and_stores_nothing_twice(two_stations, dagster_instance, tmp_path, staging_dir):
    sim, registry = two_stations
    store_resource = LocalStoreResource(root=str(tmp_path / "store"))
    api = fast_station_api(registry)
    first = run_station(dagster_instance, api, store_resource, "ST-0002")
    gets_after_first = sim.station("ST-0002").media_gets
    objects_after_first = sorted(o.key for o in media_objects(LocalDirObjectStore(tmp_path / "store")))
    second = run_station(dagster_instance, api, store_resource, "ST-0002")
    assert first.success and second.success
    assert sim.station("ST-0002").media_gets == gets_after_first
    assert sorted(o.key for o in media_objects(LocalDirObjectStore(tmp_path / "store"))) == objects_after_first
    first_rows, second_rows = output(first, "uploaded_media"), output(second, "uploaded_media")
    assert (first_rows.outcome == "uploaded").sum() == len(objects_after_first) > 0
    assert (second_rows.outcome == "uploaded").sum() == 0
    assert (second_rows.outcome == "skipped").sum() == len(objects_after_first)


def test_a_wrong_password_fails_only_that_station(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=8, seed=1), SimStationSpec("ST-0009", records=8, seed=9)]
    )
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch, wrong_password_for=["ST-0009"])
    store_resource = LocalStoreResource(root=str(tmp_path / "store"))
    api = fast_station_api(registry)
    bad = run_station(dagster_instance, api, store_resource, "ST-0009")
    good = run_station(dagster_instance, api, store_resource, "ST-0001")
    assert good.success and not bad.success
    failure = bad.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data.description == "station ST-0009: login failed: code 1001: 账号或密码错误"
    assert [e.step_key for e in bad.get_step_failure_events()] == ["station_token"]
    assert sim.station("ST-0009").logins == 0


def test_session_record_keeps_no_secret(two_stations, dagster_instance, tmp_path, staging_dir):
    sim, registry = two_stations
    store_resource = LocalStoreResource(root=str(tmp_path / "store"))
    result = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    session = output(result, "station_token")
    assert set(session) == {"station_id", "logged_in_at", "expires_at", "token_fingerprint"}
    assert session["token_fingerprint"].startswith("sha256:") and len(session["token_fingerprint"]) == 19


def test_a_run_decodes_its_own_steps_outputs_from_memory_and_later_runs_from_the_store(
    two_stations, dagster_instance, s3_endpoint, s3_store, staging_dir, monkeypatch, s3_resource
):
    from resources.object_store import MinioObjectStore

    _sim, registry = two_stations
    store_resource = s3_resource
    reads: list[str] = []
    real_get_bytes = MinioObjectStore.get_bytes

    def counted_get_bytes(self, key):  # a spy: the real store answers
        reads.append(key)
        return real_get_bytes(self, key)

    monkeypatch.setattr(MinioObjectStore, "get_bytes", counted_get_bytes)
    result = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0002")
    assert result.success
    inputs = ("station_token", "infrastructure_records", "media_manifest", "uploaded_media")
    assert [k for k in reads if k.split("/")[2] in inputs] == []  # _pv-media/assets/<asset>/...
    # What the steps took from memory is what the store holds for the audit, less the links' credentials.
    from pv_assets.io_manager import audit_key, parquet_to_frame, without_link_secrets

    stored = parquet_to_frame(real_get_bytes(s3_store, audit_key("media_manifest", "ST-0002", ".parquet")))
    in_memory = result.output_for_node("media_manifest")
    redacted = without_link_secrets(in_memory)
    assert stored.equals(in_memory if redacted is None else redacted)
    # A run that materializes only a downstream asset reads its input back from the store.
    from dagster import AssetKey

    from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions

    reads.clear()
    job = make_definitions(station_api=fast_station_api(registry), object_store=store_resource).resolve_job_def(
        COLLECT_JOB_NAME
    )
    again = job.execute_in_process(
        partition_key="ST-0002", instance=dagster_instance, asset_selection=[AssetKey("media_manifest")]
    )
    assert again.success
    assert audit_key("infrastructure_records", "ST-0002", ".parquet") in reads
