"""The object store's own faults (issue 22, item 15): a `503 SlowDown` on a multipart POST is retried with
backoff, and a full staging disk is `disk_full` with the path, not `internal_error: OSError`."""

from __future__ import annotations

import hashlib
import http.client
import os
from pathlib import Path

import pytest

from pv_assets.collection.collector import StationCollector
from pv_simulator.media_gen import media_bytes
from resources.object_store import PART_SIZE, LocalDirObjectStore, MinioObjectStore
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY
from tests.hostile import HostileStation, manifest_row

pytestmark = pytest.mark.integration  # a fault-injecting proxy and a station over real sockets (tests/tiers.py)

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.'
    b"</Message><RequestId>1</RequestId><HostId>h</HostId></Error>"
)


def slow_down_once_per_post(s3_endpoint: str):
    """A proxy to moto's S3 server that answers the first try of every POST (multipart create and complete)
    with `503 SlowDown`, as a busy store does, and relays everything else."""
    refused: set[str] = set()

    def relay(handler):
        query = handler.path.partition("?")[2]
        kind = "create" if query.startswith("uploads") else "complete" if "uploadId" in query else query
        if handler.command == "POST" and kind not in refused:
            refused.add(kind)
            handler.send_raw(503, SLOW_DOWN, "application/xml")
            return
        host, port = s3_endpoint.split(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        upstream.request(handler.command, handler.path, body=handler.body or None, headers=headers)
        answer = upstream.getresponse()
        body = answer.read()
        passed = {k.replace("-", "_"): v for k, v in answer.getheaders() if k.lower() in ("etag", "x-amz-request-id")}
        handler.send_raw(answer.status, body, answer.getheader("Content-Type") or "application/xml", **passed)
        upstream.close()

    return relay, refused


def test_a_slow_down_on_the_multipart_posts_is_retried_and_the_object_is_stored(tmp_path, s3_endpoint, s3_store):
    big = tmp_path / "video.bin"
    big.write_bytes(os.urandom(PART_SIZE + 1024 * 1024))  # over one part: minio uploads it as multipart
    relay, refused = slow_down_once_per_post(s3_endpoint)
    with HostileStation({"*": relay}) as proxy:
        store = MinioObjectStore(proxy.base_url.split("//")[1], S3_ACCESS_KEY, S3_SECRET_KEY, s3_store.bucket)
        store.put_file("RC-1/ST-H/v_0badcafe.mp4", big, "video/mp4", {"station": "ST-H"})
        posts = [path for method, path, _headers in proxy.seen if method == "POST"]
    assert refused == {"create", "complete"}
    assert len(posts) == 4  # each POST refused once, then retried once
    stored = s3_store.get_bytes("RC-1/ST-H/v_0badcafe.mp4")
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()


def test_a_full_staging_disk_is_disk_full_with_the_path(tmp_path, monkeypatch):
    """The staging file's writes go to /dev/full, where the kernel answers every write with ENOSPC."""
    import resources.station_api.media as media

    real_fdopen = media.os.fdopen

    def full_disk(handle, mode="r", *args, **kwargs):
        if "w" in mode:
            os.close(handle)
            return open("/dev/full", mode)  # noqa: SIM115 - closed by the caller's `with`
        return real_fdopen(handle, mode, *args, **kwargs)

    monkeypatch.setattr(media.os, "fdopen", full_disk)
    photo = media_bytes("jpeg", 8, 8000)
    staging = tmp_path / "staging"
    with HostileStation({"/files/a.jpg": lambda h: h.send_raw(200, photo, "image/jpeg")}) as station:
        store = LocalDirObjectStore(tmp_path / "store")
        collector = StationCollector(station.client(), store, staging, "run-1", workers=1)
        row = manifest_row(station.base_url + "/files/a.jpg")
        outcome = collector._guarded(row)  # noqa: SLF001 - the worker's own entry, where internal_error was made
    assert outcome["outcome"] == "failed"
    assert outcome["reason"] == f"disk_full: no space left on the device of the staging folder {staging}"
    assert not [p for p in Path(staging).rglob("*") if p.is_file()]
