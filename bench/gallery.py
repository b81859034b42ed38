"""The gallery scenario of `make bench`: page response times over a generated gallery index.

10,000 stations x 100 items (1,000,000 rows) plus one station with 5,000 installations, in the
local directory store, shaped like the simulated world (its regional companies with their names, its
typed photo fields and their shares, its installations' descriptive fields; no pictures drawn);
`pv-media gallery` runs as its own process and is asked over HTTP.
Baseline, in the same run: what a station page would cost if every request read the station's
rows from the Parquet file with a pyarrow filter (no in-memory index), i.e. the naive design.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import requests

from bench.servers import ROOT, free_port
from pv_gallery.index import INDEX_KEY, load_snapshot
from pv_model.dialect import load_interface
from pv_model.gallery_contract import HEALTH_KEY
from pv_model.photo_types import DEFAULT_REQUIRED_PHOTO_TYPES, join_types

PHOTO_TYPE_OF = dict(load_interface("default").fields.photo_types)

BIG_STATION = "ST-BIG"
SEARCHES = ("0007", "东山", "R00042", "南京市", "光伏项目")  # last 4, a village part, a record, a city, a project
PASSWORD = secrets.token_urlsafe(16)  # a fresh one per run
DASHBOARD_QUERIES = ("", "from=2025-01&to=2025-12", "region=RC-320100", f"station={BIG_STATION}", "station=ST-00042")


def _world_shapes(seed: int) -> tuple[list[tuple[str, str]], list[str], np.ndarray, list[str]]:
    """What the index's rows look like in the simulated world (pv_simulator.world, no pictures drawn): its
    regional companies, its typed photo fields with their shares, and its installations' descriptive fields."""
    from pv_simulator.typed_photos import OTHER_PHOTOS, WORLD_PHOTO_FIELDS
    from pv_simulator.world import REGIONS, group_world

    world = group_world("small", seed)
    counts: dict[str, int] = {}
    fields_json = []
    for _plan, installation, photo in world.photos():
        if installation.picked_up:
            field = WORLD_PHOTO_FIELDS.get(photo.type, OTHER_PHOTOS)
            counts[field] = counts.get(field, 0) + 1
    for plan in world.stations:
        for i in plan.installations:
            if i.picked_up:
                described = {
                    "projectName": f"{i.village}户用分布式光伏项目",
                    "address": i.address,
                    "capacityKw": i.capacity_kw,
                    "installDate": i.install_date.isoformat(),
                    **{part: getattr(i, part) for part in ("province", "city", "county", "town", "village")},
                }
                fields_json.append(json.dumps(described, ensure_ascii=False))
    names = sorted(counts)
    shares = np.array([counts[n] for n in names], dtype=float)
    return [(r.code, r.name) for r in REGIONS], names, shares / shares.sum(), fields_json


