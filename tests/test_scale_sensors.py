"""The sensors and the daily pass at scale: first runs capped per tick, probes concurrent within the
tick budget even when a station hangs, the stations that fell behind named, the daily pass below
sensor runs in the queue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import build_schedule_context

from pv_assets.operations.change_cursor import ChangeCursor, StationWatch
from pv_assets.operations.schedules import build_daily_full_refresh, describe_pass
from pv_assets.operations.sensors import station_change_sensor, station_registry_sensor, stations_behind
from pv_simulator import SimStationSpec
from tests.conftest import evaluate_sensor, fast_station_api, write_registry

IDS = [f"SC-{i:04d}" for i in range(1, 8)]


def test_registry_sensor_adds_every_new_partition_at_once_but_caps_first_runs_per_tick(
    simulator_factory, tmp_path, monkeypatch, dagster_instance
):
    sim = simulator_factory([SimStationSpec(s, records=1, seed=i, quirks=False) for i, s in enumerate(IDS)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    monkeypatch.setenv("PV_REGISTRY_FIRST_RUNS_PER_TICK", "3")

    first = evaluate_sensor(station_registry_sensor, dagster_instance, registry)
    [add] = first.dynamic_partitions_requests
    assert sorted(add.partition_keys) == IDS  # all partitions in one request
    assert [r.run_key for r in first.run_requests] == [f"first-run-{s}" for s in IDS[:3]]
    dagster_instance.add_dynamic_partitions("station", list(add.partition_keys))  # as the daemon does

    second = evaluate_sensor(station_registry_sensor, dagster_instance, registry, cursor=first.cursor)
    assert second.dynamic_partitions_requests == []
    assert [r.partition_key for r in second.run_requests] == IDS[3:6]
    third = evaluate_sensor(station_registry_sensor, dagster_instance, registry, cursor=second.cursor)
    assert [r.partition_key for r in third.run_requests] == IDS[6:]
    done = evaluate_sensor(station_registry_sensor, dagster_instance, registry, cursor=third.cursor)
    assert done.run_requests == [] and "no new stations" in done.skip_reason.skip_message


def test_change_sensor_keeps_its_budget_when_a_station_hangs_and_probes_concurrently(
    simulator_factory, tmp_path, monkeypatch, dagster_instance
):
    sim = simulator_factory([SimStationSpec(s, records=2, seed=i, quirks=False) for i, s in enumerate(IDS)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    dagster_instance.add_dynamic_partitions("station", IDS)
    monkeypatch.setenv("PV_CHANGE_SENSOR_BUDGET_S", "1.5")
    monkeypatch.setenv("PV_CHANGE_SENSOR_WORKERS", "4")
    sim.station("SC-0003").script("login", ["slow:6"])  # hangs well past the budget

    started = time.monotonic()
    result = evaluate_sensor(station_change_sensor, dagster_instance, registry)
    elapsed = time.monotonic() - started

    assert elapsed < 4.5, elapsed  # the budget (1.5 s) plus setup, not the 6 s hang
    seen = {s for s, w in ChangeCursor.from_json(result.cursor).stations.items() if w.checked_at}
    assert seen == set(IDS) - {"SC-0003"}  # the hung station stays due, first in line next tick
    # Polite: one login and one probe per station, never two at once to the same station.
    assert all(sim.station(s).max_concurrent_seen == 1 for s in IDS)
    probes = [r for r in sim.requests if "/infrastructure/records" in r.path]
    assert sorted(r.server for r in probes) == sorted(set(IDS) - {"SC-0003"})


def test_stations_behind_their_interval_are_named_oldest_first():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    class Station:
        def __init__(self, poll_interval_s):
            self.poll_interval_s = poll_interval_s

    def look(minutes_ago):
        return StationWatch(checked_at=(now - timedelta(minutes=minutes_ago)).isoformat())

    cursor = ChangeCursor(
        stations={
            "ok": look(10),
            "late": look(20),
            "later": look(40),
            "down": StationWatch(
                checked_at=(now - timedelta(hours=2)).isoformat(), failures=1, retry_at=now.isoformat()
            ),
        }
    )
    stations = {sid: Station(900) for sid in ("ok", "late", "later", "down", "new")}
    assert stations_behind(cursor, stations, now) == ["later", "late"]


def test_daily_pass_runs_below_sensor_runs_and_says_how_long_it_takes(simulator_factory, tmp_path, monkeypatch,
                                                                      dagster_instance):  # fmt: skip
    sim = simulator_factory([SimStationSpec(s, records=1, seed=i, quirks=False) for i, s in enumerate(IDS[:2])])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    dagster_instance.add_dynamic_partitions("station", IDS[:2])
    when = datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with build_schedule_context(
        instance=dagster_instance, scheduled_execution_time=when, resources={"station_api": fast_station_api(registry)}
    ) as context:
        requests = build_daily_full_refresh()(context)
    assert {r.tags["dagster/priority"] for r in requests} == {"-1"}
    assert "in 200 batch runs of up to 50" in describe_pass(10_000, 50, 12, -1)
    assert "full pass takes ~13.9 h" in describe_pass(10_000, 50, 12, -1)
