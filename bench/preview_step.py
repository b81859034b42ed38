"""One process that takes the poster frame of one stored video, for its peak RSS.

`python -m bench.preview_step pvmedia|load ENDPOINT BUCKET KEY SIZE` with the MINIO_* keys set;
prints one JSON line: seconds, bytes_read, rss_before_mib (libraries loaded), peak_rss_mib,
poster_sha256. pvmedia: render.video_poster over range reads (seeking); load: the whole object
into memory, then the same decoding from it - the baseline of loading the video fully.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time

from bench.media_step import rss_mib


def main() -> int:
    mode, endpoint, bucket, key, size = sys.argv[1:6]
    import av  # noqa: F401 - loaded before the first measurement, like the store client
    import PIL.Image  # noqa: F401

    from pv_assets.gallery.previews.render import StoreReader, video_poster
    from resources.object_store import MinioObjectStore

    store = MinioObjectStore(endpoint, os.environ["MINIO_ACCESS_KEY"], os.environ["MINIO_SECRET_KEY"], bucket)
    store.ensure_ready()
    before = rss_mib()
    started = time.monotonic()
    if mode == "pvmedia":
        reader = StoreReader(store, key, int(size))
        poster = video_poster(reader)
        read = reader.bytes_fetched
    else:
        data = store.get_bytes(key)
        read = len(data)
        poster = video_poster(io.BytesIO(data))
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "bytes_read": read,
                "rss_before_mib": round(before, 1),
                "peak_rss_mib": round(rss_mib(), 1),
                "poster_sha256": hashlib.sha256(poster.poster).hexdigest(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
