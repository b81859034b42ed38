"""The `previews` scenario of `make bench`, each figure beside its baseline in the same run:

- photos: previews per second for N photos of ~1 MB (12-megapixel JPEGs, some EXIF-rotated) in S3:
  pv-media's build_previews (range reads, JPEG draft decoding, a worker per core) vs the baseline
  of opening each file fully with Pillow (whole download, full decode, then resize), one at a time;
  pv-media with one worker too, to tell the decoding from the parallelism;
- poster: peak RSS of one process taking the poster frame of a big video (default 1 GiB) from S3:
  pv-media (seeking through range reads) vs the baseline of loading the video fully, then decoding;
- index: a 10,000-station gallery index (100 items each) updated for one changed station vs rebuilt
  from every piece; one station's rows read with a pyarrow filter vs loading the whole file.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.servers import ROOT, S3_KEYS

PHOTO_BYTES = 1_000_000


def _store(s3: str, bucket: str):
    from resources.object_store import MinioObjectStore

    store = MinioObjectStore(s3, S3_KEYS["MINIO_ACCESS_KEY"], S3_KEYS["MINIO_SECRET_KEY"], bucket)
    store.ensure_ready()
    return store


def bench_photos(count: int, seed: int = 3) -> list[bytes]:
    """12 distinct real 12-megapixel photos, padded after EOI to about 1 MB (a different pad per file)."""
    from pv_simulator.pictures import PhotoPlan, encode_photo

    shapes = [(4032, 3024, 1), (3024, 4032, 1), (4032, 3024, 6), (4000, 2250, 1), (4032, 3024, 8), (3000, 3000, 1)]
    plans = [PhotoPlan(w, h, o, n) for n, (w, h, o) in enumerate(shapes * 2)][: max(1, min(count, 12))]
    originals = [encode_photo("jpeg", plan, f"BENCH / {plan.variant}") for plan in plans]
    rng = random.Random(seed)
    files = []
    for n in range(count):
        real = originals[n % len(originals)]
        files.append(real + rng.randbytes(max(0, PHOTO_BYTES + rng.randint(-50_000, 50_000) - len(real))))
    return files


def naive_previews(store, key: str) -> int:
    """The baseline: the whole file into memory, a full decode, then the two renditions - resized
    and encoded with the same filter and WebP settings as pv-media, so the ratio is the reading."""
    from PIL import Image, ImageOps

    from pv_assets.gallery.previews.render import WEBP_METHOD, WEBP_QUALITY

    with Image.open(io.BytesIO(store.get_bytes(key))) as image:
        upright = ImageOps.exif_transpose(image.convert("RGB"))
    written = 0
    for side in (1280, 320):
        rendition = upright.copy()
        rendition.thumbnail((side, side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        rendition.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        written += len(buffer.getvalue())
    return written


def photos_scenario(s3: str, count: int) -> dict:
    from pv_assets.gallery.previews.builder import build_previews, preview_workers

    store = _store(s3, "bench-previews")
    files = bench_photos(count)
    rows = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = [f"RC-BENCH/BENCH-PREV/110101199003070000_{n:08x}.jpg" for n in range(count)]
        list(pool.map(lambda kv: store.put_bytes(kv[0], kv[1], "image/jpeg"), zip(keys, files, strict=True)))
    for n, (key, data) in enumerate(zip(keys, files, strict=True)):
        rows.append(
            {
                "station_id": "BENCH-PREV",
                "record_id": f"R{n:05d}",
                "url_hash": f"{n:08x}",
                "object_key": key,
                "size": len(data),
                "outcome": "uploaded",
            }
        )
    del files

    started = time.monotonic()
    for key in keys:
        naive_previews(store, key)
    naive_s = time.monotonic() - started

    # Other record ids per run give other item ids, so each run builds every preview afresh.
    def pv_run(workers: int, tag: str) -> tuple[float, object]:
        started = time.monotonic()
        _rows, tally = build_previews(store, [{**r, "record_id": r["record_id"] + tag} for r in rows], workers=workers)
        assert tally.built == count, tally
        return time.monotonic() - started, tally

    one_s, _ = pv_run(1, "-one")
    workers = preview_workers()
    many_s, tally = pv_run(workers, "-many")
    return {
        "photos": count,
        "photo_mb": round(PHOTO_BYTES / 1e6, 1),
        "baseline_full_decode_per_s": round(count / naive_s, 2),
        "pvmedia_1_worker_per_s": round(count / one_s, 2),
        "pvmedia_per_s": round(count / many_s, 2),
        "workers": workers,
        "speedup_1_worker": round(naive_s / one_s, 2),
        "speedup": round(naive_s / many_s, 2),
        "original_mb_read_per_photo": round(tally.original_bytes_read / count / 1e6, 3),
    }


def poster_scenario(s3: str, size_mib: int) -> dict:
    from pv_simulator.media_gen import iter_media

    store = _store(s3, "bench-poster")
    size = size_mib * 1024 * 1024
    key = "RC-BENCH/BENCH-POSTER/110101199003070000_00000001.mp4"

    class Stream(io.RawIOBase):
        def __init__(self):
            self.pieces, self.rest = iter_media("mp4", 4, size, chunk=1 << 20), b""

        def readable(self):
            return True

        def readinto(self, buffer):
            while not self.rest:
                self.rest = next(self.pieces, b"")
                if not self.rest:
                    return 0
            n = min(len(buffer), len(self.rest))
            buffer[:n], self.rest = self.rest[:n], self.rest[n:]
            return n

    store._client.put_object(store.bucket, key, io.BufferedReader(Stream(), 1 << 20), size, part_size=16 << 20)
    measured = {mode: _poster_step(mode, s3, store.bucket, key, size) for mode in ("pvmedia", "load")}
    pv, load = measured["pvmedia"], measured["load"]
    return {
        "size_mib": size_mib,
        "pvmedia_peak_rss_mib": pv["peak_rss_mib"],
        "pvmedia_rss_before_mib": pv["rss_before_mib"],
        "pvmedia_mib_read": round(pv["bytes_read"] / 2**20, 2),
        "baseline_load_peak_rss_mib": load["peak_rss_mib"],
        "rss_ratio": round(load["peak_rss_mib"] / pv["peak_rss_mib"], 2),
        "pvmedia_s": pv["seconds"],
        "baseline_load_s": load["seconds"],
        "time_ratio": round(load["seconds"] / pv["seconds"], 2),
        "same_poster": pv["poster_sha256"] == load["poster_sha256"],
    }


def _poster_step(mode: str, s3: str, bucket: str, key: str, size: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.preview_step", mode, s3, bucket, key, str(size)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **S3_KEYS},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _piece_rows(station: str, items: int, tag: str = "") -> list[dict]:
    from pv_assets.gallery.previews.gallery import INDEX_COLUMN_NAMES

    rows = []
    for i in range(items):
        row = dict.fromkeys(INDEX_COLUMN_NAMES)
        row.update(
            item_id=f"{station}{i:08x}{tag}"[-16:],
            station_id=station,
            region_company_code="RC-320100",
            record_id=f"R{i // 2:04d}",
            status="stored",
            media_kind="photo",
            thumb_key=f"_pv-media/previews/RC-320100/{station}/{i:016x}/thumb.webp",
            record_fields='{"address": "江苏省南京市江宁区东山村1号", "capacityKw": "12.3"}',
            size=1_000_000 + i,
            width=4032,
            height=3024,
        )
        rows.append(row)
    return rows


def index_scenario(stations: int, items: int, work: Path) -> dict:
    """The gallery index over `stations` pieces of `items` rows: rebuilt whole vs updated for one
    changed station; then one station's rows by a pyarrow filter vs loading the whole file."""
    import pandas as pd
    import pyarrow.parquet as pq

    from pv_assets.gallery.previews.gallery_store import INDEX_KEY, update_index, write_piece
    from resources.object_store import LocalDirObjectStore

    store = LocalDirObjectStore(work / "store")
    names = [f"ST-{s:05d}" for s in range(stations)]
    for name in names:
        write_piece(store, name, _piece_rows(name, items))
    started = time.monotonic()
    whole = update_index(store)
    whole_s = time.monotonic() - started
    changed = names[stations // 3]
    write_piece(store, changed, _piece_rows(changed, items, tag="b"))
    started = time.monotonic()
    partial = update_index(store)
    partial_s = time.monotonic() - started
    assert whole.pieces_read == stations and partial.pieces_read == 1 and partial.rows == stations * items

    path = store.root / INDEX_KEY
    wanted = names[stations // 2]
    # Warm: a viewer is a long-lived process, so library imports are not part of a query.
    pq.read_table(path, filters=[("station_id", "=", names[0])])
    pd.read_parquet(path, columns=["station_id"])
    started = time.monotonic()
    filtered = pq.read_table(path, filters=[("station_id", "=", wanted)])
    filter_s = time.monotonic() - started
    started = time.monotonic()
    frame = pd.read_parquet(path)
    whole_rows = frame[frame.station_id == wanted]
    load_s = time.monotonic() - started
    assert filtered.num_rows == len(whole_rows) == items
    return {
        "stations": stations,
        "rows": stations * items,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "rebuild_all_pieces_s": round(whole_s, 2),
        "update_one_station_s": round(partial_s, 2),
        "update_pieces_read": partial.pieces_read,
        "update_ratio": round(whole_s / partial_s, 1),
        "station_filter_s": round(filter_s, 3),
        "baseline_whole_load_s": round(load_s, 3),
        "filter_ratio": round(load_s / filter_s, 1),
    }


def previews(s3: str, photos: int, video_mib: int, index_stations: int, work: Path) -> dict:
    return {
        **{f"photos_{k}": v for k, v in photos_scenario(s3, photos).items()},
        **{f"poster_{k}": v for k, v in poster_scenario(s3, video_mib).items()},
        **{f"index_{k}": v for k, v in index_scenario(index_stations, 100, work).items()},
    }
