"""The registry sensor, the change sensor (against the simulator) and the daily schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from dagster import build_schedule_context

from pv_assets.operations import sensors
from pv_assets.operations.change_cursor import ChangeCursor, StationWatch, due_stations, has_changed
from pv_assets.operations.schedules import build_daily_full_refresh
from pv_assets.operations.sensors import station_change_sensor, station_registry_sensor
from pv_model.registry import RegistryError
from pv_simulator import SimStationSpec
from tests.conftest import evaluate_sensor, fast_station_api, write_registry

STATIONS = ["ST-0001", "ST-0002", "ST-0003"]


@pytest.fixture
def three_stations(simulator_factory, tmp_path, monkeypatch):
    sim = simulator_factory([SimStationSpec(s, records=6, seed=i, quirks=False) for i, s in enumerate(STATIONS)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    return sim, registry


def test_registry_sensor_adds_exactly_the_new_stations_and_requests_their_runs(three_stations, dagster_instance):
    _sim, registry = three_stations
    dagster_instance.add_dynamic_partitions("station", ["ST-0002"])
    result = evaluate_sensor(station_registry_sensor, dagster_instance, registry)
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, sorted(add.partition_keys)) == ("station", ["ST-0001", "ST-0003"])
    assert sorted(r.partition_key for r in result.run_requests) == ["ST-0001", "ST-0003"]
    assert all(r.tags["pv-media/station"] == r.partition_key for r in result.run_requests)
    # The daemon applies the request; the next tick finds nothing new.
    dagster_instance.add_dynamic_partitions("station", list(add.partition_keys))
    again = evaluate_sensor(station_registry_sensor, dagster_instance, registry)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []
    assert "no new stations" in again.skip_reason.skip_message


def test_a_broken_registry_fails_the_tick_naming_file_line_field_and_changes_nothing(three_stations, dagster_instance):
    _sim, registry = three_stations
    entries = yaml.safe_load(registry.read_text("utf-8"))
    entries["stations"][1]["base_url"] = "ftp://nowhere"
    registry.write_text(yaml.safe_dump(entries, allow_unicode=True), "utf-8")
    with pytest.raises(RegistryError, match=r"stations.yaml:\d+: station ST-0002: field 'base_url'"):
        evaluate_sensor(station_registry_sensor, dagster_instance, registry)
    assert dagster_instance.get_dynamic_partitions("station") == []


class Clock:
    """The change sensor's clock, moved forward by the test instead of waiting."""

    def __init__(self, monkeypatch):
        self.now = datetime.now(UTC)
        monkeypatch.setattr(sensors, "utc_now", lambda: self.now)

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)

    def station_time(self) -> str:
        return self.now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")


def test_change_sensor_requests_runs_only_for_changed_stations_and_keeps_its_cursor(
    three_stations, dagster_instance, monkeypatch
):
    sim, registry = three_stations
    clock = Clock(monkeypatch)
    dagster_instance.add_dynamic_partitions("station", STATIONS)
    first = evaluate_sensor(station_change_sensor, dagster_instance, registry)
    assert first.run_requests == []  # the first look is the baseline
    assert set(ChangeCursor.from_json(first.cursor).stations) == set(STATIONS)

    clock.advance(10)
    sim.station("ST-0002").update_record(
        sim.records("ST-0002")[0]["recordId"], updatedAt=clock.station_time(), pickupStatus="已提货"
    )
    sim.clear_requests()
    too_soon = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=first.cursor)
    assert too_soon.run_requests == [] and sim.requests == []  # within poll_interval_s nobody is polled
    clock.advance(10)
    later = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=too_soon.cursor)
    assert [r.partition_key for r in later.run_requests] == ["ST-0002"]
    assert later.run_requests[0].tags["pv-media/trigger"] == "records-changed"
    # The cheapest call: one one-record page per station (plus its login).
    probes = [r for r in sim.requests if "/infrastructure/records" in r.path]
    assert len(probes) == 3 and all("pageSize=1" in r.query and "updatedSince=" in r.query for r in probes)

    clock.advance(20)
    quiet = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=later.cursor)
    assert quiet.run_requests == []  # the change was reported once
    assert len(ChangeCursor.from_json(quiet.cursor).stations) == 3


def test_a_station_that_is_down_is_skipped_and_retried_later_not_reported_changed(
    three_stations, dagster_instance, monkeypatch
):
    sim, registry = three_stations
    clock = Clock(monkeypatch)
    dagster_instance.add_dynamic_partitions("station", STATIONS)
    first = evaluate_sensor(station_change_sensor, dagster_instance, registry)
    clock.advance(20)
    sim.station("ST-0003").script("login", ["reset"])
    down = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=first.cursor)
    assert down.run_requests == []
    watch = ChangeCursor.from_json(down.cursor).stations["ST-0003"]
    assert watch.failures == 1 and watch.retry_at is not None
    # Before its retry time it is not polled; after it, it is, and counts as up again.
    clock.advance(1)
    sim.clear_requests()
    evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=down.cursor)
    assert not [r for r in sim.requests if r.server == "ST-0003"]
    clock.advance(30)
    back = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=down.cursor)
    assert back.run_requests == []
    assert ChangeCursor.from_json(back.cursor).stations["ST-0003"].failures == 0


