"""Many simulated stations on one port (path prefix): a real collection through it, stations kept apart."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pv_assets.collection.staging import leftover_files
from pv_simulator import SimStationSpec
from pv_simulator.multi import MultiStationSimulator
from tests.conftest import (
    expected_sha256s,
    fast_station_api,
    media_objects,
    run_station,
    sha256,
    write_registry,
)

pytestmark = pytest.mark.integration  # simulators over HTTP (tests/tiers.py)

IDS = ["MP-0001", "MP-0002", "MP-0003"]


def test_stations_on_one_port_are_collected_like_stations_on_their_own(
    tmp_path, monkeypatch, dagster_instance, s3_endpoint, s3_store, staging_dir, s3_resource
):
    specs = [SimStationSpec(s, records=5, seed=i, quirks=False, all_picked_up=True) for i, s in enumerate(IDS)]
    with MultiStationSimulator(specs, retry_after="0") as sim:
        registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
        ports = {urlsplit(sim.base_url(s)).port for s in IDS}
        assert len(ports) == 1 and sim.base_url("MP-0002").endswith("/s/MP-0002")
        store = s3_resource
        result = run_station(dagster_instance, fast_station_api(registry), store, "MP-0002")
        assert result.success
        stored = sorted(sha256(s3_store.get_bytes(o.key)) for o in media_objects(s3_store))
        expected = expected_sha256s(sim, "MP-0002")
        assert stored == expected and len(stored) > 0
        # Only MP-0002 was asked: the others saw no login.
        assert [sim.station(s).logins for s in IDS] == [0, 1, 0]
        assert leftover_files(staging_dir) == []


def test_each_station_on_one_port_keeps_its_own_url_shapes():
    specs = [
        SimStationSpec("MP-0001", records=3, seed=1, quirks=False, dialect="solis"),
        SimStationSpec("MP-0002", records=3, seed=2, quirks=False, dialect="solis", url_shapes="mixed"),
    ]
    with MultiStationSimulator(specs) as sim:
        assert [sim.station(s).dialect.url_shapes for s in ("MP-0001", "MP-0002")] == ["text", "mixed"]
