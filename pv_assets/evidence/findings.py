"""What makes a photo suspicious, over the whole group's facts - pure, no store.

- reuse: photos whose pHashes are at most `duplicate_bits` apart, confirmed by their dHashes at most
  `dhash_bits` apart (a multi-index finds the pairs; pairs join into
  clusters) and that belong to two or more installations - one picture offered for several households;
- gps_far: the photo's GPS is more than `gps_far_m` from its installation's coordinates;
- captured_early / captured_late: taken more than `early_days` before, or `late_days` after, the install date
  (no install date: the pickup date);
- no_camera_data: no capture time, GPS, make or model at all (a screenshot, an edited or forwarded file).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pv_assets.evidence.pairs import all_pairs
from pv_model.evidence_contract import FINDING_COLUMNS as FINDING_TYPES

REUSE, GPS_FAR, EARLY, LATE, NO_CAMERA_DATA = "reuse", "gps_far", "captured_early", "captured_late", "no_camera_data"
KINDS = (REUSE, GPS_FAR, EARLY, LATE, NO_CAMERA_DATA)
EARTH_RADIUS_M = 6_371_008.8

FINDING_COLUMNS = [name for name, _type in FINDING_TYPES]


@dataclass(frozen=True)
class Thresholds:
    duplicate_bits: int = 8
    dhash_bits: int = 10
    gps_far_m: float = 1000.0
    early_days: int = 30
    late_days: int = 365

    @classmethod
    def from_settings(cls, knobs) -> Thresholds:
        return cls(knobs.evidence_duplicate_bits, knobs.evidence_dhash_bits, knobs.evidence_gps_far_m,
                   knobs.evidence_early_days, knobs.evidence_late_days)  # fmt: skip


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _installation(row: dict[str, Any]) -> tuple[str, str]:
    return row["station_id"], row["record_id"]


def _base(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    finding = {column: None for column in FINDING_COLUMNS}
    shown = ("station_id", "region_code", "record_id", "item_id", "media_kind", "thumb_key")
    finding.update({c: row.get(c) for c in shown})
    finding["kind"] = kind
    return finding


def _confirmed(a: dict[str, Any], b: dict[str, Any], dhash_bits: int | None) -> bool:
    """A pHash match confirmed by the dHash (the gradients): unrelated look-alikes (two nameplates) share a
    pHash up to 8 bits but not their dHash; resized, recompressed, cropped or turned copies share both."""
    if dhash_bits is None or not a.get("dhash") or not b.get("dhash"):
        return True
    return (int(a["dhash"], 16) ^ int(b["dhash"], 16)).bit_count() <= dhash_bits


def reuse_clusters(
    rows: list[dict[str, Any]], duplicate_bits: int, dhash_bits: int | None = None, pairs: list | None = None
) -> list[dict]:
    """A finding per photo of every cluster of near-identical photos that spans two or more installations.

    `pairs`: the rows' pHash pairs within duplicate_bits (row numbers and bits), when known (pairs.py)."""
    if pairs is None:
        pairs = all_pairs(rows, duplicate_bits)
    parent = list(range(len(rows)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    closest: dict[int, int] = {}
    for a, b, bits in pairs:
        if bits > duplicate_bits or not _confirmed(rows[a], rows[b], dhash_bits):
            continue
        parent[root(a)] = root(b)
        closest[a] = min(closest.get(a, 64), bits)
        closest[b] = min(closest.get(b, 64), bits)
    members: dict[int, list[int]] = defaultdict(list)
    for n in closest:
        members[root(n)].append(n)
    groups = [sorted(group) for group in members.values() if len({_installation(rows[n]) for n in group}) > 1]
    # Numbered in a stable order (by their first photo's station, record and item), so pages and runs agree.
    groups.sort(key=lambda group: min((rows[n]["station_id"], rows[n]["record_id"], rows[n]["item_id"]) for n in group))
    findings = []
    for number, group in enumerate(groups, start=1):
        installations = len({_installation(rows[n]) for n in group})
        for n in group:
            findings.append(_base(REUSE, rows[n]) | {"cluster": number, "hash_bits": closest[n],
                                                     "installations": installations})  # fmt: skip
    return findings


def photo_findings(row: dict[str, Any], limits: Thresholds) -> list[dict[str, Any]]:
    """The findings of one photo on its own: GPS against the installation, capture time, camera data."""
    if row.get("facts_outcome") == "failed":
        return []
    findings = []
    lat, lon = _number(row.get("gps_lat")), _number(row.get("gps_lon"))
    home_lat, home_lon = _number(row.get("installation_lat")), _number(row.get("installation_lon"))
    if None not in (lat, lon, home_lat, home_lon):
        distance = distance_m(home_lat, home_lon, lat, lon)
        if distance > limits.gps_far_m:
            findings.append(_base(GPS_FAR, row) | {"distance_m": round(distance)})
    taken = _date(row.get("taken_at"))
    anchor = _date(row.get("install_date")) or _date(row.get("pickup_time"))
    if taken and anchor:
        gap = (anchor - taken).days
        if gap > limits.early_days:
            findings.append(_base(EARLY, row) | {"days_gap": gap})
        elif -gap > limits.late_days:
            findings.append(_base(LATE, row) | {"days_gap": -gap})
    if row.get("has_camera_data") is False or row.get("has_camera_data") == 0:
        findings.append(_base(NO_CAMERA_DATA, row))
    return findings


def all_findings(rows: Iterable[dict[str, Any]], limits: Thresholds, pairs: list | None = None) -> list[dict[str, Any]]:
    rows = list(rows)
    findings = reuse_clusters(rows, limits.duplicate_bits, limits.dhash_bits, pairs)
    for row in rows:
        findings.extend(photo_findings(row, limits))
    return findings


def counts_by_kind(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for finding in findings:
        counts[finding["kind"]] += 1
    return counts
