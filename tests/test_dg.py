"""Dagster's current project tooling works on pv-media: `dg check defs` and `dg list defs`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).with_name("dg")

pytestmark = [
    pytest.mark.integration,  # the dg command as a subprocess (tests/tiers.py)
    pytest.mark.skipif(not DG.exists(), reason="dagster-dg-cli is not installed (make install)"),
]


def dg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DG), *args], cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_dg_check_and_list_defs_see_the_pipeline():
    check = dg("check", "defs")
    assert check.returncode == 0, check.stderr[-2000:]
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = dg("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    defs = json.loads(listed.stdout)
    assets = {a["asset_key"] for a in defs["assets"]}
    assert {"station_token", "infrastructure_records", "media_manifest", "uploaded_media"} <= assets
    assert {s["name"] for s in defs["sensors"]} >= {"station_registry_sensor", "station_change_sensor"}
    assert "daily_full_refresh" in {s["name"] for s in defs["schedules"]}


def test_assets_link_to_their_source():
    from pv_assets.definitions import make_definitions

    graph = make_definitions().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        references = graph.get(key).metadata.get("dagster/code_references")
        assert references is not None, key
        files = {Path(ref.file_path).relative_to(ROOT).as_posix() for ref in references.code_references}
        domains = ("pv_assets/collection/", "pv_assets/gallery/", "pv_assets/evidence/")
        assert files and all(f.startswith(domains) for f in files), (key, files)
