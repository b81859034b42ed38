"""The supervision page's data: photo_evidence's findings file, read when it changes, grouped for people.

The file holds distances and day gaps, never a coordinate (resources/evidence_contract.py); record ids are
masked here as every page masks them, and a photo links to its installation's opaque page.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq

from pv_gallery.installations import installation_key
from pv_gallery.stored_file import StoredFile
from pv_model.evidence_contract import FINDINGS_KEY
from pv_model.personal_data import mask_personal_text
from resources.object_store import ObjectStore

KINDS = ("reuse", "gps_far", "captured_early", "captured_late", "no_camera_data")
MAX_CASES = 200  # cases shown per kind and region: a page, not a dump


@dataclass(frozen=True)
class EvidencePhoto:
    item_id: str
    station_id: str
    label: str  # the record id as pages show it (masked)
    link: str  # the installation's page
    rendition: str = "thumb"  # a video's picture is its poster frame


@dataclass
class Case:
    kind: str
    region: str
    photos: list[EvidencePhoto] = field(default_factory=list)
    distance_m: int | None = None
    days_gap: int | None = None
    hash_bits: int | None = None
    installations: int | None = None


def _photo(row: dict[str, Any], secret: bytes) -> EvidencePhoto:
    station, record = row["station_id"], row["record_id"]
    link = f"/station/{quote(station, safe='')}/installation/{installation_key(secret, station, record)}"
    rendition = "poster" if str(row.get("thumb_key") or "").endswith("/poster.webp") else "thumb"
    return EvidencePhoto(row["item_id"], station, mask_personal_text(record), link, rendition)


def cases(rows: list[dict[str, Any]], secret: bytes) -> dict[str, dict[str, list[Case]]]:
    """kind -> region -> cases; a reuse cluster is one case with every photo of it (under its first region)."""
    grouped: dict[str, dict[str, list[Case]]] = {kind: defaultdict(list) for kind in KINDS}
    clusters: dict[int, Case] = {}
    for row in rows:
        kind, region = row["kind"], row["region_code"] or ""
        if kind not in grouped:
            continue
        if kind == "reuse":
            case = clusters.get(row["cluster"])
            if case is None:
                case = clusters[row["cluster"]] = Case(kind, region, installations=row["installations"])
                grouped[kind][region].append(case)
            case.photos.append(_photo(row, secret))
            bits = row.get("hash_bits")
            case.hash_bits = bits if case.hash_bits is None else min(case.hash_bits, bits)
            continue
        case = Case(kind, region, [_photo(row, secret)], row.get("distance_m"), row.get("days_gap"))
        grouped[kind][region].append(case)
    for by_region in grouped.values():
        for region, found in by_region.items():
            found.sort(key=lambda c: -(c.distance_m or c.days_gap or c.installations or 0))
            by_region[region] = found[:MAX_CASES]
    return {kind: dict(sorted(by_region.items())) for kind, by_region in grouped.items()}


class EvidenceFindings:
    """The findings file as of its last change (one stat per request; read again when its etag moves)."""

    def __init__(self, store: ObjectStore, key: str = FINDINGS_KEY):
        self._file = StoredFile(store, key, _findings)

    def rows(self) -> list[dict[str, Any]] | None:
        """Every finding, or None when photo_evidence has not run yet."""
        found = self._file.get()
        return None if found is None else found[0]

    def for_items(self, item_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The findings of these items (an installation page's photos): item id -> its findings."""
        found = self._file.get()
        by_item = {} if found is None else found[1]
        return {item: by_item[item] for item in item_ids if item in by_item}


def _findings(data: bytes) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The findings, and the same rows by item id."""
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_item[row["item_id"]].append(row)
    return rows, dict(by_item)
