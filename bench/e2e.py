"""The `e2e` scenario of `make bench`: the real `pv-media collect --station X` as a user runs it,
Dagster included, beside the seed's loop in the same run.

- s3: a station of N photos of ~100 KB (30 ms before each answer, 8 connections) into S3 over HTTP
  (moto): wall, CPU and peak RSS of the CLI, its steps' seconds from the Dagster instance, items per
  second and the fraction of the latency bound (8 / 30 ms = 266.7 items/s); then the same station again
  with nothing new;
- embedded: the same station into the embedded default (local store, SQLite instance): the first
  collection, then `collect` with nothing new - wall (the goal: at most 1.5 s) and peak RSS;
- seed loop: the seed's sequential loop over the same items into S3 (no previews: it made none);
- phone: a station of camera-size JPEGs (several MB, up to 4032 px) collected by the CLI (photos/s,
  CPU-s per photo), and 12-megapixel camera JPEGs (4032x3024) made into previews in one thread with
  JPEG draft decoding (as pv-media does) and with a full decode (the baseline): photos/s and CPU-s per
  photo of each, in the same run.

`python -m bench.run e2e` runs it alone (`--small`, `--phone-photos` scale it).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.servers import ROOT, S3_KEYS, simulator

LATENCY_MS, CONNECTIONS = 30.0, 8
BOUND = CONNECTIONS / (LATENCY_MS / 1000)


def station_spec(station_id: str, photos: int, photo_size: tuple[int, int], seed: int) -> dict:
    """A clean simulated station whose every record is picked up and holds four photos."""
    return {
        "station_id": station_id,
        "records": max(1, photos // 4),
        "seed": seed,
        "quirks": False,
        "photos_per_record": [4, 4],
        "all_picked_up": True,
        "photo_size": list(photo_size),
        "max_connections": CONNECTIONS,
        "region_company_code": "RC-BENCH",
        "picture_labels": False,  # a few shared real pictures: the simulator must not be the bottleneck
    }


def cli_env(work: Path, s3: str | None, bucket: str) -> dict[str, str]:
    """The CLI's environment: its own DAGSTER_HOME, staging and store; S3 when `s3`, else the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIO_")}
    env.update(
        DAGSTER_HOME=str(work / "dagster_home"),
        PV_STAGING_DIR=str(work / "staging"),
        PV_LOCAL_STORE=str(work / "object-store"),
        PV_CACHE_DIR=str(work / "cache"),
    )
    if s3:
        env.update(MINIO_ENDPOINT=s3, MINIO_BUCKET=bucket, MINIO_SECURE="false", **S3_KEYS)
    return env


