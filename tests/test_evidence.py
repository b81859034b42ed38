"""Evidence (issue 27) without a socket: facts of a photo's bytes, the BK-tree against brute force, the findings,
facts read in staging once and kept on a re-run, the checks' metadata, and the small world scored against its truth."""

from __future__ import annotations

import datetime as dt
import io
import random

import pyarrow.parquet as pq
import pytest
from PIL import Image

from bench.evidence_truth import late_on_reused_copies, score, visible_installations
from pv_assets.collection.collector import StationCollector
from pv_assets.evidence.facts import photo_facts
from pv_assets.evidence.findings import Thresholds, all_findings, distance_m, photo_findings
from pv_assets.evidence.group import evidence_checks
from pv_assets.evidence.hamming import BKTree, MultiIndex, brute_force_pairs, near_pairs
from pv_assets.evidence.photo_facts import StagedFacts
from pv_assets.evidence.station import piece_rows
from pv_assets.gallery.previews.bounds import TooManyPixels
from pv_assets.gallery.previews.builder import listed_preview_keys
from pv_assets.gallery.staged_previews import StagedPreviews
from pv_model.evidence_contract import EVIDENCE_FACTS_KEY
from pv_simulator.camera.cache import picture_bytes
from pv_simulator.camera.exif import exif_bytes
from pv_simulator.camera.render import picture_spec
from pv_simulator.world import group_world, world_size
from pv_simulator.world.model import SERVED_OK, Exif
from pv_simulator.world.truth import truth_document
from resources.object_store import LocalDirObjectStore
from tests.test_staged_previews import REGION, STATION, FakeStation, RecordingStore, manifest_rows

LIMIT = 64_000_000
TAKEN = dt.datetime(2025, 6, 1, 10, 30, 15)
EXIF = Exif("HUAWEI", "P40", "HarmonyOS 4", TAKEN, 31.5, 117.25, 30.0, orientation=1)


def picture(size=(400, 300), seed=1) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, (200, 200, 200))
    for _ in range(12):  # blocks: a structure the hash can see
        x, y = rng.randrange(size[0] - 60), rng.randrange(size[1] - 60)
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 60, y + 60))
    return image


def jpeg(image: Image.Image, exif: Exif | None = EXIF, quality=90) -> bytes:
    buffer = io.BytesIO()
    extra = {"exif": exif_bytes(exif, *image.size)} if exif else {}
    image.save(buffer, "JPEG", quality=quality, **extra)
    return buffer.getvalue()


def test_facts_of_a_phone_photo_are_its_exif_and_a_hash_that_survives_resizing_and_turning():
    upright = picture()
    facts = photo_facts(io.BytesIO(jpeg(upright)), LIMIT)
    assert (facts.make, facts.model, facts.software) == ("HUAWEI", "P40", "HarmonyOS 4")
    assert facts.taken_at == "2025-06-01T10:30:15"
    assert abs(facts.gps_lat - 31.5) < 1e-6 and abs(facts.gps_lon - 117.25) < 1e-6
    assert facts.has_camera_data and len(facts.phash) == 16
    # stored turned, with the EXIF orientation that turns it back: the same picture to the hash
    turned = jpeg(upright.transpose(Image.Transpose.ROTATE_90), EXIF.__class__(**{**EXIF.__dict__, "orientation": 6}))
    smaller = jpeg(upright.resize((240, 180)), None, quality=50)
    for copy in (turned, smaller):
        bits = (int(photo_facts(io.BytesIO(copy), LIMIT).phash, 16) ^ int(facts.phash, 16)).bit_count()
        assert bits <= 6, bits
    other = int(photo_facts(io.BytesIO(jpeg(picture(seed=2))), LIMIT).phash, 16)
    assert (other ^ int(facts.phash, 16)).bit_count() > 8


def test_a_screenshot_has_no_camera_data_and_a_huge_picture_is_refused_before_decoding():
    buffer = io.BytesIO()
    picture().save(buffer, "PNG")
    facts = photo_facts(io.BytesIO(buffer.getvalue()), LIMIT)
    assert not facts.has_camera_data and facts.taken_at is None and facts.make is None
    big = io.BytesIO()
    Image.new("RGB", (1200, 1000)).save(big, "PNG")
    with pytest.raises(TooManyPixels, match=r"1200 x 1000 = 1.2 MP, over the limit of 1 MP"):
        photo_facts(io.BytesIO(big.getvalue()), 1_000_000)


