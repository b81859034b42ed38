"""A station's installations and their media items, as the pages show them.

What a page shows of a record is allowed, not merely "not known to be personal": the record id,
pickup status and failure reasons are masked by what they look like (an ID, phone, e-mail or bank
number), the record's fields pass the gallery contract's allow-list again (pv_model.gallery_contract),
and an installation is addressed by an opaque key - never by its record id, which may be an ID number.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pv_model.failure_categories import category_of
from pv_model.gallery_contract import personal_values, shown_fields
from pv_model.personal_data import mask_personal_text
from pv_model.photo_types import missing_types, split_types

RENDITIONS = {"thumb": "thumb_key", "medium": "medium_key", "poster": "poster_key", "original": "object_key"}
CARD_FIELDS = 4  # descriptive fields on a station card; the installation page shows them all
CARD_COLUMNS = [
    "item_id",
    "record_id",
    "pickup_status",
    "pickup_status_raw",
    "id_card_masked",
    "record_fields",
    "media_kind",
    "status",
    "failure_reason",
    "preview_problem",
    "object_key",
    "content_type",
    "thumb_key",
    "medium_key",
    "poster_key",
    "width",
    "height",
    "duration_s",
    "size",
    "collected_at",
    "photo_type",
]


def installation_key(secret: bytes, station_id: str, record_id: str) -> str:
    """The installation's opaque id in URLs: keyed, so that no one can test a guessed ID number against it."""
    return hmac.new(secret, f"{station_id}\n{record_id}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class MediaItem:
    item_id: str
    media_kind: str | None
    status: str
    failure_reason: str | None
    preview_problem: str | None
    has: frozenset[str]  # the renditions that exist (thumb/medium/poster/original)
    content_type: str | None
    width: int | None
    height: int | None
    duration_s: float | None
    size: int | None
    collected_at: str | None
    photo_type: str | None = None

    @property
    def category(self) -> str:
        """The failure reason in a manager's category (pv_model.failure_categories)."""
        return category_of(self.failure_reason)


@dataclass
class Installation:
    """One picked-up record of a station. Its counts come from one vectorized pass over the station;
    its media items are built only when a page shows it (a card's cover, the installation page)."""

    record_id: str  # as the station sent it: for look-ups only, never shown
    key: str  # the opaque id in its URL
    id_card_masked: str
    pickup_status: str
    pickup_status_raw: str
    record_fields: str | None  # the JSON as stored; parsed only when a page shows it
    photo_count: int = 0
    video_count: int = 0
    failed_count: int = 0
    photo_types: frozenset[str] = frozenset()  # types with a stored photo
    required_types: tuple[str, ...] = ()
    station_rows: pa.Table | None = None  # the station's index rows; this record's are [start, end)
    start: int = 0
    end: int = 0

    @functools.cached_property
    def label(self) -> str:
        """The record id as a page shows it: masked where it looks like an ID, phone or bank number."""
        return mask_personal_text(self.record_id)

    @functools.cached_property
    def status_label(self) -> str:
        return mask_personal_text(self.pickup_status_raw or self.pickup_status)

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        return safe_fields(self.record_fields)

    @functools.cached_property
    def items(self) -> list[MediaItem]:
        if self.station_rows is None:
            return []
        return media_items(self.station_rows.slice(self.start, self.end - self.start))

    @property
    def photos(self) -> list[MediaItem]:
        return [i for i in self.items if i.media_kind == "photo" and i.status == "stored"]

    @property
    def videos(self) -> list[MediaItem]:
        return [i for i in self.items if i.media_kind == "video" and i.status == "stored"]

    @property
    def failed(self) -> list[MediaItem]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def cover(self) -> tuple[str, str] | None:
        """(item_id, rendition) of the card's picture: the first photo's thumb, else a video poster."""
        for item in self.photos:
            if "thumb" in item.has:
                return item.item_id, "thumb"
        for item in self.videos:
            if "poster" in item.has:
                return item.item_id, "poster"
        return None

    @property
    def cover_type(self) -> str | None:
        """What the card's picture shows (its photo type), None for a video poster."""
        cover = self.cover
        return next((i.photo_type or "other" for i in self.photos if cover and i.item_id == cover[0]), None)

    @property
    def missing_types(self) -> tuple[str, ...]:
        return missing_types(self.photo_types, self.required_types)

    @property
    def present_required(self) -> tuple[str, ...]:
        return tuple(t for t in self.required_types if t in self.photo_types)

    @property
    def id_last4(self) -> str:
        return self.id_card_masked[-4:].upper() if self.id_card_masked else ""

    def card_fields(self) -> list[tuple[str, str]]:
        return list(self.fields.items())[:CARD_FIELDS]


def safe_fields(raw: str | None) -> dict[str, str]:
    """The record's fields a page may show: the contract's allow-list applied again (an index written by an
    older producer, or by a bug, is not trusted), every value masked by what it looks like, and the values of
    any personal field that got in masked wherever they appear."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return shown_fields(data, personal_values(data)) if isinstance(data, dict) else {}


def build_installations(rows: pa.Table, secret: bytes) -> list[Installation]:
    """A station's installations (rows sorted by record id), with photo/video/failed counts per record."""
    if rows.num_rows == 0:
        return []
    record_ids = rows.column("record_id").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate(([True], record_ids[1:] != record_ids[:-1])))
    kind = rows.column("media_kind").to_numpy(zero_copy_only=False)
    status = rows.column("status").to_numpy(zero_copy_only=False)
    stored = status == "stored"

    def per_record(mask: np.ndarray) -> list[int]:
        return np.add.reduceat(mask.astype(np.int64), starts).tolist()

    photos, videos = per_record(stored & (kind == "photo")), per_record(stored & (kind == "video"))
    failed = per_record(status == "failed")
    types, required = _photo_types(rows, starts, stored & (kind == "photo"))
    heads = rows.take(pa.array(starts)).select(
        ["station_id", "record_id", "id_card_masked", "pickup_status", "pickup_status_raw", "record_fields"]
    )
    ends = [*starts[1:].tolist(), rows.num_rows]
    return [
        Installation(
            record_id=head["record_id"],
            key=installation_key(secret, head["station_id"], head["record_id"]),
            id_card_masked=head["id_card_masked"] or "",
            pickup_status=head["pickup_status"] or "",
            pickup_status_raw=head["pickup_status_raw"] or "",
            record_fields=head["record_fields"],
            photo_count=photos[n],
            video_count=videos[n],
            failed_count=failed[n],
            photo_types=types[n],
            required_types=required[n],
            station_rows=rows,
            start=start,
            end=end,
        )
        for n, (head, start, end) in enumerate(zip(heads.to_pylist(), starts.tolist(), ends, strict=True))
    ]


