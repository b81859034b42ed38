"""What previews an item gets, where they live and whom they belong to - pure, no I/O.

Contract with the gallery viewer (docs/gallery-contract.md): previews under
`_pv-media/previews/{region}/{station}/{item_id}/` - `thumb.webp` (long side 320) and
`medium.webp` (long side 1280) for photos, `poster.webp` (long side 1280) for videos. The
item id is opaque and stable; it never contains a key, so it never contains an ID number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from resources.sniff import ACCEPTED, HEIF

PREVIEW_PREFIX = "_pv-media/previews"
THUMB_LONG_SIDE = 320
MEDIUM_LONG_SIDE = 1280
POSTER_LONG_SIDE = 1280
POSTER_AT_S = 1.0  # about one second in; a shorter video gets its first frame
PREVIEW_SUFFIX = ".webp"
PREVIEW_CONTENT_TYPE = "image/webp"

# A stored key ends with the extension its bytes were sniffed as (resources.sniff, the one list of accepted
# types); .jpeg and .m4v as other tools name the same types.
_STORED_TYPES = {media_type.extension: media_type for media_type in [*ACCEPTED.values(), HEIF]}
CONTENT_TYPES = {ext: t.mime for ext, t in _STORED_TYPES.items()} | {".jpeg": "image/jpeg", ".m4v": "video/mp4"}
PHOTO_EXTENSIONS = {ext for ext, t in _STORED_TYPES.items() if t.kind == "photo"} | {".jpeg"}
VIDEO_EXTENSIONS = {ext for ext, t in _STORED_TYPES.items() if t.kind == "video"} | {".m4v"}
STORED_OUTCOMES = ("uploaded", "skipped")

# What a preview row tells: the asset's table and the gallery index's preview columns.
PREVIEW_COLUMNS = [
    "station_id",
    "record_id",
    "item_id",
    "media_kind",
    "object_key",
    "size",
    "thumb_key",
    "medium_key",
    "poster_key",
    "width",
    "height",
    "duration_s",
    "preview_outcome",  # built / skipped / failed
    "preview_problem",
    "preview_bytes",
    "original_bytes_read",
]
BUILT, SKIPPED, FAILED = "built", "skipped", "failed"
PREVIEW_KEY_COLUMNS = ("thumb_key", "medium_key", "poster_key")
UNDECODABLE = "undecodable"  # render.Undecodable's messages start so
NO_PREVIEW_FOR_TYPE = "no preview for files of type"
TOO_MANY_PIXELS = "too_many_pixels"  # bounds.TooManyPixels: over PV_PREVIEW_MAX_PIXELS
# Problems a re-run meets again as they are: the original cannot have a preview (under the configured pixel
# limit). A resource failure (`resource: ...`, out of memory) is not one of them: the next run retries it.
PERMANENT_PREVIEW_PROBLEMS = (UNDECODABLE, NO_PREVIEW_FOR_TYPE, TOO_MANY_PIXELS)


def item_id(station_id: str, url_hash: str | None, record_id: str, raw_url: str | None = None) -> str:
    """The opaque id of one media item of a record: stable across runs, free of keys and ID numbers.

    The record id is part of it because two owners' records may list the same URL (two objects,
    one url hash): each is its own item in the gallery."""
    source = url_hash or hashlib.sha256((raw_url or "").encode("utf-8")).hexdigest()[:8]
    return hashlib.sha256(f"{station_id}\n{source}\n{record_id}".encode()).hexdigest()[:16]


def record_item_id(station_id: str, record_id: str) -> str:
    """The id of the gallery row of a picked-up record that has no media item at all."""
    return hashlib.sha256(f"{station_id}\n{record_id}\nrecord".encode()).hexdigest()[:16]


def extension_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def media_kind_of(key: str) -> str | None:
    """photo / video from the stored key's suffix (which came from the bytes), else None."""
    ext = extension_of(key)
    return "photo" if ext in PHOTO_EXTENSIONS else "video" if ext in VIDEO_EXTENSIONS else None


def content_type_of(key: str) -> str | None:
    return CONTENT_TYPES.get(extension_of(key))


