"""`make bench`: measures pv-media side by side with a baseline in the same run, and prints a
table and, as its last line, one JSON object.

- many_small: 2,000 photos of ~100 KB, 30 ms before each answer, 8 connections: the
  uploaded_media step vs the seed's sequential loop (speedup, bound_fraction against
  8 connections / 30 ms = 266.7 items/s);
- big_file: one 1 GiB video: pv-media's media path vs a bare streaming copy (peak RSS, ratio);
- rerun: a second collection over >= 10,000 stored objects (downloads, time_fraction).
- gallery: overview and station page response times of `pv-media gallery` over a generated index of
  10,000 stations x 100 items (+ one station with 5,000 installations), vs a per-request filtered
  Parquet read (bench/gallery.py).

- previews: previews per second for 1,000 photos of ~1 MB, the peak RSS of a 1 GiB video's poster
  frame and a station's rows of a 10,000-station gallery index, each beside its baseline
  (bench/previews.py).
- e2e: the real `pv-media collect --station X` (Dagster included) for 2,000 photos of ~100 KB into S3 and
  into the embedded default, its rerun with nothing new, and phone-size JPEGs, beside the seed's loop
  (bench/e2e.py).

Sizes can be scaled down for a smoke run: --small 200 --big-mib 64 --rerun 1000 --gallery-stations 50
--photos 20 --video-mib 16 --index-stations 200 --phone-photos 8; `--only previews` or
`python -m bench.run e2e` runs one scenario.
- evidence: precision and recall of each kind of finding on a world's planted cases, near-duplicate search
  among 1,000,000 hashes by the multi-index against brute force, the incremental merge against a rebuild,
  CPU per photo of the facts (bench/evidence.py); smoke: --evidence-world tiny --hashes 2000 --self-join 1000
  --merge-stations 20.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from minio import Minio

from bench.baseline import seed_loop, v1_bearer
from bench.e2e import e2e
from bench.evidence import evidence
from bench.gallery import gallery
from bench.previews import previews
from bench.servers import ROOT, S3_KEYS, s3_server, simulator
from pv_simulator import write_registry


def registry_file(info: dict, directory: Path) -> Path:
    path = directory / "stations.yaml"
    write_registry(path, info["entries"])
    return path


def use_store(endpoint: str, bucket: str) -> None:
    os.environ.update({"MINIO_ENDPOINT": endpoint, "MINIO_BUCKET": bucket, "MINIO_SECURE": "false", **S3_KEYS})


def sim_stats(base_url: str) -> dict:
    return requests.get(f"{base_url}/__sim/stats", timeout=10).json()


def collect(registry: Path, station_id: str, instance):
    """One real Dagster run of the four assets for the station; (result, wall seconds)."""
    from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions
    from resources.dagster_resources import StationApiResource

    defs = make_definitions(station_api=StationApiResource(stations_file=str(registry)))
    if station_id not in instance.get_dynamic_partitions("station"):
        instance.add_dynamic_partitions("station", [station_id])
    started = time.monotonic()
    result = defs.resolve_job_def(COLLECT_JOB_NAME).execute_in_process(
        partition_key=station_id,
        instance=instance,
        raise_on_error=True,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    return result, time.monotonic() - started


def step_seconds(result) -> dict[str, float]:
    """Seconds of each step of a run, from Dagster's own STEP_SUCCESS events."""
    return {e.step_key: round(e.event_specific_data.duration_ms / 1000, 2) for e in result.get_step_success_events()}


def step_metadata(result, key: str):
    from pv_assets.operations.station_run import materialization_metadata

    return materialization_metadata(result)["uploaded_media"][key]


def photo_station(station_id: str, photos: int, photo_size: tuple[int, int], seed: int, connections: int) -> dict:
    """A clean simulated station whose every record is picked up and holds four photos."""
    return {
        "station_id": station_id,
        "records": photos // 4,
        "seed": seed,
        "quirks": False,
        "photos_per_record": [4, 4],
        "all_picked_up": True,
        "photo_size": list(photo_size),
        "max_connections": connections,
        "region_company_code": "RC-BENCH",
        "picture_labels": False,  # a few shared real pictures: the simulator must not be the bottleneck
    }


