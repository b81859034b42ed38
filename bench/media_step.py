"""One process that collects one station's media, for peak-RSS measurements of the big file.

`python -m bench.media_step pvmedia|bare STATIONS_FILE STATION_ID` with the MINIO_* variables set;
prints one JSON line: seconds, bytes, import_rss_mib (before any download), peak_rss_mib.
pv-media's side runs the uploaded_media step's own code (StationCollector over the manifest rows),
without Dagster and pandas around it: what is measured is the media path, whose memory must not
grow with the file, not the resident size of the libraries a Dagster step also loads.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def rss_mib() -> float:
    """Peak RSS of this process. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    across fork and exec, so a child of a big process would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    mode, stations_file, station_id = sys.argv[1:4]
    from minio import Minio

    from bench.baseline import bare_streaming_copy, v1_bearer
    from pv_assets.collection.collector import StationCollector
    from pv_assets.collection.manifest_rows import manifest_rows
    from pv_assets.collection.record_table import record_rows
    from pv_model.dialect import load_interface
    from resources.object_store import MinioObjectStore
    from resources.registry import load_registry
    from resources.station_api import ClientSettings, StationClient, station_endpoint

    station = load_registry(stations_file).get(station_id)
    endpoint = station_endpoint(station)
    account, password = endpoint.account, endpoint.password
    interface = load_interface(station.dialect)
    client = StationClient(endpoint, interface, ClientSettings())
    records = record_rows(list(client.iter_records()), interface, station.id, station.region_company_code)
    manifest = manifest_rows(records, base_url=station.base_url, accepted_statuses=station.accepted_pickup_status)
    bucket = os.environ["MINIO_BUCKET"]
    imported = rss_mib()
    with tempfile.TemporaryDirectory() as staging:
        started = time.monotonic()
        if mode == "pvmedia":
            store = MinioObjectStore(
                os.environ["MINIO_ENDPOINT"], os.environ["MINIO_ACCESS_KEY"], os.environ["MINIO_SECRET_KEY"], bucket
            )
            collector = StationCollector(client, store, Path(staging), "bench", workers=station.max_connections)
            outcomes = collector.run_rows(manifest)
            assert all(row["outcome"] == "uploaded" for row in outcomes), [row["reason"] for row in outcomes]
            size = collector.tally.bytes
        else:
            minio = Minio(
                os.environ["MINIO_ENDPOINT"],
                os.environ["MINIO_ACCESS_KEY"],
                os.environ["MINIO_SECRET_KEY"],
                secure=False,
            )
            if not minio.bucket_exists(bucket):
                minio.make_bucket(bucket)
            row = manifest[0]
            headers = v1_bearer(station.base_url, account, password)
            size = bare_streaming_copy(
                row["source_url"], headers, minio, bucket, row["key_stem"] + ".mp4", Path(staging)
            )
        seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "bytes": size, "import_rss_mib": imported, "peak_rss_mib": rss_mib()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
