"""`pv-media dialect check`: what an engineer wiring a vendor sees, against the simulator; and the
paging bounds of issue 9 (a lying total, a station that pages forever)."""

from __future__ import annotations

import re

import pytest

from pv_assets.cli.main import main
from pv_model.dialect import load_interface
from pv_model.identity import mask_id
from pv_simulator import SimStationSpec
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

    def endless(page_no, page_size, updated_since, start=None, **_options):
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


def test_the_deadline_ends_a_slow_station_run(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=60, seed=74, dialect="growatt")])
    with pytest.raises(StationApiError, match=r"stopped after \d+ s \(the deadline: records_deadline_s"):
        list(client_for(sim, "growatt", records_deadline_s=1e-6).iter_records())


NEXT_LINK = """\
name: linked
envelope: {{style: none}}
login:
  {{path: /api/v1/auth/login, body: {{account: "{{account}}", password: "{{password}}"}}, token: token,
   send_header: Authorization}}
records:
  path: /api/v1/infrastructure/records
  paging: next_link
  {link}
  page_size_param: size
  page_size: 7
  items: records
fields: {{record_id: recordId, id_card_no: idCardNo, pickup_status: pickupStatus, photo_urls: photoUrls}}
pickup_status: {{已提货: picked_up}}
"""


@pytest.mark.parametrize("link", ["next_link_path: links.next", "stop_on: [empty_page]"])
def test_next_link_paging_from_the_body_or_the_link_header(link, simulator_factory, tmp_path, monkeypatch):
    (tmp_path / "linked.yaml").write_text(NEXT_LINK.format(link=link), "utf-8")
    monkeypatch.setenv("PV_DIALECTS_DIR", str(tmp_path))
    sim = simulator_factory([SimStationSpec("ST-0001", records=20, seed=75, dialect="linked")])
    records = list(client_for(sim, "linked").iter_records())
    assert [r["recordId"] for r in records] == [r["recordId"] for r in sim.records("ST-0001")]
    pages = [r.query for r in sim.requests if r.path == "/api/v1/infrastructure/records"]
    assert pages == ["size=7", "size=7&start=7", "size=7&start=14"]


def test_the_registry_requires_a_region_the_dialect_cannot_name(simulator_factory, tmp_path, monkeypatch):
    from pv_model.registry import RegistryError
    from resources.registry import load_registry

    sim = simulator_factory([SimStationSpec("ST-0001", records=2, seed=76, dialect="solaredge")])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    assert load_registry(registry).get("ST-0001").region_company_code == "RC-320100"
    text = registry.read_text("utf-8").replace("  region_company_code: RC-320100\n", "")
    (tmp_path / "no-region.yaml").write_text(text, "utf-8")
    with pytest.raises(RegistryError, match="region_company_code is required: dialect 'solaredge' has no station-info"):
        load_registry(tmp_path / "no-region.yaml")


def test_dialect_check_says_why_a_login_failed_and_never_shows_the_password(
    simulator_factory, tmp_path, monkeypatch, capsys
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=3, seed=77, dialect="fusionsolar")])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch, wrong_password_for=["ST-0001"])
    assert main(["dialect", "check", "--station", "ST-0001", "--stations", str(registry)]) == 1
    shown = capsys.readouterr().out
    assert "FAILED: station ST-0001: login failed: code 20400:" in shown
    assert sim.specs[0].password not in shown and "wrong-" not in shown


def test_a_wrong_items_path_is_named_not_read_as_an_empty_station(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=3, seed=78, dialect="solaredge")])
    client = client_for(sim, "solaredge")
    iface = client.interface
    client.interface = iface.model_copy(update={"records": iface.records.model_copy(update={"items": "installs"})})
    with pytest.raises(StationApiError, match="records page 1 failed: response has no 'installs'"):
        list(client.iter_records())


def test_a_token_sent_where_the_vendor_does_not_look_names_the_vendors_code_and_the_delivery(simulator_factory):
    """FusionSolar wants the token in XSRF-TOKEN; a dialect that sends it as a Bearer header is refused on every
    call. The error carries the vendor's own code (305) and says where the dialect sends the token."""
    sim = simulator_factory([SimStationSpec("ST-0001", records=3, seed=77, dialect="fusionsolar")])
    shipped = load_interface("fusionsolar")
    wrong = shipped.model_copy(
        update={"login": shipped.login.model_copy(update={"send_header": "Authorization", "send_prefix": "Bearer "})}
    )
    spec = sim.specs[0]
    client = StationClient(StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password), wrong)
    with pytest.raises(StationApiError) as caught:
        client.station_info()
    assert caught.value.code == "305"
    assert "token rejected again right after a fresh login" in str(caught.value)
    assert "this dialect sends the token in the header 'Authorization' with the prefix 'Bearer '" in str(caught.value)