def generated_index(stations: int, items_per_station: int, big_records: int, seed: int = 7) -> pa.Table:
    """A contract-shaped index: ~3 items per record, 80% photos (typed as the world types them), 10% videos, 5%
    failed, 5% no media; regional companies, photo fields and descriptive fields from the simulated world."""
    rng = np.random.default_rng(seed)
    regions, photo_fields, shares, fields_pool = _world_shapes(seed)
    station_of = np.repeat(np.arange(stations), items_per_station)
    record_of = np.tile(np.arange(items_per_station) // 3, stations)
    station_ids = [f"ST-{s:05d}" for s in station_of] + [BIG_STATION] * (big_records * 2)
    records = [f"R{r:05d}" for r in record_of] + [f"R{r:05d}" for r in np.repeat(np.arange(big_records), 2)]
    n = len(station_ids)
    region_of_station = rng.choice(len(regions), size=stations + 1, p=_region_weights(len(regions)))
    region_index = np.concatenate([region_of_station[station_of], np.full(big_records * 2, region_of_station[-1])])
    codes = [regions[r][0] for r in region_index]
    kinds = rng.choice(["photo", "video", "failed", "none"], size=n, p=[0.8, 0.1, 0.05, 0.05])
    item_ids = [f"{i:016x}" for i in rng.permutation(n) * 7919 + 12345]
    pool_index = rng.integers(0, len(fields_pool), size=n)
    fields = [fields_pool[k] for k in pool_index]
    field_of = np.array(photo_fields, dtype=object)[rng.choice(len(photo_fields), size=n, p=shares)]
    photo, video = kinds == "photo", kinds == "video"
    stored = photo | video

    def where(mask, values) -> list:
        return [v if m else None for m, v in zip(mask, values, strict=True)]

    keys = [f"{r}/{s}/320102198501011234_{i[:8]}.jpg" for r, s, i in zip(codes, station_ids, item_ids, strict=True)]
    previews = [f"_pv-media/previews/{r}/{s}/{i}" for r, s, i in zip(codes, station_ids, item_ids, strict=True)]
    return pa.table(
        {
            "item_id": item_ids,
            "region_company_code": codes,
            "station_id": station_ids,
            "station_name": [f"分布式光伏场站 {s}" for s in station_ids],
            "record_id": records,
            "pickup_status": ["picked_up"] * n,
            "pickup_status_raw": ["已提货"] * n,
            "id_card_masked": [f"320102********{int(r[1:]) % 10000:04d}" for r in records],
            "record_fields": fields,
            "media_kind": where(kinds != "none", np.where(video, "video", "photo").tolist()),
            "media_field": where(kinds != "none", np.where(video, "videoUrls", field_of).tolist()),
            "status": np.where(stored, "stored", np.where(kinds == "failed", "failed", "none")).tolist(),
            "failure_reason": where(kinds == "failed", ["HTTP 404"] * n),
            "object_key": where(stored, keys),
            "content_type": where(stored, np.where(video, "video/mp4", "image/jpeg").tolist()),
            "thumb_key": where(photo, [p + "/thumb.webp" for p in previews]),
            "medium_key": where(photo, [p + "/medium.webp" for p in previews]),
            "poster_key": where(video, [p + "/poster.webp" for p in previews]),
            "preview_problem": [None] * n,
            "size": pa.array(np.where(stored, 250_000, 0), pa.int64()),
            "width": pa.array(np.where(stored, 4000, 0), pa.int64()),
            "height": pa.array(np.where(stored, 3000, 0), pa.int64()),
            "duration_s": pa.array(np.where(video, 12.5, np.nan)),
            "collected_at": where(stored, ["2026-11-25T08:00:00Z"] * n),
            "region_company_name": [regions[r][1] for r in region_index],
            # Issue 25: what each photo shows (by its field, as the default dialect declares it) and the six
            # types every record requires.
            "photo_type": where(photo, [PHOTO_TYPE_OF.get(f, "other") for f in field_of]),
            "required_photo_types": [join_types(DEFAULT_REQUIRED_PHOTO_TYPES)] * n,
            # Issue 26: the planner's typed fields, per record (the dashboard groups by month and region).
            **_planner_columns(rng, station_of, record_of, big_records),
        }
    )


def _planner_columns(rng, station_of, record_of, big_records: int) -> dict[str, pa.Array]:
    """Capacity, install and pickup dates from 2024-01 to 2026-11, coordinates near Nanjing: one value per
    record (every item of a record has the same)."""
    records = np.concatenate([station_of * 100_000 + record_of, 10**9 + np.repeat(np.arange(big_records), 2)])
    uniq, of = np.unique(records, return_inverse=True)
    installed = rng.integers(np.datetime64("2024-01-01", "D").astype(int), 20_770, size=len(uniq))
    picked = installed + rng.integers(0, 60, size=len(uniq))
    return {
        "capacity_kw": pa.array(np.round(rng.uniform(3, 40, size=len(uniq)), 2)[of]),
        "install_date": pa.array(installed[of].astype("datetime64[D]")).cast(pa.date32()),
        "pickup_date": pa.array(picked[of].astype("datetime64[D]")).cast(pa.date32()),
        "latitude": pa.array(rng.uniform(31.5, 32.5, size=len(uniq))[of]),
        "longitude": pa.array(rng.uniform(118.3, 119.3, size=len(uniq))[of]),
    }


def health_table(stations: list[str], seed: int = 7) -> bytes:
    """Every station's health as the station_health asset writes it: 1 % failing (login), 2 % stale, one
    station in the registry that was never collected."""
    from pv_assets.gallery.health import Attempts, health_bytes, health_rows

    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    recent, old = now.isoformat(timespec="seconds"), (now - timedelta(days=10)).isoformat(timespec="seconds")
    draw = rng.random(len(stations))
    attempts = {}
    for station_id, luck in zip(stations, draw, strict=True):
        if luck < 0.01:
            attempts[station_id] = Attempts(recent, False, old, "login failed: code 1001: 账号或密码错误", "run")
        elif luck < 0.03:
            attempts[station_id] = Attempts(old, True, old, run_id="run")
        else:
            attempts[station_id] = Attempts(recent, True, recent, run_id="run")
    registry = [_Station(s, f"分布式光伏场站 {s}", None) for s in [*stations, "ST-NEVER"]]
    return health_bytes(health_rows(registry, attempts, {}))


@dataclasses.dataclass(frozen=True)
class _Station:
    id: str
    name: str
    region_company_code: str | None


def _region_weights(count: int) -> np.ndarray:
    weights = 1 / (np.arange(count) + 1) ** 0.6  # as the world spreads its stations: the first regions lean heavier
    return weights / weights.sum()


@contextlib.contextmanager
def gallery_server(store_root: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PV_LOCAL_STORE": str(store_root), "PV_GALLERY_PASSWORD": PASSWORD}
    env.pop("MINIO_ENDPOINT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pv_assets.cli", "gallery", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the gallery server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def timed_ms(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    answer = session.get(url, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    return elapsed


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return round(statistics.median(ordered), 1), round(ordered[int(0.95 * (len(ordered) - 1))], 1)


def gallery(stations: int, items_per_station: int, big_records: int, work: Path, samples: int = 40) -> dict:
    table = generated_index(stations, items_per_station, big_records)
    index_path = work / "store" / INDEX_KEY
    index_path.parent.mkdir(parents=True)
    pq.write_table(table, index_path)
    station_ids = sorted(set(table.column("station_id").to_pylist()))
    (work / "store" / HEALTH_KEY).write_bytes(health_table(station_ids))
    rng = np.random.default_rng(11)
    picks = [f"ST-{s:05d}" for s in rng.choice(stations, size=min(samples, stations), replace=False)]

    # Baseline: the station's rows read from the file with a pyarrow filter, per request.
    baseline = []
    for station_id in picks[:10]:
        started = time.perf_counter()
        pq.read_table(index_path, filters=[("station_id", "=", station_id)])
        baseline.append((time.perf_counter() - started) * 1000)

    # What a new index version costs once: read the Parquet file and build the in-memory index.
    started = time.perf_counter()
    load_snapshot(index_path.read_bytes(), "bench")
    load_s = time.perf_counter() - started

    with gallery_server(work / "store") as base:
        session = requests.Session()
        login = session.post(f"{base}/login", data={"password": PASSWORD}, timeout=30, allow_redirects=False)
        assert login.status_code == 303, login.status_code
        first_s = timed_ms(session, f"{base}/") / 1000  # waits for the index the server loads as it starts
        overview = [timed_ms(session, f"{base}/?sort={s}") for s in ("gap", "failed", "station", "picked_up") * 5]
        cold = [timed_ms(session, f"{base}/station/{s}") for s in picks]  # first visit: the station's cards built
        warm = [timed_ms(session, f"{base}/station/{s}?page=1") for s in picks]
        search = [timed_ms(session, f"{base}/station/{s}?q=0007") for s in picks[:10]]
        big = [timed_ms(session, f"{base}/station/{BIG_STATION}?page={p}") for p in (1, 2, 50, 100, 1) * 2]
        big_search = [timed_ms(session, f"{base}/station/{BIG_STATION}?q=1234") for _ in range(5)]
        missing = [timed_ms(session, f"{base}/station/{s}?missing=inverter") for s in picks[:10]]
        by_state = [timed_ms(session, f"{base}/?sort={s}") for s in ("state", "completeness") * 5]
        # The global search: built on the first search of an index version, then one vectorized match.
        first_search_s = timed_ms(session, f"{base}/search?q=0007") / 1000
        searches = [timed_ms(session, f"{base}/search?q={q}") for q in SEARCHES * 4]
        # Issue 26: the dashboard's first answer builds its per-installation table; later ones filter it.
        dashboard_first = timed_ms(session, f"{base}/dashboard/data")
        dashboards = [timed_ms(session, f"{base}/dashboard/data?{q}") for q in DASHBOARD_QUERIES * 4]
        dashboard_page = [timed_ms(session, f"{base}/dashboard?{q}") for q in DASHBOARD_QUERIES]
        export_big = [timed_ms(session, f"{base}/station/{BIG_STATION}/export.xlsx") for _ in range(3)]
    overview_median, overview_p95 = summary(overview + by_state)
    search_median, search_p95 = summary(searches)
    cold_median, cold_p95 = summary(cold)
    warm_median, warm_p95 = summary(warm)
    big_median, big_p95 = summary(big[1:])
    baseline_median = round(statistics.median(baseline), 1)
    return {
        "stations": stations + 1,
        "items": table.num_rows,
        "index_mib": round(index_path.stat().st_size / 2**20, 1),
        "index_load_s": round(load_s, 2),
        "first_page_s": round(first_s, 2),
        "overview_ms": overview_median,
        "overview_p95_ms": overview_p95,
        "station_ms": cold_median,
        "station_p95_ms": cold_p95,
        "station_warm_ms": warm_median,
        "station_warm_p95_ms": warm_p95,
        "station_search_ms": summary(search)[0],
        "big_station_records": big_records,
        "big_station_first_ms": round(big[0], 1),
        "big_station_ms": big_median,
        "big_station_p95_ms": big_p95,
        "big_station_search_ms": summary(big_search)[0],
        "baseline_filtered_read_ms": baseline_median,
        "speedup_vs_filtered_read": round(baseline_median / max(cold_median, 0.1), 1),
        "station_under_200ms": max(cold_p95, big[0], big_p95) < 200,
        "station_missing_type_ms": summary(missing)[0],
        "overview_under_200ms": overview_p95 < 200,
        "global_search_first_s": round(first_search_s, 2),
        "global_search_ms": search_median,
        "global_search_p95_ms": search_p95,
        "global_search_under_300ms": search_p95 < 300,
        "dashboard_first_ms": round(dashboard_first, 1),
        "dashboard_ms": summary(dashboards)[0],
        "dashboard_p95_ms": summary(dashboards)[1],
        "dashboard_page_ms": summary(dashboard_page)[0],
        "dashboard_under_300ms": max(dashboard_first, summary(dashboards)[1]) < 300,
        "export_big_station_s": round(statistics.median(export_big) / 1000, 2),
        "export_under_3s": max(export_big) < 3000,
    }