def run_cli(registry: Path, station_id: str, env: dict[str, str], work: Path, name: str) -> dict:
    """`pv-media collect --station X` in a child of bench.cli_probe: wall, CPU-s, peak RSS, the summary."""
    probe, summary = work / f"{name}.probe.json", work / f"{name}.summary.json"
    command = [str(Path(sys.executable).parent / "pv-media"), "collect", "--station", station_id,
               "--stations", str(registry), "--summary-json", str(summary)]  # fmt: skip
    with open(work / f"{name}.log", "wb") as log:
        subprocess.run([sys.executable, "-m", "bench.cli_probe", str(probe), "--", *command],
                       cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)  # fmt: skip
    figures = json.loads(probe.read_text("utf-8"))
    if figures["returncode"] != 0:
        tail = (work / f"{name}.log").read_text("utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"pv-media collect exited {figures['returncode']}:\n{tail}")
    [station] = json.loads(summary.read_text("utf-8"))
    return {**figures, "run_id": station["run_id"], "counts": station["counts"]}


def step_seconds(home: Path, run_id: str) -> dict[str, float]:
    """Each step's seconds, as the instance recorded them."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        return {
            s.step_key: round(s.end_time - s.start_time, 2)
            for s in instance.get_run_step_stats(run_id)
            if s.end_time and s.start_time
        }


def seed_loop_seconds(info: dict, store, station_id: str, s3: str, work: Path) -> float:
    """The seed's loop over the same items (URL, key) into a bucket of its own."""
    from minio import Minio

    from bench.baseline import seed_loop
    from pv_assets.io_manager import audit_key, parquet_to_frame

    manifest = parquet_to_frame(store.get_bytes(audit_key("media_manifest", station_id, ".parquet")))
    items = [(row.source_url, row.key_stem + ".jpg") for row in manifest.itertuples()]
    entry = info["entries"][0]
    minio = Minio(s3, S3_KEYS["MINIO_ACCESS_KEY"], S3_KEYS["MINIO_SECRET_KEY"], secure=False)
    minio.make_bucket("bench-e2e-seed")
    staging = work / "seed-staging"
    staging.mkdir()
    account, password = os.environ[entry["account_env"]], os.environ[entry["password_env"]]
    started = time.monotonic()
    seed_loop(entry["base_url"], account, password, items, minio, "bench-e2e-seed", staging)
    return time.monotonic() - started


def stored_sha256_ok(store, station_id: str, run_id: str, expected: list[str]) -> bool:
    """Every expected file stored once by the run, its sha256 as the simulator made it."""
    from pv_assets.io_manager import audit_key, parquet_to_frame

    outcomes = parquet_to_frame(store.get_bytes(audit_key("uploaded_media", station_id, f"/runs/{run_id}.parquet")))
    stored = outcomes[outcomes["outcome"].isin(["uploaded", "skipped"])]
    return stored["object_key"].is_unique and sorted(stored["sha256"].dropna()) == sorted(expected)


def stored_keys(store, station_id: str) -> list[str]:
    from pv_assets.io_manager import audit_key, parquet_to_frame

    outcomes = parquet_to_frame(store.get_bytes(audit_key("uploaded_media", station_id, ".parquet")))
    return list(outcomes["object_key"].dropna())


def _s3_store(s3: str, bucket: str):
    from resources.object_store import MinioObjectStore

    return MinioObjectStore(s3, S3_KEYS["MINIO_ACCESS_KEY"], S3_KEYS["MINIO_SECRET_KEY"], bucket)


def many_photos(s3: str, count: int, work: Path) -> dict:
    from resources.object_store import LocalDirObjectStore

    station_id = "BENCH-E2E"
    spec = station_spec(station_id, count, (95_000, 105_000), seed=11)
    with simulator([spec], LATENCY_MS) as info:
        registry = work / "stations.yaml"
        from pv_simulator import write_registry

        write_registry(registry, info["entries"])
        expected = info["expected_sha256"][station_id]
        s3_work, local_work = work / "s3", work / "embedded"
        s3_work.mkdir()
        local_work.mkdir()
        s3_env = cli_env(s3_work, s3, "bench-e2e")
        first = run_cli(registry, station_id, s3_env, s3_work, "first")
        again = run_cli(registry, station_id, s3_env, s3_work, "rerun")
        steps = step_seconds(s3_work / "dagster_home", first["run_id"])
        store = _s3_store(s3, "bench-e2e")
        s3_ok = stored_sha256_ok(store, station_id, first["run_id"], expected)
        local_env = cli_env(local_work, None, "")
        local_first = run_cli(registry, station_id, local_env, local_work, "first")
        local_again = run_cli(registry, station_id, local_env, local_work, "rerun")
        local_store = LocalDirObjectStore(local_work / "object-store")
        local_ok = stored_sha256_ok(local_store, station_id, local_first["run_id"], expected)
        sample = [local_store.get_bytes(key) for key in stored_keys(local_store, station_id)[:50]]
        seed_s = seed_loop_seconds(info, store, station_id, s3, work)
    # What the previews alone cost, one thread, on this station's own photos: times the photos over the cores,
    # the shortest any run could take on this machine with every preview made - whatever overlaps with what.
    _rate, preview_cpu_s = preview_cpu(sample, draft=True)
    cores = os.cpu_count() or 1
    preview_floor_s = preview_cpu_s * count / cores
    uploaded = first["counts"].get("uploaded")
    assert uploaded == count == len(expected), f"pv-media stored {uploaded} of {count} photos"
    assert s3_ok and local_ok, "a stored file is missing, twice, or not the simulator's bytes (sha256)"
    return {
        "photos": count,
        "wall_s": first["wall_s"],
        "items_per_s": round(count / first["wall_s"], 1),
        "bound_items_per_s": round(BOUND, 1),
        "bound_fraction": round(count / first["wall_s"] / BOUND, 3),
        "cpu_s": first["cpu_s"],
        "cpu_ms_per_photo": round(first["cpu_s"] / count * 1000, 1),
        "preview_cpu_ms_per_photo": round(preview_cpu_s * 1000, 1),
        "cores": cores,
        "preview_floor_s": round(preview_floor_s, 2),
        "bound_fraction_ceiling_here": round(min(1.0, count / BOUND / preview_floor_s), 3),
        "peak_rss_mib": first["peak_rss_mib"],
        **{f"step_{step}_s": seconds for step, seconds in steps.items()},
        "seed_loop_s": round(seed_s, 2),
        "speedup_vs_seed_loop": round(seed_s / first["wall_s"], 2),
        "rerun_s3_wall_s": again["wall_s"],
        "rerun_s3_cpu_s": again["cpu_s"],
        "embedded_first_wall_s": local_first["wall_s"],
        "embedded_bound_fraction": round(count / local_first["wall_s"] / BOUND, 3),
        "embedded_first_peak_rss_mib": local_first["peak_rss_mib"],
        "nothing_new_wall_s": local_again["wall_s"],
        "nothing_new_cpu_s": local_again["cpu_s"],
        "nothing_new_peak_rss_mib": local_again["peak_rss_mib"],
        "nothing_new_downloads": local_again["counts"].get("uploaded", 0),
        "sha256_checked": True,
    }


def preview_cpu(files: list[bytes], draft: bool) -> tuple[float, float]:
    """(photos per second, CPU-s per photo) of making both previews of each file in this thread."""
    from pv_assets.gallery.previews.render import photo_previews

    wall, cpu = time.monotonic(), time.thread_time()
    for data in files:
        photo_previews(io.BytesIO(data)) if draft else full_decode_previews(data)
    wall, cpu = time.monotonic() - wall, time.thread_time() - cpu
    return len(files) / wall, cpu / len(files)


def megapixels(files: list[bytes]) -> float:
    """The mean size of the pictures, from their headers."""
    from PIL import Image

    sizes = []
    for data in files:
        with Image.open(io.BytesIO(data)) as image:
            sizes.append(image.width * image.height / 1e6)
    return sum(sizes) / len(sizes)


def full_decode_previews(data: bytes) -> int:
    """The baseline: decode every pixel, then the same two renditions with the same filter and WebP settings."""
    from PIL import Image, ImageOps

    from pv_assets.gallery.previews.render import WEBP_METHOD, WEBP_QUALITY

    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image.convert("RGB"))
    written = 0
    for side in (1280, 320):
        rendition = upright.copy()
        rendition.thumbnail((side, side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        rendition.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        written += len(buffer.getvalue())
    return written


def phone_photos(count: int, work: Path) -> dict:
    from pv_assets.io_manager import audit_key, parquet_to_frame
    from resources.object_store import LocalDirObjectStore

    count = max(1, count // 4) * 4  # the station holds four photos per record
    station_id = "BENCH-PHONE"
    spec = station_spec(station_id, count, (3_000_000, 5_000_000), seed=12)
    with simulator([spec], LATENCY_MS) as info:
        registry = work / "stations.yaml"
        from pv_simulator import write_registry

        write_registry(registry, info["entries"])
        env = cli_env(work, None, "")
        collected = run_cli(registry, station_id, env, work, "phone")
    store = LocalDirObjectStore(work / "object-store")
    outcomes = parquet_to_frame(store.get_bytes(audit_key("uploaded_media", station_id, ".parquet")))
    previews = parquet_to_frame(store.get_bytes(audit_key("media_previews", station_id, ".parquet")))
    keys = list(outcomes["object_key"].dropna())
    assert len(keys) == count and (previews["preview_outcome"] == "built").sum() == count
    # The decoders side by side on 12-megapixel camera JPEGs (4032x3024 and its shapes, some EXIF-rotated).
    from bench.previews import bench_photos

    sample = bench_photos(min(count, 12))
    draft_rate, draft_cpu = preview_cpu(sample, draft=True)
    full_rate, full_cpu = preview_cpu(sample, draft=False)
    return {
        "photos": count,
        "mean_photo_mib": round(float(outcomes["size"].mean()) / 2**20, 2),
        "cli_mean_megapixels": round(float((previews["width"] * previews["height"]).mean()) / 1e6, 1),
        "cli_wall_s": collected["wall_s"],
        "cli_photos_per_s": round(count / collected["wall_s"], 2),
        "cli_cpu_s_per_photo": round(collected["cpu_s"] / count, 3),
        "cli_peak_rss_mib": collected["peak_rss_mib"],
        "decoder_sample_photos": len(sample),
        "decoder_sample_megapixels": round(megapixels(sample), 1),
        "draft_photos_per_s": round(draft_rate, 2),
        "draft_cpu_s_per_photo": round(draft_cpu, 3),
        "full_decode_photos_per_s": round(full_rate, 2),
        "full_decode_cpu_s_per_photo": round(full_cpu, 3),
        "draft_speedup": round(full_cpu / draft_cpu, 2),
    }


def bytecode_compiled() -> bool:
    """Whether the installed libraries carry compiled bytecode (`make install` compiles it): without it, and
    with PYTHONDONTWRITEBYTECODE set, every CLI start compiles them again - a figure of the machine, not pv-media."""
    import dagster

    return (Path(dagster.__file__).parent / "__pycache__").is_dir()


def e2e(s3: str, count: int, phone_count: int, work: Path) -> dict:
    if not bytecode_compiled():
        print("warning: the venv has no compiled bytecode (run `make install`): start-up figures include compiling",
              file=sys.stderr)  # fmt: skip
    (work / "many").mkdir()
    (work / "phone").mkdir()
    results = many_photos(s3, count, work / "many")
    phone = phone_photos(phone_count, work / "phone")
    phone_figures = {f"phone_{key}": value for key, value in phone.items()}
    return {**results, **phone_figures, "bytecode_compiled": bytecode_compiled()}
