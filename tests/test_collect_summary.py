"""The collect summary: a station whose every media item failed is not "ok" and fails the exit code; the
failures by reason are printed without -v."""

from __future__ import annotations

import pytest

from pv_assets.cli import collect as collect_cli
from pv_assets.operations.station_run import StationRunOutcome, failures_from_metadata

ALL_FAILED = StationRunOutcome(
    "ST-1", True, "run-1", {"records": 10, "media_items": 10, "uploaded": 0, "skipped": 0, "failed": 10},
    failures={"forbidden_target": 7, "not_found": 3},
)  # fmt: skip
PARTLY = StationRunOutcome(
    "ST-2", True, "run-2", {"media_items": 10, "uploaded": 8, "skipped": 0, "failed": 2}, failures={"gone": 2}
)
AGAIN = StationRunOutcome("ST-3", True, "run-3", {"media_items": 4, "uploaded": 0, "skipped": 4, "failed": 0})


def test_a_station_whose_every_item_failed_is_not_collected():
    assert ALL_FAILED.every_item_failed and not ALL_FAILED.collected
    assert PARTLY.collected and AGAIN.collected and not AGAIN.every_item_failed
    assert not StationRunOutcome("ST-4", False, "").collected


def test_the_summary_says_it_and_counts_the_reasons(capsys):
    collect_cli.print_summary([ALL_FAILED, PARTLY, AGAIN])
    printed = capsys.readouterr().out
    assert "ALL ITEMS FAILED" in next(line for line in printed.splitlines() if "ST-1" in line)
    assert "ST-1: every media item failed - forbidden_target 7, not_found 3" in printed
    assert "ST-2: media items failed - gone 2" in printed
    assert "ST-3: media items failed" not in printed


def test_the_exit_code_is_1_when_a_station_stored_nothing(monkeypatch, tmp_path):
    registry = tmp_path / "stations.yaml"
    registry.write_text("stations: []\n", "utf-8")
    monkeypatch.setattr(collect_cli, "collect_in_processes", lambda *args, **kwargs: [PARTLY, ALL_FAILED])
    monkeypatch.setattr(collect_cli, "load_registry", lambda path=None: _Registry(registry, ["ST-1", "ST-2"]))
    code, _ = collect_cli.collect(["ST-1", "ST-2"], all_stations=False, stations_file=str(registry), parallel=2,
                                  gallery_index=False)  # fmt: skip
    assert code == 1


class _Registry:
    def __init__(self, path, ids):
        self.path, self._ids = path, ids

    def ids(self):
        return self._ids


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [({"uploaded_media": {"failures_by_reason": {"gone": 2}}}, {"gone": 2}), ({}, {}), ({"uploaded_media": {}}, {})],
)
def test_failures_come_from_uploaded_medias_metadata(metadata, expected):
    assert failures_from_metadata(metadata) == expected
