"""Asset checks of the previews and the gallery index (same shape as pv_assets/collection/checks.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from pv_assets.collection.checks import result_from, specs_from
from pv_assets.gallery.previews.plan import PREVIEW_KEY_COLUMNS, STORED_OUTCOMES
from pv_model.keys import mask_key

CHECK_DESCRIPTIONS = {
    "media_previews": {
        "every_object_has_previews": "Every stored photo has its thumbnail and medium rendition, every stored video "
        "its poster frame, in the store now (WARN names the items without; an undecodable original is listed "
        "with its reason).",
    },
    "gallery_piece": {
        "piece_matches_stored_objects": "The station's gallery rows with status stored name exactly the station's "
        "stored objects of this run (counts and keys).",
    },
    "gallery_index": {
        "index_matches_pieces": "The whole index has, for every station piece read in this update, as many rows as "
        "the piece, and no station whose piece is gone.",
    },
}


def check_specs(asset_name: str) -> list[AssetCheckSpec]:
    return specs_from(CHECK_DESCRIPTIONS, asset_name)


def _result(asset: str, name: str, passed: bool, metadata: Mapping, severity=AssetCheckSeverity.ERROR):
    return result_from(CHECK_DESCRIPTIONS, asset, name, passed, metadata, severity)


def missing_previews(rows: Iterable[dict[str, Any]], listed_keys: set[str]) -> list[dict[str, Any]]:
    """The preview rows whose preview objects are not all in the store."""
    missing = []
    for row in rows:
        keys = [row.get(c) for c in PREVIEW_KEY_COLUMNS if row.get(c)]
        if not keys or any(key not in listed_keys for key in keys):
            missing.append(row)
    return missing


def check_every_object_has_previews(rows: list[dict[str, Any]], listed_keys: set[str]) -> AssetCheckResult:
    missing = missing_previews(rows, listed_keys)
    shown = [
        f"{row['item_id']} ({row['media_kind'] or '?'}, {mask_key(row['object_key'])}): "
        f"{row.get('preview_problem') or 'preview missing'}"
        for row in missing[:20]
    ]
    return _result(
        "media_previews",
        "every_object_has_previews",
        not missing,
        {"objects": len(rows), "without_previews": len(missing), "items": MetadataValue.json(shown)},
        severity=AssetCheckSeverity.WARN,
    )


def check_piece_matches_stored_objects(
    piece_rows: list[dict[str, Any]], outcomes: list[dict[str, Any]]
) -> AssetCheckResult:
    in_piece = Counter(r["object_key"] for r in piece_rows if r["status"] == "stored")
    stored = Counter(o["object_key"] for o in outcomes if o.get("outcome") in STORED_OUTCOMES and o.get("object_key"))
    differ = sorted(set(in_piece) ^ set(stored)) + sorted(k for k in in_piece if in_piece[k] > 1)
    return _result(
        "gallery_piece",
        "piece_matches_stored_objects",
        not differ,
        {
            "stored_objects": len(stored),
            "stored_rows": sum(in_piece.values()),
            "differences": MetadataValue.json([mask_key(k) for k in differ[:20]]),
        },
    )


def check_index_matches_pieces(
    index_counts: dict[str, int], piece_counts: dict[str, int], listed_stations: Iterable[str]
) -> AssetCheckResult:
    differ = {
        station: {"index": index_counts.get(station, 0), "piece": count}
        for station, count in sorted(piece_counts.items())
        if index_counts.get(station, 0) != count
    }
    orphans = sorted(set(index_counts) - set(listed_stations))
    return _result(
        "gallery_index",
        "index_matches_pieces",
        not differ and not orphans,
        {
            "pieces_checked": len(piece_counts),
            "differences": MetadataValue.json(dict(list(differ.items())[:20])),
            "stations_without_piece": MetadataValue.json(orphans[:20]),
        },
    )
