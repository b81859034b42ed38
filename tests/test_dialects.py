"""Every shipped dialect passes the same end-to-end checks as the default one, against the
simulator speaking it; and a vendor shape that is not shipped is wired by a file alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pv_assets.collection.staging import leftover_files
from pv_model.dialect import InterfaceError, known_dialects, load_interface
from pv_model.identity import normalize_id_card
from pv_model.registry import RegistryError
from pv_simulator import SimStationSpec
from resources.dagster_resources import LocalStoreResource
from resources.object_store import LocalDirObjectStore
from resources.registry import load_registry
from tests.conftest import fast_station_api, media_objects, run_station, sha256, write_registry

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL = ["default", "fusionsolar", "isolarcloud", "sems"]
SECOND_GENERATION = ["growatt", "solis", "solaredge", "enphase"]
SHIPPED = ORIGINAL + SECOND_GENERATION


def test_the_shipped_dialects():
    assert set(SHIPPED) <= set(known_dialects())


def collect_and_check(
    sim, registry, dagster_instance, tmp_path, staging_dir, station_id="ST-0001", *, cdn_expected=True
):
    store_root = tmp_path / "store"
    result = run_station(
        dagster_instance, fast_station_api(registry), LocalStoreResource(root=str(store_root)), station_id
    )
    assert result.success, result.get_step_failure_events()
    store = LocalDirObjectStore(store_root)
    stored = media_objects(store)
    expected = {
        (normalize_id_card(m.id_card_no), m.canonical_url): m.sha256
        for m in sim.expected_media(station_id)
        if m.picked_up and m.outcome == "ok"
    }
    # Every picked-up file once, with the right bytes; nothing else.
    assert sorted(sha256(store.get_bytes(o.key)) for o in stored) == sorted(expected.values())
    failed = result.asset_value("uploaded_media").query("outcome == 'failed'")
    broken = [m for m in sim.expected_media(station_id) if m.picked_up and m.outcome != "ok"]
    assert len(failed) == len(broken)
    cdn = [r for r in sim.requests if r.server == "cdn"]
    assert (cdn or not cdn_expected) and all(r.authorization is None for r in cdn)  # no station token on a CDN
    assert not any("access_token=" in r.query for r in cdn)
    assert leftover_files(staging_dir) == []
    return result


@pytest.mark.parametrize("dialect", SHIPPED)
def test_each_dialect_end_to_end(dialect, simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance):
    interface = load_interface(dialect)
    # More records than one page holds, a token that dies every few calls, every URL quirk, and for
    # the second generation every URL shape (comma text, JSON arrays, objects, JSON in a string, nulls).
    records = interface.records.page_size + 12 if interface.records.page_size < 100 else 40
    shapes = "mixed" if dialect in SECOND_GENERATION else "text"
    sim = simulator_factory([SimStationSpec("ST-0001", records=records, seed=61, dialect=dialect, url_shapes=shapes)])
    state = sim.station("ST-0001")
    state.token_max_uses = 4
    state.script("records", ["code429", 429])  # rate limited, in the dialect's own way, then answered
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    result = collect_and_check(sim, registry, dagster_instance, tmp_path, staging_dir)
    frame = result.output_for_node("infrastructure_records")
    assert len(frame) == len(sim.records("ST-0001"))  # every page, each record once
    assert set(frame.pickup_status) <= {"picked_up", "not_picked_up", "partly_picked_up", "missing"}
    assert frame.region_company_code.notna().all()
    assert state.next_script("records") is None  # both rate-limit answers were met and waited out
    if interface.auth_scheme in ("login", "oauth2"):
        assert state.logins > 2  # re-logins after the token died
    station_calls = [r for r in sim.requests if r.server == "ST-0001" and "files" not in r.path]
    assert station_calls and all(r.status != 404 for r in station_calls)


def test_a_wrong_password_names_the_dialects_code(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=4, seed=62, dialect="fusionsolar")])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch, wrong_password_for=["ST-0001"])
    result = run_station(
        dagster_instance, fast_station_api(registry), LocalStoreResource(root=str(tmp_path / "s")), "ST-0001"
    )
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert message.startswith("station ST-0001: login failed: code 20400: ")


def worked_example() -> str:
    page = (ROOT / "docs" / "dialects.md").read_text("utf-8")
    return re.search(r"Save this as `conf/dialects/sunvault.yaml`:\n\n```yaml\n(.*?)```", page, re.S).group(1)


def test_the_worked_example_in_the_docs_works_without_code(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    dialects = tmp_path / "dialects"
    dialects.mkdir()
    yaml_text = worked_example()
    assert len(yaml_text.splitlines()) < 30  # the promise of the page
    (dialects / "sunvault.yaml").write_text(yaml_text, "utf-8")
    monkeypatch.setenv("PV_DIALECTS_DIR", str(dialects))
    assert "sunvault" in known_dialects()
    # More records than a page, in every URL shape; attachments carry photos and videos alike.
    sim = simulator_factory([SimStationSpec("ST-0001", records=62, seed=63, dialect="sunvault", url_shapes="mixed")])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    assert load_registry(registry).get("ST-0001").dialect == "sunvault"
    result = collect_and_check(sim, registry, dagster_instance, tmp_path, staging_dir)
    assert len(result.output_for_node("infrastructure_records")) == len(sim.records("ST-0001"))
    pages = [r.query for r in sim.requests if r.path == "/v2/installations"]
    assert len(pages) == 2 and "after=" in pages[1] and all("limit=50" in q for q in pages)
    manifest = result.output_for_node("media_manifest")
    assert set(manifest.source_field) == {"attachments[*].href"} and set(manifest.media_field) == {"photo", "video"}


def test_a_broken_dialect_is_refused_when_the_registry_loads(simulator_factory, tmp_path, monkeypatch):
    dialects = tmp_path / "dialects"
    dialects.mkdir()
    (dialects / "broken.yaml").write_text(worked_example().replace("path: /v2/installations", "path: v2/list"))
    monkeypatch.setenv("PV_DIALECTS_DIR", str(dialects))
    sim = simulator_factory([SimStationSpec("ST-0001", records=2, seed=64)])
    registry = write_registry(
        sim, tmp_path / "stations.yaml", monkeypatch, overrides={"ST-0001": {"dialect": "broken"}}
    )
    with pytest.raises(
        RegistryError,
        match=r"station ST-0001: field 'dialect': .*broken.yaml:\d+: key 'records.path' "
        r"must start with '/'",
    ):
        load_registry(registry)
    with pytest.raises(InterfaceError, match="unknown dialect 'nope'"):
        load_interface("nope")