def test_the_multi_index_and_the_bk_tree_find_exactly_the_pairs_brute_force_finds():
    rng = random.Random(7)
    hashes = [(n, rng.getrandbits(64)) for n in range(1500)]
    for n in range(0, 300, 3):  # near copies: a few bits flipped
        flipped = hashes[n][1]
        for bit in rng.sample(range(64), rng.randint(0, 10)):
            flipped ^= 1 << bit
        hashes.append((f"copy{n}", flipped))
    by_brute = {tuple(sorted(map(str, (a, b)))) + (d,) for a, b, d in brute_force_pairs(hashes, 8)}
    assert len(by_brute) >= 60
    for index in (MultiIndex(8), BKTree()):
        by_index = {tuple(sorted(map(str, (a, b)))) + (d,) for a, b, d in near_pairs(hashes, 8, index)}
        assert by_index == by_brute, type(index).__name__
    tree = BKTree()
    tree.add(0b1011, "a")
    tree.add(0b1011, "b")
    assert sorted(tree.within(0b1010, 1)) == [("a", 1), ("b", 1)] and tree.size == 2


def _fact(record: str, phash: str, **extra) -> dict:
    where = {"station_id": "ST-1", "region_code": "RC-1", "record_id": record, "item_id": f"{record}-{phash[:4]}"}
    return where | {"thumb_key": None, "phash": phash, "facts_outcome": "computed", "has_camera_data": True, **extra}


def test_findings_cluster_only_across_installations_and_measure_distance_and_days():
    same_house = [_fact("R1", "ffff0000ffff0000"), _fact("R1", "ffff0000ffff0001")]
    assert all_findings(same_house, Thresholds()) == []  # two shots of one house are no reuse
    reused = [*same_house, _fact("R2", "ffff0000ffff0003"), _fact("R3", "0000ffff0000ffff")]
    clusters = [f for f in all_findings(reused, Thresholds()) if f["kind"] == "reuse"]
    assert [(f["record_id"], f["cluster"], f["installations"], f["hash_bits"]) for f in clusters] == [
        ("R1", 1, 2, 1), ("R1", 1, 2, 1), ("R2", 1, 2, 1)
    ]  # fmt: skip
    # Look-alikes: pHashes 1 bit apart, dHashes 19 apart - not the same picture (two nameplates of one model).
    alike = [_fact("R1", "ffff0000ffff0000", dhash="0" * 16), _fact("R2", "ffff0000ffff0001", dhash="7ffff" + "0" * 11)]
    assert all_findings(alike, Thresholds()) == []
    assert len(all_findings(alike, Thresholds(dhash_bits=19))) == 2
    home = {"installation_lat": 31.0, "installation_lon": 117.0, "install_date": "2025-06-10"}
    far = _fact("R4", "1" * 16, gps_lat=31.0, gps_lon=117.02, taken_at="2025-05-10T09:00:00", **home)
    found = {f["kind"]: f for f in photo_findings(far, Thresholds())}
    assert found["gps_far"]["distance_m"] == round(distance_m(31.0, 117.0, 31.0, 117.02)) == 1906
    assert found["captured_early"]["days_gap"] == 31
    assert photo_findings(far, Thresholds(gps_far_m=2000, early_days=31)) == []  # the thresholds are the settings'
    late = _fact("R5", "2" * 16, taken_at="2026-06-11T09:00:00", has_camera_data=False, **home)
    assert [(f["kind"], f["days_gap"]) for f in photo_findings(late, Thresholds())] == [
        ("captured_late", 366), ("no_camera_data", None)
    ]  # fmt: skip


def test_the_checks_warn_with_counts_and_masked_examples():
    findings = all_findings(
        [_fact("110101199003074518", "ffff0000ffff0000"), _fact("R2", "ffff0000ffff0001")], Thresholds()
    )
    reuse, gps, window = evidence_checks(findings, Thresholds())
    assert (reuse.passed, reuse.severity.value, gps.passed, window.passed) == (False, "WARN", True, True)
    assert reuse.metadata["clusters"].value == 1 and reuse.metadata["PV_EVIDENCE_DUPLICATE_BITS"].value == 8
    assert reuse.metadata["examples"].data == ["cluster 1: ST-1/110101********4518, ST-1/R2"]