def many_small(s3: str, count: int, instance, work: Path) -> dict:
    latency_ms, connections = 30.0, 8
    spec = photo_station("BENCH-SMALL", count, (95_000, 105_000), seed=7, connections=connections)
    with simulator([spec], latency_ms) as info:
        registry = registry_file(info, work)
        use_store(s3, "bench-small-pvmedia")
        result, _ = collect(registry, "BENCH-SMALL", instance)
        pv_seconds = step_metadata(result, "duration_s")
        assert step_metadata(result, "uploaded") == count, "pv-media did not store every photo"
        manifest = result.output_for_node("media_manifest")
        entry = info["entries"][0]
        minio = Minio(s3, S3_KEYS["MINIO_ACCESS_KEY"], S3_KEYS["MINIO_SECRET_KEY"], secure=False)
        minio.make_bucket("bench-small-seed")
        items = [(row.source_url, row.key_stem + ".jpg") for row in manifest.itertuples()]
        staging = work / "seed-staging"
        staging.mkdir()
        started = time.monotonic()
        seed_loop(
            entry["base_url"],
            os.environ[entry["account_env"]],
            os.environ[entry["password_env"]],
            items,
            minio,
            "bench-small-seed",
            staging,
        )
        seed_seconds = time.monotonic() - started
        stats = sim_stats(entry["base_url"])
        alone = server_alone_rate(entry, [url for url, _key in items], connections)
        answer_ms = median_answer_ms(entry, [url for url, _key in items[:100]])
        sample = staging / "sample.jpg"
        sample.write_bytes(minio.get_object("bench-small-seed", items[0][1]).read())
        s3_alone = s3_alone_rate(minio, "bench-small-s3-alone", sample, min(count, 500), 2 * connections)
    bound = connections / (latency_ms / 1000)
    return {
        "items": count,
        "pvmedia_s": round(pv_seconds, 2),
        "seed_loop_s": round(seed_seconds, 2),
        "speedup": round(seed_seconds / pv_seconds, 2),
        "items_per_s": round(count / pv_seconds, 1),
        "bound_items_per_s": round(bound, 1),
        "bound_fraction": round(count / pv_seconds / bound, 3),
        "median_answer_ms": round(answer_ms, 2),
        "server_alone_items_per_s": round(alone, 1),
        "s3_alone_uploads_per_s": round(s3_alone, 1),
        "fraction_of_server_alone": round(count / pv_seconds / alone, 3),
        "max_connections_seen": stats["max_concurrent_seen"],
        "busy_429": stats["busy_rejections"],
    }


def entry_bearer(entry: dict) -> dict[str, str]:
    account, password = os.environ[entry["account_env"]], os.environ[entry["password_env"]]
    return v1_bearer(entry["base_url"], account, password)


def server_alone_rate(entry: dict, urls: list[str], connections: int) -> float:
    """What the simulator alone delivers to a bare downloader on the same connections (bytes thrown
    away, nothing stored): the ceiling any collector can reach against it on this machine."""
    headers = entry_bearer(entry)
    local = threading.local()

    def fetch(url: str) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return len(session.get(url, headers=headers, timeout=30).content)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(fetch, urls))
    return len(urls) / (time.monotonic() - started)


def s3_alone_rate(minio: Minio, bucket: str, source: Path, count: int, workers: int) -> float:
    """What the S3 server alone absorbs: `count` uploads of one ~100 KB file from `workers` threads."""
    minio.make_bucket(bucket)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda n: minio.fput_object(bucket, f"alone/{n}.jpg", str(source)), range(count)))
    return count / (time.monotonic() - started)