def region_station_of(key: str) -> tuple[str, str]:
    """`{region}/{station}/...` -> (region, station)."""
    region, station, _rest = key.split("/", 2)
    return region, station


def item_prefix(object_key: str, item: str) -> str:
    region, station = region_station_of(object_key)
    return f"{PREVIEW_PREFIX}/{region}/{station}/{item}/"


def station_preview_prefix(region: str, station_id: str) -> str:
    return f"{PREVIEW_PREFIX}/{region}/{station_id}/"


def contact_sheet_key(region: str, station_id: str) -> str:
    """The station's contact sheet: beside the item folders, never inside one."""
    return f"{PREVIEW_PREFIX}/{region}/{station_id}/contact-sheet{PREVIEW_SUFFIX}"


def preview_keys(object_key: str, item: str, kind: str) -> dict[str, str]:
    """The previews an item gets, by column name."""
    prefix = item_prefix(object_key, item)
    if kind == "photo":
        return {"thumb_key": f"{prefix}thumb{PREVIEW_SUFFIX}", "medium_key": f"{prefix}medium{PREVIEW_SUFFIX}"}
    return {"poster_key": f"{prefix}poster{PREVIEW_SUFFIX}"}


def fit_long_side(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The size within long_side x long_side keeping the aspect ratio; never larger than the original."""
    scale = min(1.0, long_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def poster_time(duration_s: float | None) -> float:
    """Where the poster frame is taken: about one second in, or the start of a shorter video."""
    return POSTER_AT_S if duration_s is not None and duration_s > POSTER_AT_S else 0.0


@dataclass(frozen=True)
class PreviewTask:
    """One stored object and the previews it needs; `missing` empty means all exist."""

    row: dict[str, Any]  # the preview row so far
    kind: str
    keys: dict[str, str]
    missing: tuple[str, ...]


def plan_previews(
    outcomes: Iterable[dict[str, Any]], existing_keys: set[str], previous: dict[str, dict[str, Any]]
) -> list[PreviewTask]:
    """A task per stored object of the uploaded_media table (one per object key).

    `existing_keys`: the one listing of the station's preview prefix; `previous`: the last preview
    rows by item id, whose dimensions a skipped item keeps and whose "undecodable" verdict an
    unchanged object keeps - in neither case is the original read again.
    """
    tasks: list[PreviewTask] = []
    seen: set[str] = set()
    for outcome in outcomes:
        key = outcome.get("object_key")
        if outcome.get("outcome") not in STORED_OUTCOMES or not key or key in seen:
            continue
        seen.add(key)
        item = item_id(outcome["station_id"], outcome.get("url_hash"), outcome["record_id"], outcome.get("raw_url"))
        kind = media_kind_of(key)
        row = {column: None for column in PREVIEW_COLUMNS}
        row.update(
            station_id=outcome["station_id"],
            record_id=outcome["record_id"],
            item_id=item,
            media_kind=kind,
            object_key=key,
            size=outcome.get("size"),
            original_bytes_read=0,
            preview_bytes=0,
        )
        if kind is None:
            row.update(preview_outcome=FAILED, preview_problem=f"{NO_PREVIEW_FOR_TYPE} {extension_of(key)!r}")
            tasks.append(PreviewTask(row, "", {}, ()))
            continue
        keys = preview_keys(key, item, kind)
        missing = tuple(name for name, preview_key in keys.items() if preview_key not in existing_keys)
        before = previous.get(item, {})
        if missing and _judged_undecodable(before, row["size"]):
            # The same object was found undecodable before: say so again without reading it again.
            row.update(preview_outcome=FAILED, preview_problem=before["preview_problem"])
            tasks.append(PreviewTask(row, kind, keys, ()))
            continue
        if not missing:
            row.update(keys)
            row.update({k: before.get(k) for k in ("width", "height", "duration_s")}, preview_outcome=SKIPPED)
        tasks.append(PreviewTask(row, kind, keys, missing))
    return tasks


def _judged_undecodable(previous_row: dict[str, Any], size: Any) -> bool:
    problem = previous_row.get("preview_problem") or ""
    return problem.startswith(UNDECODABLE) and previous_row.get("size") == size
