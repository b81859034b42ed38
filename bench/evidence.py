"""The evidence scenario (issue 27): how well, how fast, at what cost.

- truth: facts of every served photo of a world (pHash + EXIF, as photo_facts reads them), the group's findings,
  and precision / recall per kind against the world's planted truth (bench/evidence_truth.py);
- near_dups: a group of `hashes` stored photo hashes (random, with planted near copies) and one station's
  update of `queries` new ones: found with the multi-index (pv_assets/evidence/hamming.py) and by brute force
  (numpy: every stored hash XOR the new one), the same pairs, seconds and ratio; and the whole group's
  self-join by the index;
- incremental: photo_evidence's merge of the stations' pieces and its near-duplicate pairs after one station
  changed, against a rebuild from scratch (pieces read, seconds; the same pairs);
- cost: CPU seconds per photo of reading facts from a phone-size JPEG (12 MP) in staging.
"""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import numpy as np

from bench.evidence_truth import late_on_reused_copies, score, visible_installations
from pv_assets.evidence.facts import photo_facts
from pv_assets.evidence.findings import Thresholds, all_findings
from pv_assets.evidence.hamming import MultiIndex, near_pairs
from pv_assets.evidence.pairs import all_pairs, pair_rows, updated_pairs
from pv_assets.gallery.previews.gallery_store import merge_pieces, write_piece
from pv_model.evidence_contract import EVIDENCE_FACTS_KEY, EVIDENCE_PIECES_PREFIX, FACT_COLUMNS, arrow_schema
from resources.object_store import LocalDirObjectStore

LIMIT = 64_000_000
RADIUS = 8


def truth_scores(world_name: str, profile: str) -> dict:
    from pv_simulator.camera.cache import picture_bytes
    from pv_simulator.camera.render import picture_spec
    from pv_simulator.world import group_world, world_size
    from pv_simulator.world.model import SERVED_OK
    from pv_simulator.world.truth import truth_document

    world = group_world(world_size(world_name), 1)
    visible = visible_installations(world)
    rows, cpu = [], 0.0
    for plan, installation, photo in world.photos():
        if (plan.station_id, installation.record_id) not in visible or not installation.picked_up:
            continue
        if photo.outcome != SERVED_OK:
            continue
        facts = photo_facts(io.BytesIO(picture_bytes(picture_spec(photo, profile))), LIMIT)
        cpu += facts.cpu_s
        rows.append(facts.row() | {
            "station_id": plan.station_id, "record_id": installation.record_id, "region_code": plan.region_code,
            "item_id": photo.name, "facts_outcome": "computed", "installation_lat": installation.lat,
            "installation_lon": installation.lon, "install_date": str(installation.install_date),
        })  # fmt: skip
    started = time.monotonic()
    findings = all_findings(rows, Thresholds())
    findings_s = time.monotonic() - started
    truth = truth_document(world)
    result = {"world": world_name, "profile": profile, "world_photos": len(rows), "findings_s": round(findings_s, 3),
              "cpu_s_per_photo": round(cpu / max(1, len(rows)), 5)}  # fmt: skip
    for s in score(findings, truth, visible):
        result[f"{s.kind}_planted"] = s.planted
        result[f"{s.kind}_precision"] = round(s.precision, 4)
        result[f"{s.kind}_recall"] = round(s.recall, 4)
    late, on_copies = late_on_reused_copies(findings, truth)
    result["captured_late_found"], result["captured_late_on_reused_copies"] = late, on_copies
    return result


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def near_dups(count: int, queries: int, self_join: int) -> dict:
    rng = random.Random(27)
    stored = [rng.getrandbits(64) for _ in range(count)]
    new = []
    for n in range(queries):  # a third are near copies of stored photos (0-8 bits flipped), the rest new pictures
        value = stored[rng.randrange(count)] if n % 3 == 0 else rng.getrandbits(64)
        for bit in rng.sample(range(64), rng.randint(0, RADIUS)) if n % 3 == 0 else ():
            value ^= 1 << bit
        new.append(value)
    started = time.monotonic()
    index = MultiIndex(RADIUS)
    for n, value in enumerate(stored):
        index.add(value, n)
    build_s = time.monotonic() - started
    started = time.monotonic()
    by_index = {(q, n, d) for q, value in enumerate(new) for n, d in index.within(value)}
    index_s = time.monotonic() - started
    array = np.array(stored, dtype=np.uint64)
    started = time.monotonic()
    by_brute = set()
    for q, value in enumerate(new):
        distances = _popcount(array ^ np.uint64(value))
        by_brute.update((q, int(n), int(distances[n])) for n in np.flatnonzero(distances <= RADIUS))
    brute_s = time.monotonic() - started
    assert by_index == by_brute, "the index and brute force disagree"
    joined = [(n, value) for n, value in enumerate(stored[:self_join])]
    started = time.monotonic()
    pairs = near_pairs(joined, RADIUS)
    join_s = time.monotonic() - started
    return {
        "stored_hashes": count,
        "new_hashes": queries,
        "pairs_found": len(by_index),
        "index_build_s": round(build_s, 2),
        "index_query_s": round(index_s, 3),
        "brute_force_s": round(brute_s, 3),
        "query_speedup": round(brute_s / index_s, 1) if index_s else None,
        "self_join_hashes": len(joined),
        "self_join_pairs": len(pairs),
        "self_join_s": round(join_s, 2),
    }


