"""photo_evidence: the group's suspicious photos, from every station's evidence piece, and its checks.

Like gallery_index (pv_assets/gallery/assets.py): it depends on the per-station pieces without loading them
as inputs, re-reads only the pieces whose etag changed since the last merge, and keeps the other stations'
rows from the merged facts file. The findings are drawn again over every photo (the multi-index of every hash
is built in memory; bench/evidence.py measures it) and written where the gallery reads them.
"""

import io
import time
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pv_assets.collection.checks import result_from, specs_from
from pv_assets.evidence.findings import (
    EARLY,
    GPS_FAR,
    LATE,
    NO_CAMERA_DATA,
    REUSE,
    Thresholds,
    all_findings,
    counts_by_kind,
)
from pv_assets.evidence.pairs import PAIR_COLUMNS, all_pairs, pair_rows, updated_pairs
from pv_assets.gallery.previews.gallery_store import PARQUET, merge_pieces
from pv_model.evidence_contract import (
    EVIDENCE_FACTS_KEY,
    EVIDENCE_PIECES_PREFIX,
    FACT_COLUMNS,
    FINDING_COLUMNS,
    FINDINGS_KEY,
    PAIRS_KEY,
    arrow_schema,
)
from pv_model.identity import mask_id_like
from resources.dagster_resources import ObjectStoreResource
from resources.object_store import ObjectStore
from resources.settings import env_name, settings

EXAMPLES = 10  # examples per check in its metadata
CHECKS = {
    "photo_evidence": {
        "no_photo_reused_across_households": "No picture (pHash within PV_EVIDENCE_DUPLICATE_BITS) is offered for two "
        "or more installations; WARN lists the clusters with masked record ids.",
        "gps_within_threshold": "Every photo with GPS was taken within PV_EVIDENCE_GPS_FAR_M of its installation; "
        "WARN lists the farthest with their distance (never a coordinate).",
        "capture_time_within_window": "Every photo with a capture time was taken from PV_EVIDENCE_EARLY_DAYS before to "
        "PV_EVIDENCE_LATE_DAYS after its install date (or pickup date); WARN lists the largest gaps.",
    }
}
FINDINGS_SCHEMA = arrow_schema(FINDING_COLUMNS)


def _who(finding: dict[str, Any]) -> str:
    return mask_id_like(f"{finding['station_id']}/{finding['record_id']}")


def _check(name: str, findings: list[dict[str, Any]], shown: list[str], counted: dict) -> AssetCheckResult:
    return result_from(
        CHECKS,
        "photo_evidence",
        name,
        not findings,
        {**counted, "examples": MetadataValue.json(shown[:EXAMPLES])},
        severity=AssetCheckSeverity.WARN,
    )


def evidence_checks(findings: list[dict[str, Any]], limits: Thresholds) -> list[AssetCheckResult]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_kind.setdefault(finding["kind"], []).append(finding)
    reuse = by_kind.get(REUSE, [])
    clusters: dict[int, list[str]] = {}
    for finding in reuse:
        clusters.setdefault(finding["cluster"], []).append(_who(finding))
    far = sorted(by_kind.get(GPS_FAR, []), key=lambda f: -f["distance_m"])
    window = sorted(by_kind.get(EARLY, []) + by_kind.get(LATE, []), key=lambda f: -f["days_gap"])
    return [
        _check(
            "no_photo_reused_across_households",
            reuse,
            [f"cluster {n}: " + ", ".join(sorted(members)) for n, members in sorted(clusters.items())],
            {
                "clusters": len(clusters),
                "photos": len(reuse),
                env_name("evidence_duplicate_bits"): limits.duplicate_bits,
            },
        ),
        _check(
            "gps_within_threshold",
            far,
            [f"{_who(f)} item {f['item_id']}: {f['distance_m']} m" for f in far],
            {"photos": len(far), env_name("evidence_gps_far_m"): limits.gps_far_m},
        ),
        _check(
            "capture_time_within_window",
            window,
            [f"{_who(f)} item {f['item_id']}: {f['days_gap']} days {f['kind'].split('_')[1]}" for f in window],
            {
                "photos": len(window),
                "early": len(by_kind.get(EARLY, [])),
                "late": len(by_kind.get(LATE, [])),
                env_name("evidence_early_days"): limits.early_days,
                env_name("evidence_late_days"): limits.late_days,
            },
        ),
    ]