def median_answer_ms(entry: dict, urls: list[str]) -> float:
    """One connection, one request at a time: how long the simulator takes to answer one photo
    (its configured latency plus producing and moving ~100 KB through Python at both ends)."""
    headers = entry_bearer(entry)
    session, times = requests.Session(), []
    for url in urls:
        started = time.perf_counter()
        session.get(url, headers=headers, timeout=30).content  # noqa: B018 - read the whole body
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run_step(mode: str, registry: Path, station_id: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.media_step", mode, str(registry), station_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def big_file(s3: str, size_mib: int, work: Path) -> dict:
    size = size_mib * 1024 * 1024
    spec = {
        "station_id": "BENCH-BIG",
        "records": 1,
        "seed": 8,
        "quirks": False,
        "photos_per_record": [0, 0],
        "videos_per_record": [1, 1],
        "video_size": [size, size],
        "all_picked_up": True,
        "region_company_code": "RC-BENCH",
    }
    with simulator([spec]) as info:
        registry = registry_file(info, work)
        # Interleaved, twice each, best of each: neither side gets the cold or the warm S3 server alone.
        runs: dict[str, list[dict]] = {"bare": [], "pvmedia": []}
        for attempt in range(2):
            for mode in ("bare", "pvmedia"):
                use_store(s3, f"bench-big-{mode}-{attempt}")
                runs[mode].append(run_step(mode, registry, "BENCH-BIG"))
        bare = min(runs["bare"], key=lambda r: r["seconds"])
        pv = min(runs["pvmedia"], key=lambda r: r["seconds"])
        pv["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs["pvmedia"])
    assert pv["bytes"] == bare["bytes"] == size
    return {
        "size_mib": size_mib,
        "peak_rss_mib": round(pv["peak_rss_mib"], 1),
        "rss_before_download_mib": round(pv["import_rss_mib"], 1),
        "bare_peak_rss_mib": round(bare["peak_rss_mib"], 1),
        "pvmedia_s": round(pv["seconds"], 2),
        "bare_s": round(bare["seconds"], 2),
        "ratio": round(bare["seconds"] / pv["seconds"], 3),
    }


def rerun(s3: str, objects: int, instance, work: Path) -> dict:
    spec = photo_station("BENCH-RERUN", objects, (1_500, 2_500), seed=9, connections=8)
    with simulator([spec], latency_ms=30.0) as info:
        registry = registry_file(info, work)
        use_store(s3, "bench-rerun")
        base_url = info["entries"][0]["base_url"]
        first, first_s = collect(registry, "BENCH-RERUN", instance)
        before = sim_stats(base_url)["media_gets"]
        second, second_s = collect(registry, "BENCH-RERUN", instance)
        downloads = sim_stats(base_url)["media_gets"] - before
    assert step_metadata(first, "uploaded") == objects
    return {
        "objects": objects,
        "downloads": downloads,
        "skipped": step_metadata(second, "skipped"),
        "first_run_s": round(first_s, 2),
        "rerun_s": round(second_s, 2),
        "time_fraction": round(second_s / first_s, 3),
        **{f"rerun_{step}_s": seconds for step, seconds in step_seconds(second).items()},
    }


SCENARIOS = ["many_small", "big_file", "rerun", "gallery", "previews", "e2e", "evidence"]


def print_table(results: dict) -> None:
    print(f"{'scenario':<12} {'measure':<26} value")
    for scenario, figures in results.items():
        for key, value in figures.items():
            print(f"{scenario:<12} {key:<26} {value}")
            scenario = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2000, help="photos in many_small (default 2000)")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big file in MiB (default 1024)")
    parser.add_argument("--rerun", type=int, default=10_000, help="objects in rerun (default 10000)")
    parser.add_argument("--photos", type=int, default=1000, help="photos of ~1 MB in previews (default 1000)")
    parser.add_argument("--video-mib", type=int, default=1024, help="video size in previews, MiB (default 1024)")
    parser.add_argument(
        "--gallery-stations", type=int, default=10_000, help="stations of 100 items in gallery (default 10000)"
    )
    parser.add_argument(
        "--index-stations", type=int, default=10_000, help="stations in the previews' index (default 10000)"
    )
    parser.add_argument("--phone-photos", type=int, default=48, help="phone-size photos in e2e (default 48)")
    parser.add_argument("--evidence-world", default="small", help="world whose planted cases evidence scores")
    parser.add_argument("--hashes", type=int, default=1_000_000, help="stored photo hashes in evidence (1000000)")
    parser.add_argument("--self-join", type=int, default=200_000, help="hashes the index joins with themselves")
    parser.add_argument(
        "--merge-stations", type=int, default=200, help="stations of 500 photos in evidence's merge (default 200)"
    )
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only these scenarios")
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], help="the same as --only")
    args = parser.parse_args(argv)
    args.only = (args.only or []) + args.scenarios
    from dagster import DagsterInstance

    os.environ.setdefault("PV_STAGING_DIR", tempfile.mkdtemp(prefix="pv-bench-staging-"))
    results = {}
    with tempfile.TemporaryDirectory() as tmp, s3_server() as s3, DagsterInstance.ephemeral() as instance:
        work = Path(tmp)
        for name, run in (
            ("many_small", lambda d: many_small(s3, args.small, instance, d)),
            ("big_file", lambda d: big_file(s3, args.big_mib, d)),
            ("rerun", lambda d: rerun(s3, args.rerun, instance, d)),
            ("gallery", lambda d: gallery(args.gallery_stations, 100, 5000, d)),
            ("previews", lambda d: previews(s3, args.photos, args.video_mib, args.index_stations, d)),
            ("e2e", lambda d: e2e(s3, args.small, args.phone_photos, d)),
            (
                "evidence",
                lambda d: evidence(
                    d,
                    world=args.evidence_world,
                    hashes=args.hashes,
                    queries=1000,
                    self_join=args.self_join,
                    phone_photos=args.phone_photos,
                    merge_stations=args.merge_stations,
                ),
            ),  # fmt: skip
        ):
            if args.only and name not in args.only:
                continue
            directory = work / name
            directory.mkdir()
            print(f"running {name} …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            results[name] = run(directory)
            print(f"{name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print_table(results)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