def incremental(directory: Path, stations: int, photos: int) -> dict:
    store = LocalDirObjectStore(directory)
    schema = arrow_schema(FACT_COLUMNS)
    rng = random.Random(5)

    def piece(station: str) -> None:
        rows = [{"station_id": station, "record_id": f"R{n // 6:05d}", "item_id": f"{station}-{n}-{rng.random()}",
                 "region_code": "RC-1", "phash": f"{rng.getrandbits(64):016x}", "has_camera_data": True,
                 "facts_outcome": "computed"} for n in range(photos)]  # fmt: skip
        write_piece(store, station, rows, key=f"{EVIDENCE_PIECES_PREFIX}{station}.parquet", schema=schema)

    names = [f"ST-{n:05d}" for n in range(stations)]
    for name in names:
        piece(name)
    order = ["station_id", "record_id", "item_id"]
    started = time.monotonic()
    full = merge_pieces(store, EVIDENCE_PIECES_PREFIX, EVIDENCE_FACTS_KEY, schema, order)
    full_s = time.monotonic() - started
    piece(names[len(names) // 2])
    started = time.monotonic()
    one = merge_pieces(store, EVIDENCE_PIECES_PREFIX, EVIDENCE_FACTS_KEY, schema, order)
    one_s = time.monotonic() - started
    assert one.table.num_rows == full.table.num_rows == stations * photos and len(one.changed) == 1
    rows = one.table.to_pylist()
    started = time.monotonic()
    every = all_pairs(rows, RADIUS)
    every_s = time.monotonic() - started
    started = time.monotonic()
    updated = updated_pairs(rows, pair_rows(rows, every), set(one.changed), RADIUS)
    updated_s = time.monotonic() - started
    assert sorted(tuple(sorted(p[:2])) + p[2:] for p in updated) == sorted(tuple(sorted(p[:2])) + p[2:] for p in every)
    return {
        "merge_stations": stations,
        "merge_photos": stations * photos,
        "rebuild_pieces_read": len(full.changed),
        "rebuild_s": round(full_s, 3),
        "one_station_pieces_read": len(one.changed),
        "one_station_s": round(one_s, 3),
        "incremental_ratio": round(one_s / full_s, 3),
        "pairs_every_photo_s": round(every_s, 2),
        "pairs_one_station_s": round(updated_s, 2),
        "pairs_incremental_ratio": round(updated_s / every_s, 3),
    }


def phone_cost(photos: int) -> dict:
    from pv_simulator.camera.cache import picture_file
    from pv_simulator.camera.render import picture_spec
    from pv_simulator.world import group_world, world_size

    world = group_world(world_size("tiny"), 1)
    chosen = [p for _plan, _i, p in world.photos() if p.fmt == "jpeg" and p.exif][:photos]
    cpu, sizes = [], []
    for photo in chosen:
        path = picture_file(picture_spec(photo, "phone"))  # the file as it sits in staging
        with open(path, "rb") as staged:
            cpu.append(photo_facts(staged, LIMIT).cpu_s)
        sizes.append(path.stat().st_size)
    return {"phone_photos": len(cpu), "phone_mib_each": round(sum(sizes) / max(1, len(sizes)) / 2**20, 2),
            "phone_cpu_s_per_photo": round(sum(cpu) / max(1, len(cpu)), 4)}  # fmt: skip


def evidence(
    directory: Path,
    *,
    world: str,
    hashes: int,
    queries: int,
    self_join: int,
    phone_photos: int,
    merge_stations: int = 200,
) -> dict:
    return {
        **truth_scores(world, "tiny"),
        **near_dups(hashes, queries, self_join),
        **incremental(directory / "store", merge_stations, 500),
        **phone_cost(phone_photos),
    }