def test_an_items_path_that_points_at_nothing_fails_with_the_lists_the_answer_has(simulator_factory):
    """It used to be a successful run with 0 records while the station's own total said 30."""
    sim = simulator_factory([SimStationSpec("ST-0001", records=30, seed=78)])
    shipped = load_interface("default")
    wrong = shipped.model_copy(update={"records": shipped.records.model_copy(update={"items": "data.items"})})
    spec = sim.specs[0]
    client = StationClient(StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password), wrong)
    with pytest.raises(StationApiError) as caught:
        list(client.iter_records())
    total = len(sim.records("ST-0001"))
    assert (
        f"records page 1 failed: records.items 'data.items' points at nothing, but the station says total {total}; "
        f"lists in the answer: 'data.records' ({min(total, 200)} items)"
    ) in str(caught.value)


def test_a_first_page_that_is_empty_while_the_total_is_not_names_first_page_and_the_offset_question(
    simulator_factory,
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=30, seed=79)])
    shipped = load_interface("default")
    # Asking from page 100: the station answers an empty page and its total, as a page counter misread would.
    wrong = shipped.model_copy(update={"records": shipped.records.model_copy(update={"first_page": 100})})
    spec = sim.specs[0]
    client = StationClient(StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password), wrong)
    with pytest.raises(StationApiError) as caught:
        list(client.iter_records())
    assert "page 1 has no records at 'data.records', but the station says total" in str(caught.value)
    assert "check records.first_page (100: does the station count pages from 0 or 1?)" in str(caught.value)
    assert "whether 'pageNo' counts records, not pages (then paging: offset)" in str(caught.value)


def test_dialect_check_applies_the_media_host_rule_and_shows_a_station_code_mismatch(
    simulator_factory, tmp_path, monkeypatch, capsys
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=30, seed=80)])
    overrides = {"ST-0001": {"media_hosts": [], "station_code": "ST-9999"}}
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch, overrides=overrides)
    first = sim.records("ST-0001")[0]["recordId"]
    sim.station("ST-0001").update_record(first, photoUrls=f"http://{sim.cdn_host}/cdn/a.jpg,files/own.jpg")
    assert main(["dialect", "check", "--station", "ST-0001", "--stations", str(registry)]) == 0
    shown = capsys.readouterr().out
    assert (
        "MISMATCH: the registry expects station code 'ST-9999' (station_code, else the id) but the account "
        "belongs to 'ST-0001'"
    ) in shown
    flat = " ".join(shown.split())  # the console wraps long lines
    assert (
        f"photo http://{sim.cdn_host}/cdn/a.jpg REFUSED: host localhost resolves to 127.0.0.1, which is a loopback "
        "address and not the station host or one of its media_hosts (the vendor's CDN? add its host to media_hosts "
        "in the registry)"
    ) in flat
    own = re.escape(f"photo files/own.jpg -> {sim.base_url('ST-0001')}/files/own.jpg")
    assert re.search(own + r"(?! REFUSED| WARNING)", flat)  # the station's own host: allowed, no verdict


def test_dialect_check_says_when_the_page_parameter_counts_records(simulator_factory, tmp_path, monkeypatch, capsys):
    sim = simulator_factory([SimStationSpec("ST-0001", records=230, seed=81)])
    state = sim.station("ST-0001")
    original = state.records_page

    def offset_like(page_no, page_size, updated_since, start=None, **_options):  # pageNo counts records from 1
        return original(1, page_size, updated_since, start=page_no - 1)

    monkeypatch.setattr(state, "records_page", offset_like)
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    main(["dialect", "check", "--station", "ST-0001", "--stations", str(registry)])
    assert (
        "likely fix: page 2 repeats page 1 shifted by one record: 'pageNo' counts records, not pages - write "
        "paging: offset, offset_param: pageNo"
    ) in capsys.readouterr().out
