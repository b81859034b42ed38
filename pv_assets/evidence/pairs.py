"""The group's near-duplicate pairs, kept between runs and updated for the stations that changed - pure.

A pair is two photos (station, item) whose pHashes are at most `radius` bits apart. A run keeps every pair
of the last run between stations that did not change, indexes every photo's hash (building the index is
cheap: one pass), and queries only the changed stations' photos against it - one station's update costs
its own photos' searches, not the whole group's self-join. The dHash confirmation is applied afterwards
(findings.reuse_clusters), so changing PV_EVIDENCE_DHASH_BITS needs no new search; a different radius does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pv_assets.evidence.hamming import MultiIndex, near_pairs

PAIR_COLUMNS = [("station_a", "string"), ("item_a", "string"), ("station_b", "string"), ("item_b", "string"),
                ("bits", "int64")]  # fmt: skip


def _identity(row: dict[str, Any]) -> tuple[str, str]:
    return row["station_id"], row["item_id"]


def all_pairs(rows: list[dict[str, Any]], radius: int) -> list[tuple[int, int, int]]:
    """Every pair among the rows (by row number): the whole group's self-join."""
    return near_pairs([(n, int(row["phash"], 16)) for n, row in enumerate(rows) if row.get("phash")], radius)


def updated_pairs(
    rows: list[dict[str, Any]], previous: Iterable[dict[str, Any]], changed: set[str], radius: int
) -> list[tuple[int, int, int]]:
    """The pairs among the rows: the previous ones between unchanged stations, searched again for the changed."""
    number = {_identity(row): n for n, row in enumerate(rows)}
    pairs = []
    for pair in previous:
        if pair["station_a"] in changed or pair["station_b"] in changed:
            continue
        a, b = number.get((pair["station_a"], pair["item_a"])), number.get((pair["station_b"], pair["item_b"]))
        if a is not None and b is not None:
            pairs.append((a, b, pair["bits"]))
    index = MultiIndex(radius)
    for n, row in enumerate(rows):
        if row.get("phash"):
            index.add(int(row["phash"], 16), n)
    for n, row in enumerate(rows):
        if row["station_id"] not in changed or not row.get("phash"):
            continue
        for other, bits in index.within(int(row["phash"], 16)):
            # A pair between two changed photos is met from both ends: kept from the lower row number only.
            if other != n and (rows[other]["station_id"] not in changed or other > n):
                pairs.append((n, other, bits))
    return pairs


def pair_rows(rows: list[dict[str, Any]], pairs: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """The pairs as stored: by station and item, not by row number (row numbers move between runs)."""
    return [{"station_a": rows[a]["station_id"], "item_a": rows[a]["item_id"], "station_b": rows[b]["station_id"],
             "item_b": rows[b]["item_id"], "bits": bits} for a, b, bits in pairs]  # fmt: skip
