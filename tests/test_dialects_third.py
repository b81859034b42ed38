"""The third generation of dialects (issue 23), end to end against the simulator speaking `ruoyi`: media given
as file ids fetched through a URL template, the token in the query of every call (downloads included), the
station's own code in the records call's body, PageHelper paging that repeats its last page past the end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pv_model.dialect import load_interface
from pv_simulator import SimStationSpec
from resources.object_store import LocalDirObjectStore
from resources.station_api import StationApiError, StationClient, StationEndpoint
from tests.conftest import write_registry
from tests.test_dialects import collect_and_check

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ruoyi(simulator_factory):
    page_size = load_interface("ruoyi").records.page_size
    sim = simulator_factory([SimStationSpec("ST-0001", records=page_size + 12, seed=91, dialect="ruoyi")])
    return sim


def test_files_by_id_token_in_the_query_and_the_station_code_in_the_body(
    ruoyi, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    state = ruoyi.station("ST-0001")
    state.token_max_uses = 4  # the token dies every few calls, downloads included: answered by an envelope
    registry = write_registry(ruoyi, tmp_path / "stations.yaml", monkeypatch)
    result = collect_and_check(ruoyi, registry, dagster_instance, tmp_path, staging_dir, cdn_expected=False)
    frame = result.output_for_node("infrastructure_records")
    assert len(frame) == len(ruoyi.records("ST-0001"))  # PageHelper's repeated last page ended the paging
    assert state.logins > 2
    downloads = [r for r in ruoyi.requests if r.server == "ST-0001" and r.path.startswith("/api/file/download")]
    assert downloads and all("access_token=" in r.query for r in downloads)
    manifest = result.output_for_node("media_manifest")
    assert manifest.source_url.str.contains(r"/api/file/download\?fileId=F", regex=True).any()
    # The token never reached the audit: no stored table holds it.
    store = LocalDirObjectStore(tmp_path / "store")
    tables = b"".join(store.get_bytes(o.key) for o in store.list_prefix("_pv-media/"))
    assert tables and not any(token.encode() in tables for token in state.issued_tokens)


def test_the_records_body_carries_the_stations_own_code(ruoyi):
    """The station refuses a records call whose body names another station: the first test's success shows the
    registry's code went in; here the same call with another code is refused."""
    spec = ruoyi.specs[0]
    iface = load_interface("ruoyi")

    def client(code: str) -> StationClient:
        endpoint = StationEndpoint(
            "ST-0001", ruoyi.base_url("ST-0001"), spec.account, spec.password, placeholders={"station_code": code}
        )
        return StationClient(endpoint, iface)

    assert len(list(client("ST-0001").iter_records())) == len(ruoyi.records("ST-0001"))
    with pytest.raises(StationApiError, match="stationCode不正确"):
        list(client("ST-9999").iter_records())


def test_pagehelper_repeating_its_last_page_without_a_total_says_the_likely_cause(ruoyi):
    spec = ruoyi.specs[0]
    shipped = load_interface("ruoyi")
    blind = shipped.model_copy(update={"records": shipped.records.model_copy(update={"total": None, "pages": None})})
    endpoint = StationEndpoint(
        "ST-0001", ruoyi.base_url("ST-0001"), spec.account, spec.password, placeholders={"station_code": "ST-0001"}
    )
    with pytest.raises(StationApiError) as caught:
        list(StationClient(endpoint, blind).iter_records())
    assert (
        "or it repeats its last page past the end (PageHelper's reasonable mode): declare records.total or "
        "records.pages so paging stops there" in str(caught.value)
    )


def rewrite_records_path(request) -> None:
    """A hook that sends the records call where the vendor really serves it (same origin)."""
    request.url = request.url.replace("/recordz", "/records")


def rewrite_to_another_host(request) -> None:
    request.url = request.url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("hook", ["rewrite_records_path", "rewrite_to_another_host"])
def test_a_hook_that_rewrites_the_url_is_honoured_on_the_same_origin_only(simulator_factory, monkeypatch, hook):
    sim = simulator_factory([SimStationSpec("ST-0001", records=5, seed=92)])
    monkeypatch.setenv("PV_DIALECT_HOOK_MODULES", "tests.test_dialects_third")
    shipped = load_interface("default")
    hooked = shipped.model_copy(
        update={
            "hook": f"tests.test_dialects_third:{hook}",
            "records": shipped.records.model_copy(update={"path": "/api/v1/infrastructure/recordz"}),
        }
    )
    spec = sim.specs[0]
    client = StationClient(StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password), hooked)
    if hook == "rewrite_records_path":
        assert len(list(client.iter_records())) == len(sim.records("ST-0001"))
        return
    with pytest.raises(StationApiError) as caught:
        list(client.iter_records())
    assert (
        "the dialect's hook 'tests.test_dialects_third:rewrite_to_another_host' sent the request to another "
        "origin" in str(caught.value)
    )


def test_the_token_in_the_query_stays_out_of_the_http_librarys_debug_log(ruoyi, caplog):
    from resources import log_masking

    log_masking.install()
    spec = ruoyi.specs[0]
    endpoint = StationEndpoint(
        "ST-0001", ruoyi.base_url("ST-0001"), spec.account, spec.password, placeholders={"station_code": "ST-0001"}
    )
    with caplog.at_level("DEBUG", logger="urllib3.connectionpool"):
        list(StationClient(endpoint, load_interface("ruoyi")).iter_records())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "access_token=" in logged  # the parameter is logged, its value is not
    assert not any(token in logged for token in ruoyi.station("ST-0001").issued_tokens)


def second_worked_example() -> str:
    page = (ROOT / "docs" / "dialects.md").read_text("utf-8")
    return re.search(r"Save this as `conf/dialects/yunpv.yaml`:\n\n```yaml\n(.*?)```", page, re.S).group(1)


def test_the_second_worked_example_in_the_docs_works_without_code(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    yaml_text = second_worked_example()
    assert len(yaml_text.splitlines()) < 30  # the promise of the page
    dialects = tmp_path / "dialects"
    dialects.mkdir()
    (dialects / "yunpv.yaml").write_text(yaml_text, "utf-8")
    monkeypatch.setenv("PV_DIALECTS_DIR", str(dialects))
    sim = simulator_factory([SimStationSpec("ST-0001", records=62, seed=93, dialect="yunpv")])
    sim.station("ST-0001").token_max_uses = 5
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    result = collect_and_check(sim, registry, dagster_instance, tmp_path, staging_dir, cdn_expected=False)
    assert len(result.output_for_node("infrastructure_records")) == len(sim.records("ST-0001"))
    downloads = [r for r in sim.requests if r.path == "/api/file/download"]
    assert downloads and all(re.search(r"fileId=F[\w-]+&access_token=", r.query) for r in downloads)


def test_dialect_check_shows_what_each_file_id_resolves_to(ruoyi, tmp_path, monkeypatch, capsys):
    from pv_assets.cli.main import main

    registry = write_registry(ruoyi, tmp_path / "stations.yaml", monkeypatch)
    assert main(["dialect", "check", "--station", "ST-0001", "--stations", str(registry)]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    base = re.escape(ruoyi.base_url("ST-0001"))
    assert re.search(rf"photo /api/file/download\?fileId=(F[\w-]+) -> {base}/api/file/download\?fileId=\1", flat)
    assert "access_token" not in flat  # the token goes on the wire only