def test_bounded_work_per_tick_goes_round_robin(three_stations, dagster_instance, monkeypatch):
    sim, registry = three_stations
    monkeypatch.setenv("PV_CHANGE_SENSOR_MAX_PER_TICK", "2")
    dagster_instance.add_dynamic_partitions("station", STATIONS)
    first = evaluate_sensor(station_change_sensor, dagster_instance, registry)
    assert len(ChangeCursor.from_json(first.cursor).stations) == 2
    second = evaluate_sensor(station_change_sensor, dagster_instance, registry, cursor=first.cursor)
    assert set(ChangeCursor.from_json(second.cursor).stations) == set(STATIONS)


def test_due_stations_respects_interval_retry_and_oldest_first():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    cursor = ChangeCursor(
        stations={
            "fresh": StationWatch(checked_at=(now - timedelta(minutes=5)).isoformat()),
            "old": StationWatch(checked_at=(now - timedelta(hours=5)).isoformat()),
            "older": StationWatch(checked_at=(now - timedelta(hours=9)).isoformat()),
            "down": StationWatch(
                checked_at=(now - timedelta(hours=9)).isoformat(),
                failures=1,
                retry_at=(now + timedelta(minutes=1)).isoformat(),
            ),
        }
    )
    intervals = {"fresh": 900, "old": 900, "older": 900, "down": 900, "never": 900}
    assert due_stations(cursor, intervals, now, limit=10) == ["never", "older", "old"]
    assert due_stations(cursor, intervals, now, limit=2) == ["never", "older"]


def test_has_changed_rules():
    seen = StationWatch(checked_at="2026-11-26T00:00:00+00:00", total=10)
    assert not has_changed(StationWatch(), 10, 5, True)  # first look: baseline only
    assert has_changed(seen, 1, 1, True) and not has_changed(seen, 0, 0, True)
    assert has_changed(seen, 11, 0, False) and not has_changed(seen, 10, 0, False)


def test_an_unreadable_cursor_starts_over():
    assert ChangeCursor.from_json("{broken").stations == {}
    assert ChangeCursor.from_json('{"v": 99, "stations": {}}').stations == {}


def test_daily_schedule_refreshes_registry_stations_that_are_partitions_in_batches(
    three_stations, dagster_instance, monkeypatch
):
    _sim, registry = three_stations
    daily_full_refresh = build_daily_full_refresh()
    dagster_instance.add_dynamic_partitions("station", ["ST-0001", "ST-0002", "ST-OLD"])  # ST-OLD left the registry
    when = datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def evaluate_schedule(schedule=daily_full_refresh):
        with build_schedule_context(
            instance=dagster_instance,
            scheduled_execution_time=when,
            resources={"station_api": fast_station_api(registry)},
        ) as context:
            return schedule(context)

    def stations(request):
        return request.run_config["ops"]["collect_stations_in_batch"]["config"]["stations"]

    [batch] = evaluate_schedule()  # the default batch holds 50 stations
    assert stations(batch) == ["ST-0001", "ST-0002"] and batch.run_key == "daily-2026-11-27-00000-ST-0001"
    assert batch.tags["pv-media/batch-run"] == "true"  # the run limits cap batches by this tag
    # PV_DAILY_BATCH_SIZE=1 (what K8sRunLauncher needs): plain station runs, one per station.
    one_each = build_daily_full_refresh(batch_size=1)
    assert one_each.job_name == "collect_station"
    requests = evaluate_schedule(one_each)
    assert [(r.partition_key, r.tags["pv-media/station"]) for r in requests] == [("ST-0001", "ST-0001"),
                                                                                ("ST-0002", "ST-0002")]  # fmt: skip
    assert [r.run_key for r in requests] == ["daily-2026-11-27-ST-0001", "daily-2026-11-27-ST-0002"]
    assert daily_full_refresh.execution_timezone == "Asia/Shanghai"
    assert daily_full_refresh.cron_schedule == "0 2 * * *"


def test_a_station_being_collected_is_not_polled(three_stations, dagster_instance, monkeypatch):
    from dagster import DagsterRunStatus

    from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions

    sim, registry = three_stations
    Clock(monkeypatch)
    dagster_instance.add_dynamic_partitions("station", STATIONS)
    dagster_instance.create_run_for_job(
        job_def=make_definitions().resolve_job_def(COLLECT_JOB_NAME),
        tags={"dagster/partition": "ST-0002"},
        status=DagsterRunStatus.STARTED,
    )
    sim.clear_requests()
    result = evaluate_sensor(station_change_sensor, dagster_instance, registry)
    assert {r.server for r in sim.requests} == {"ST-0001", "ST-0003"}
    assert "ST-0002" not in ChangeCursor.from_json(result.cursor).stations