def _photo_types(rows: pa.Table, starts: np.ndarray, stored_photo: np.ndarray) -> tuple[list, list]:
    """Per record: the types with a stored photo, and the required ones (none in an index without types)."""
    if "photo_type" not in rows.column_names or "required_photo_types" not in rows.column_names:
        return [frozenset()] * len(starts), [()] * len(starts)
    photo_type = rows.column("photo_type").to_pylist()
    required_cells = rows.column("required_photo_types").to_pylist()
    ends = [*starts[1:].tolist(), rows.num_rows]
    present = [
        frozenset(photo_type[i] for i in range(start, end) if stored_photo[i] and photo_type[i])
        for start, end in zip(starts.tolist(), ends, strict=True)
    ]
    return present, [split_types(required_cells[start]) for start in starts.tolist()]


def media_items(rows: pa.Table) -> list[MediaItem]:
    items = []
    for row in rows.select([c for c in CARD_COLUMNS if c in rows.column_names]).to_pylist():
        if row["media_kind"] is None:
            continue
        items.append(
            MediaItem(
                item_id=row["item_id"],
                media_kind=row["media_kind"],
                status=row["status"] or "",
                failure_reason=mask_personal_text(row["failure_reason"] or "") or None,
                preview_problem=mask_personal_text(row["preview_problem"] or "") or None,
                has=frozenset(r for r, column in RENDITIONS.items() if row[column]),
                content_type=row["content_type"],
                width=row["width"],
                height=row["height"],
                duration_s=row["duration_s"],
                size=row["size"],
                collected_at=row["collected_at"],
                photo_type=row.get("photo_type"),
            )
        )
    return items
