"""The simulated group world as a model: deterministic, shaped like a group's, its truth consistent with it."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric

from pv_model.dialect import PHOTO_TYPES, load_interface
from pv_simulator.typed_photos import WORLD_PHOTO_FIELDS
from pv_simulator.world import REQUIRED_PHOTO_TYPES, WORLD_NOW, WorldSizeError, check_seed, group_world, world_size
from pv_simulator.world.geography import distance_m
from pv_simulator.world.model import REUSE_TRANSFORMS
from pv_simulator.world.truth import THRESHOLDS, truth_document, write_truth

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small():
    return group_world("small", 1)


def test_the_same_size_and_seed_make_the_same_world_and_another_seed_another():
    def fingerprint(seed: int) -> str:
        world = group_world(world_size("tiny"), seed)
        return json.dumps(truth_document(world), ensure_ascii=False, sort_keys=True)

    first = fingerprint(5)
    from pv_simulator.world.generate import _build

    _build.cache_clear()  # built again from nothing, not taken from the cache
    assert fingerprint(5) == first
    assert fingerprint(6) != first


def test_a_world_looks_like_a_group(small):
    # named regional companies in several provinces, every region with stations
    regions = {plan.region_code for plan in small.stations}
    assert regions == {region.code for region in small.regions} and len(regions) == 4
    assert len({region.province for region in small.regions}) >= 3
    assert all(small.region_name(code).endswith("区域公司") for code in regions)
    # a long tail of station sizes
    sizes = sorted((len(plan.installations) for plan in small.stations), reverse=True)
    assert sizes[0] >= 4 * sizes[-1] and sizes[0] > 2 * statistics.median(sizes)
    # one station of each kind of trouble, the rest healthy; pickup rates differ
    health = Counter(plan.health for plan in small.stations)
    assert health == {"healthy": 4, "broken_links": 1, "login_fails": 1, "slow": 1, "stale": 1}
    assert len({plan.pickup_rate for plan in small.stations}) == len(small.stations)
    assert max(p.pickup_rate for p in small.stations) - min(p.pickup_rate for p in small.stations) > 0.2


def test_installations_carry_what_a_planner_uses(small):
    installations = [i for plan in small.stations for i in plan.installations]
    picked = [i for i in installations if i.picked_up]
    install_dates = sorted(i.install_date for i in picked)
    assert (install_dates[-1] - install_dates[0]).days > 700  # two years and more: trends exist
    assert all(i.install_date <= WORLD_NOW.date() and i.pickup_time.date() <= i.install_date for i in picked)
    assert all(i.updated_at <= WORLD_NOW for i in installations)
    assert len({i.county for i in installations}) >= 5 and len({i.village for i in installations}) >= 20
    for i in installations:
        assert i.address.startswith(i.province + i.city + i.county + i.town + i.village)
        county_centre = next(c for r in small.regions for c in r.counties if c.name == i.county)
        assert distance_m(i.lat, i.lon, county_centre.lat, county_centre.lon) < 30_000
        assert ric.is_valid(i.id_card_no) and len(i.phone) == 11 and i.phone.startswith("1")
        assert 2 <= i.capacity_kw <= 500
    capacities = [i.capacity_kw for i in picked]
    assert 8 < statistics.median(capacities) < 20


def test_photos_are_typed_and_camera_like(small):
    photos = [(i, p) for _plan, i, p in small.photos() if i.picked_up]
    assert {p.type for _i, p in photos} == set(PHOTO_TYPES)
    formats = Counter(p.fmt for _i, p in photos)
    assert formats["jpeg"] > 0.8 * len(photos) and formats["heic"] and formats["png"] and formats["webp"]
    with_exif = [(i, p) for i, p in photos if p.exif]
    assert 0.8 * len(photos) < len(with_exif) < len(photos)  # some travelled through a messenger, none are screenshots
    assert len({(p.exif.make, p.exif.model) for _i, p in with_exif}) >= 5
    assert {p.exif.orientation for _i, p in with_exif} >= {1, 6}
    for installation, photo in with_exif:
        if not photo.planted and not photo.source:
            assert abs((photo.exif.taken.date() - installation.install_date).days) <= 2
            if photo.exif.lat is not None:
                assert distance_m(installation.lat, installation.lon, photo.exif.lat, photo.exif.lon) <= 41
    missing = [i for i, _p in photos if i.missing_types()]
    assert 0 < len({id(i) for i in missing}) < 0.4 * len({id(i) for i, _p in photos})


def test_planted_problems_are_findable_and_the_truth_lists_every_one(small, tmp_path):
    truth = write_truth(small, tmp_path / "truth.json")
    assert json.loads((tmp_path / "truth.json").read_text("utf-8")) == truth
    planted = truth["planted"]
    transforms = [copy["transform"] for cluster in planted["reuse"] for copy in cluster["copies"]]
    assert set(transforms) == set(REUSE_TRANSFORMS)
    failing = set(truth["figures"]["failing_stations"])
    for cluster in planted["reuse"]:
        households = {(c["station_id"], c["record_id"]) for c in [cluster["source"], *cluster["copies"]]}
        assert len(households) == len(cluster["copies"]) + 1  # each copy in another household
        assert not {station for station, _record in households} & failing  # every case can be collected
    assert all(case["distance_m"] > 3 * THRESHOLDS["gps_far_m"] for case in planted["gps_far"])
    assert all(case["days_before_install"] >= 120 for case in planted["captured_early"])
    found_far = {(f["station_id"], f["path_tail"]) for f in truth["findings"]["gps_far"]}
    assert {(c["station_id"], c["path_tail"]) for c in planted["gps_far"]} <= found_far
    assert {f["cause"] for f in truth["findings"]["gps_far"]} <= {"gps_far", "reuse_copy"}
    # the figures add up to the installations listed
    listed = truth["installations"]
    assert truth["world"]["installations"] == len(listed) == sum(s["installations"] for s in truth["stations"])
    for code, region in truth["figures"]["by_region"].items():
        picked = [i for i in listed if i["pickup_status"] == "已提货" and i["station_id"] in _stations_of(truth, code)]
        assert region["picked_up"] == len(picked)
        assert region["capacity_kw_picked_up"] == pytest.approx(sum(i["capacity_kw"] for i in picked), abs=0.01)
        months = truth["figures"]["by_region_month"][code]
        assert sum(m.get("picked_up", 0) for m in months.values()) == len(picked)
        assert sum(m.get("capacity_kw_installed", 0) for m in months.values()) == pytest.approx(
            region["capacity_kw_picked_up"], abs=0.05
        )
    missing = Counter(t for i in listed for t in i["missing_types"])
    by_station = Counter()
    for station in truth["stations"]:
        by_station.update(station["missing_types"])
    assert missing == +by_station and len(planted["missing_types"]) == sum(1 for i in listed if i["missing_types"])
    assert truth["required_photo_types"] == list(REQUIRED_PHOTO_TYPES)
    assert "owner" not in json.dumps(truth) and not any(i["record_id"] in json.dumps(truth["regions"]) for i in listed)


def _stations_of(truth: dict, code: str) -> set[str]:
    return {s["id"] for s in truth["stations"] if s["region_code"] == code}


def test_sizes_and_seeds_that_cannot_be_made_are_refused_with_what_to_ask_for():
    with pytest.raises(WorldSizeError, match="unknown world size 'huge': choose one of tiny, small, medium, large"):
        world_size("huge")
    with pytest.raises(WorldSizeError, match="at least 6 stations"):
        world_size("small", stations=4)
    with pytest.raises(WorldSizeError, match="10 stations need at least 30 installations"):
        world_size("small", stations=10, installations=20)
    with pytest.raises(WorldSizeError, match="a world seed is a whole number from 0 to 4294967295, got -1"):
        check_seed(-1)
    assert world_size("medium", stations=50).installations == 50 * 2_400 // 36


def test_the_cli_refuses_an_impossible_world_with_exit_2():
    done = subprocess.run(
        [sys.executable, "-m", "pv_assets.cli", "simulate", "--world", "small", "--stations", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "a world needs at least 6 stations" in done.stderr
    demo = subprocess.run(
        [sys.executable, "-m", "pv_assets.cli", "demo", "--world", "huge"], cwd=ROOT, capture_output=True, text=True
    )
    assert demo.returncode == 2 and "unknown world size 'huge'" in demo.stderr


def test_the_v1_dialect_declares_the_worlds_typed_photo_fields():
    fields = load_interface("default").fields
    assert {path: kind for path, kind in fields.photo_types.items()} == {v: k for k, v in WORLD_PHOTO_FIELDS.items()}
    assert set(WORLD_PHOTO_FIELDS) == set(REQUIRED_PHOTO_TYPES)