def _collect(store, files, rows, staging, previous=None):
    facts = StagedFacts(previous or {}, max_pixels=LIMIT)
    existing = listed_preview_keys(store, [row["key_stem"] for row in rows])  # the previews are there on a re-run
    previews = StagedPreviews(store, existing, {}, max_pixels=LIMIT, workers=2, facts=facts)
    outcomes = StationCollector(FakeStation(files), store, staging, "run", workers=2, on_stored=previews.take).run_rows(
        rows
    )
    previews.finish(outcomes)
    return facts.finish(store, outcomes)


def test_facts_are_read_in_staging_once_kept_on_a_rerun_and_read_from_the_store_only_when_never_seen(tmp_path):
    rows = manifest_rows(4)
    files = {row["source_url"]: jpeg(picture(seed=n)) for n, row in enumerate(rows)}
    store, staging = RecordingStore(tmp_path / "store"), tmp_path / "staging"
    staging.mkdir()
    first, tally = _collect(store, files, rows, staging)
    assert [r["facts_outcome"] for r in first] == ["computed"] * 4 and tally.original_bytes_read == 0
    assert store.originals_read == [] and all(r["make"] == "HUAWEI" for r in first)
    assert list(staging.iterdir()) == []  # every staging file deleted
    previous = {r["object_key"]: r for r in first}
    again, tally = _collect(store, files, rows, staging, previous)  # skipped: stored before
    assert [r["facts_outcome"] for r in again] == ["kept"] * 4 and store.originals_read == []
    hashes = {r["object_key"]: r["phash"] for r in first}
    assert {r["object_key"]: r["phash"] for r in again} == hashes
    unseen = sorted(hashes)[0]
    del previous[unseen]  # stored before the evidence code existed
    third, tally = _collect(store, files, rows, staging, previous)
    assert sorted((r["object_key"], r["facts_outcome"]) for r in third) == [
        (key, "read" if key == unseen else "kept") for key in sorted(hashes)
    ]
    assert {r["object_key"]: r["phash"] for r in third} == hashes
    size = next(len(data) for url, data in files.items() if url.endswith(f"/{int(unseen[-12:-4], 16)}.jpg"))
    assert 0 < tally.original_bytes_read <= size  # one pass at most (a small file: one range read)
    assert set(store.originals_read) == {unseen}


def test_the_piece_puts_each_photo_beside_its_installation():
    fact = {"station_id": STATION, "record_id": "R1", "item_id": "abc", "object_key": f"{REGION}/{STATION}/x.jpg",
            "phash": "00ff" * 4, "has_camera_data": True, "gps_lat": 31.1}  # fmt: skip
    record = {"record_id": "R1", "latitude": "31.25", "longitude": "117.5", "installDate": "2025-06-10"}
    [row] = piece_rows([fact], [record])
    assert (row["installation_lat"], row["installation_lon"], row["install_date"]) == (31.25, 117.5, "2025-06-10")
    assert row["region_code"] == REGION and row["thumb_key"] == f"_pv-media/previews/{REGION}/{STATION}/abc/thumb.webp"
    assert row["pickup_time"] is None


def test_on_the_small_world_every_planted_case_is_found_and_nothing_else():
    world = group_world(world_size("tiny"), 2)
    rows = []
    for plan, installation, photo in world.photos():
        if not installation.picked_up or photo.outcome != SERVED_OK or plan.health == "login_fails":
            continue
        facts = photo_facts(io.BytesIO(picture_bytes(picture_spec(photo, "tiny"))), LIMIT)
        rows.append(facts.row() | {
            "station_id": plan.station_id, "record_id": installation.record_id, "region_code": plan.region_code,
            "item_id": photo.name, "facts_outcome": "computed", "installation_lat": installation.lat,
            "installation_lon": installation.lon, "install_date": str(installation.install_date),
        })  # fmt: skip
    findings = all_findings(rows, Thresholds())
    truth = truth_document(world)
    scores = score(findings, truth, visible_installations(world))
    assert [(s.kind, s.found, s.true) for s in scores] == [(s.kind, s.planted, s.planted) for s in scores]
    assert scores[0].planted >= 3 and scores[1].planted >= 2
    late, on_copies = late_on_reused_copies(findings, truth)
    assert late == on_copies


