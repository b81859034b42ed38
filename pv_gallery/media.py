"""The media route: previews and originals by opaque item id, streamed from the store with Range support.

No object key (whose file name holds the owner's ID number) is ever put into a URL or a header.
An original leaves without its metadata (pv_gallery.strip): the same bytes, EXIF, GPS and serial
numbers blanked, so Content-Length and Range work as on the stored file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from pv_gallery.installations import RENDITIONS
from pv_gallery.ranges import RangeNotSatisfiable, parse_range
from pv_gallery.strip import CannotStrip, Patch, SourceReader, metadata_patches, patched
from pv_gallery.web import log, protected, snapshot
from resources.object_store import ObjectStore

PREVIEW_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PREVIEW_CACHE = "private, max-age=31536000, immutable"  # previews never change under their item id
ORIGINAL_CACHE = "private, max-age=3600"
CACHED_PLANS = 2048


class StripPlans:
    """The metadata patches of each original version (key and etag), worked out once."""

    def __init__(self, store: ObjectStore):
        self.store = store
        self._plans: OrderedDict[tuple[str, str], list[Patch]] = OrderedDict()
        self._lock = threading.Lock()

    def patches(self, key: str, version: str, size: int, content_type: str) -> list[Patch]:
        with self._lock:
            if (key, version) in self._plans:
                self._plans.move_to_end((key, version))
                return self._plans[(key, version)]
        reader = SourceReader(lambda offset, length: self.store.get_range(key, offset, length), size)
        plan = metadata_patches(reader, content_type)
        with self._lock:
            self._plans[(key, version)] = plan
            while len(self._plans) > CACHED_PLANS:
                self._plans.popitem(last=False)
        return plan


def preview_type(key: str) -> str:
    return PREVIEW_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


@protected(page=False)
def media(request: Request) -> Response:
    rendition = request.path_params["rendition"]
    row = snapshot(request).item_row(request.path_params["item_id"]) if rendition in RENDITIONS else None
    key = row and row[RENDITIONS[rendition]]
    if not key or (rendition == "original" and row["status"] != "stored"):
        return PlainTextResponse("not found", status_code=404)
    store: ObjectStore = request.app.state.store
    info = store.stat(key)
    if info is None:
        return PlainTextResponse("not found", status_code=404)
    patches: list[Patch] = []
    if rendition == "original":
        content_type = row["content_type"] or info.content_type or "application/octet-stream"
        try:
            patches = request.app.state.strip_plans.patches(key, info.etag or str(info.size), info.size, content_type)
        except CannotStrip as exc:
            log.warning("original of item %s not sent: %s", row["item_id"], exc)
            return PlainTextResponse("this original cannot be sent without its metadata", status_code=404)
        except KeyError:
            return PlainTextResponse("not found", status_code=404)
        cache = ORIGINAL_CACHE
    else:
        content_type, cache = preview_type(key), PREVIEW_CACHE
    # The original's bytes as sent differ from the stored ones: their own validator.
    etag = f'"{info.etag}{"-nometa" if rendition == "original" else ""}"' if info.etag else None
    headers = {"accept-ranges": "bytes", "cache-control": cache, "content-type": content_type}
    if etag:
        headers["etag"] = etag
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers={k: v for k, v in headers.items() if k != "content-type"})
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and if_range != etag:
        range_header = None  # the client's partial copy is of another version: send it all
    try:
        wanted = parse_range(range_header, info.size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "content-range": f"bytes */{info.size}"})
    start, end = wanted if wanted else (0, info.size - 1)
    headers["content-length"] = str(max(0, end - start + 1))
    status = 206 if wanted else 200
    if wanted:
        headers["content-range"] = f"bytes {start}-{end}/{info.size}"
    if request.method == "HEAD" or info.size == 0:
        return Response(status_code=status, headers=headers)
    try:
        chunks = store.open_range(key, start, end)
    except KeyError:
        return PlainTextResponse("not found", status_code=404)
    return StreamingResponse(
        patched(chunks, start, patches) if patches else chunks, status_code=status, headers=headers
    )
