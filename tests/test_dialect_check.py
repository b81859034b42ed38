"""`pv-media dialect check`: what an engineer wiring a vendor sees, against the simulator; and the
paging bounds of issue 9 (a lying total, a station that pages forever)."""

from __future__ import annotations

import re

import pytest

from pv_assets.cli import main
from pv_simulator import SimStationSpec
from resources.identity import mask_id
from resources.interface import load_interface
from resources.station_api import StationApiError, StationClient, StationEndpoint
from tests.conftest import write_registry


@pytest.mark.parametrize("dialect", ["enphase", "growatt"])
def test_dialect_check_shows_what_the_dialect_made_of_the_first_page(
    dialect, simulator_factory, tmp_path, monkeypatch, capsys
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=30, seed=71, dialect=dialect, url_shapes="mixed")])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    assert main(["dialect", "check", "--station", "ST-0001", "--stations", str(registry)]) == 0
    shown = capsys.readouterr().out
    iface = load_interface(dialect)
    assert f"dialect '{dialect}'" in shown and "login: ok (token sha256:" in shown
    assert "envelope: ok" in shown and "paging: " in shown and "would ask for" in shown
    world = sim.records("ST-0001")
    for record in world[:3]:  # the first three records, their ID numbers masked
        assert f"record {record['recordId']}: id {mask_id(record['idCardNo'])}" in shown
    assert world[3]["recordId"] not in shown
    assert all(record["idCardNo"] not in shown for record in world if record["idCardNo"])
    fields = [*iface.fields.photo_urls, *iface.fields.video_urls]
    assert any(f"  {field}:" in shown for field in fields)
    assert re.search(r"    (photo|video) http://127\.0\.0\.1:\d+/", shown)
    spec = sim.specs[0]
    for secret in [spec.password, *sim.station("ST-0001").issued_tokens]:
        assert secret not in shown


def client_for(sim, dialect="default", **endpoint):
    spec = sim.specs[0]
    return StationClient(
        StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password, 4, (), **endpoint),
        load_interface(dialect),
    )


def test_a_huge_total_plans_no_pages_and_a_page_limit_stops_an_endless_station(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=45, seed=72)])
    state = sim.station("ST-0001")
    original = state.records_page

    def endless(page_no, page_size, updated_since, start=None):
        # Every page is new and full, and the station claims 10^13 records.
        page = original(1, page_size, updated_since)
        for record in page["records"]:
            record["recordId"] = f"{record['recordId']}-{page_no}"
        return {**page, "total": 10**13}

    state.records_page = endless
    client = client_for(sim, max_pages=7)
    seen = []
    with pytest.raises(StationApiError, match=r"stopped after 7 pages \(the page limit: max_pages in the registry"):
        seen.extend(client.iter_records())
    assert len(seen) == 7 * 45
    pages = [r for r in sim.requests if "/infrastructure/records" in r.path]
    assert len(pages) <= 7  # the window fetched ahead, never past the limit


def test_a_record_limit_ends_the_station_clearly(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=45, seed=73)])
    with pytest.raises(StationApiError, match=r"stopped at 20 records \(the record limit"):
        list(client_for(sim, max_records=20).iter_records())