def _piece_rows(station: str, hashes: list[int]) -> list[dict]:
    return [{"station_id": station, "region_code": "RC-1", "record_id": f"R{n}", "item_id": f"{station}-{n}",
             "phash": f"{h:016x}", "has_camera_data": True, "facts_outcome": "computed"}
            for n, h in enumerate(hashes)]  # fmt: skip


def test_photo_evidence_searches_only_the_changed_station_and_finds_what_a_rebuild_finds(tmp_path):
    from dagster import materialize

    from pv_assets.evidence.group import photo_evidence
    from pv_assets.gallery.previews.gallery_store import write_piece
    from pv_model.evidence_contract import EVIDENCE_PIECES_PREFIX, FACT_COLUMNS, PAIRS_KEY, arrow_schema
    from resources.dagster_resources import LocalStoreResource

    rng = random.Random(3)
    shared = rng.getrandbits(64)  # one picture offered by ST-0 and, from the second run on, ST-2
    stations = {f"ST-{n}": [rng.getrandbits(64) for _ in range(40)] for n in range(4)}
    stations["ST-0"][0] = shared
    store = LocalDirObjectStore(tmp_path / "store")

    def put(station):
        key = f"{EVIDENCE_PIECES_PREFIX}{station}.parquet"
        write_piece(store, station, _piece_rows(station, stations[station]), key, arrow_schema(FACT_COLUMNS))

    def run():
        result = materialize([photo_evidence], resources={"object_store": LocalStoreResource(root=str(store.root))})
        [event] = result.get_asset_materialization_events()
        meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
        pairs = {(p["item_a"], p["item_b"]) for p in pq.read_table(io.BytesIO(store.get_bytes(PAIRS_KEY))).to_pylist()}
        return meta, {tuple(sorted(p)) for p in pairs}

    for station in stations:
        put(station)
    first, _ = run()
    assert (first["pairs_searched_for"], first["pieces_read"], first["reuse_clusters"]) == ("every photo", 4, 0)
    stations["ST-2"][5] = shared ^ 0b101  # 2 bits from ST-0's photo
    put("ST-2")
    second, pairs = run()
    assert (second["pairs_searched_for"], second["pieces_read"], second["reuse_clusters"]) == ("changed stations", 1, 1)
    assert pairs == {("ST-0-0", "ST-2-5")}
    (store.root / EVIDENCE_FACTS_KEY).unlink()  # a rebuild from scratch finds the same
    third, rebuilt = run()
    assert third["pairs_searched_for"] == "every photo" and rebuilt == pairs and third["reuse_clusters"] == 1


def test_a_video_offered_for_two_households_is_a_reuse_and_a_huge_frame_is_refused(tmp_path):
    from pv_assets.evidence.photo_facts import facts_row
    from pv_assets.evidence.video_facts import video_facts
    from tests.gallery_fixtures import mp4_bytes

    clip = mp4_bytes(seconds=3, fps=10, size=(320, 240))
    facts = video_facts(io.BytesIO(clip), LIMIT)
    assert len(facts.phash) == 16 and len(facts.dhash) == 16 and facts.taken_at is None
    target = {"station_id": "ST-1", "record_id": "R1", "item_id": "v1", "object_key": "RC-1/ST-1/1_a.mp4",
              "size": len(clip), "media_kind": "video"}  # fmt: skip
    row = facts_row(target, io.BytesIO(clip), LIMIT)
    assert (row["facts_outcome"], row["phash"], row["has_camera_data"]) == ("computed", facts.phash, None)
    rows = [row | {"region_code": "RC-1"}, row | {"record_id": "R2", "item_id": "v2", "region_code": "RC-1"}]
    assert [(f["kind"], f["record_id"]) for f in all_findings(rows, Thresholds())] == [("reuse", "R1"), ("reuse", "R2")]
    with pytest.raises(TooManyPixels, match=r"320 x 240 = 0.1 MP \(video frame\)"):
        video_facts(io.BytesIO(clip), 50_000)
    [piece] = piece_rows([row], [])
    assert piece["thumb_key"] == "_pv-media/previews/RC-1/ST-1/v1/poster.webp"