RADIUS_META = b"pv_media.duplicate_bits"


def near_duplicate_pairs(store: ObjectStore, rows: list[dict], merged, radius: int) -> tuple[list, bool]:
    """The rows' pHash pairs, and whether they were updated (only the changed stations searched) rather than
    searched for over every photo: the last run's pairs serve when they were searched with the same radius."""
    previous = None
    if not merged.from_scratch:
        try:
            table = pq.read_table(io.BytesIO(store.get_bytes(PAIRS_KEY)))
            if (table.schema.metadata or {}).get(RADIUS_META) == str(radius).encode():
                previous = table.to_pylist()
        except KeyError:
            pass
    if previous is None:
        pairs = all_pairs(rows, radius)
    else:
        pairs = updated_pairs(rows, previous, set(merged.changed) | set(merged.dropped), radius)
    schema = arrow_schema(PAIR_COLUMNS).with_metadata({RADIUS_META: str(radius).encode()})
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(pair_rows(rows, pairs), schema=schema), buffer, compression="zstd")
    store.put_bytes(PAIRS_KEY, buffer.getvalue(), PARQUET)
    return pairs, previous is not None


def write_findings(store: ObjectStore, findings: list[dict[str, Any]]) -> int:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(findings, schema=FINDINGS_SCHEMA), buffer, compression="zstd")
    store.put_bytes(FINDINGS_KEY, buffer.getvalue(), PARQUET)
    return buffer.tell()


@asset(
    deps=[AssetKey("evidence_piece")],
    group_name="evidence",
    code_version="1",
    owners=["team:pv-media"],
    kinds={"minio", "parquet"},
    check_specs=specs_from(CHECKS, "photo_evidence"),
    description=(
        "Suspicious photos across the group: clusters of near-identical photos of different installations, photos "
        "whose GPS is far from their installation, photos taken outside the install window, photos without any "
        f"camera data. Facts merged into {EVIDENCE_FACTS_KEY} (re-reading only changed station pieces), findings "
        f"in {FINDINGS_KEY} (distances and day gaps, no coordinates). Thresholds: PV_EVIDENCE_* settings."
    ),
)
def photo_evidence(context: AssetExecutionContext, object_store: ObjectStoreResource) -> MaterializeResult:
    store = object_store.open()
    started = time.monotonic()
    order = ["station_id", "record_id", "item_id"]
    merged = merge_pieces(store, EVIDENCE_PIECES_PREFIX, EVIDENCE_FACTS_KEY, arrow_schema(FACT_COLUMNS), order)
    merge_s = time.monotonic() - started
    limits = Thresholds.from_settings(settings())
    rows = merged.table.to_pylist()
    started_pairs = time.monotonic()
    pairs, incremental = near_duplicate_pairs(store, rows, merged, limits.duplicate_bits)
    pairs_s = time.monotonic() - started_pairs
    findings = all_findings(rows, limits, pairs)
    size = write_findings(store, findings)
    context.log.info(f"photo evidence: {len(merged.changed)} of {len(merged.listed)} station pieces read")
    counts = counts_by_kind(findings)
    return MaterializeResult(
        metadata={
            "photos": merged.table.num_rows,
            "stations": len(merged.listed),
            "pieces_read": len(merged.changed),
            "rebuilt_from_scratch": merged.from_scratch,
            "findings_key": FINDINGS_KEY,
            "findings_bytes": size,
            "reuse_clusters": len({f["cluster"] for f in findings if f["kind"] == REUSE}),
            **{f"findings_{kind}": n for kind, n in counts.items()},
            "regions": MetadataValue.json(dict(Counter(f["region_code"] for f in findings))),
            "merge_s": round(merge_s, 3),
            "pairs": len(pairs),
            "pairs_searched_for": "changed stations" if incremental else "every photo",
            "pairs_s": round(pairs_s, 3),
            "duration_s": round(time.monotonic() - started, 3),
        },
        check_results=evidence_checks(findings, limits),
    )


__all__ = ["NO_CAMERA_DATA", "evidence_checks", "photo_evidence"]
