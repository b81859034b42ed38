"""Asset checks, run with every materialization of a station partition.

Each check is a function of the asset's DataFrame (and, for the stored objects, a listing
of the store) returning an AssetCheckResult; the assets declare them as check specs and
yield the results right after their output, so every run checks what it just produced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from pv_model.identity import id_area_known, id_checksum_ok, mask_id, mask_id_like
from resources.object_store import StoredObject

CHECK_DESCRIPTIONS = {
    "infrastructure_records": {
        "unique_record_ids": "Every recordId appears once: paging de-duplicated what the station sent twice.",
        "known_pickup_statuses": "Every pickup status value is one the dialect knows; an unknown value (a WARN "
        "that names it) means the vendor changed something and those records are not collected.",
        "records_not_vanished": "The station did not go from records to none: zero records where the last run had "
        "some is most often a dialect's records.items path that no longer points at the list.",
    },
    "media_manifest": {
        "unique_object_keys": "No two manifest rows would be stored under the same object key.",
        "absolute_http_urls": "Every collectable row has an absolute http(s) source URL.",
        "valid_id_card_numbers": "ID card numbers pass the GB 11643 checksum (python-stdnum cn.ric); invalid ones "
        "are counted as a warning - their media are still stored, under the number as given.",
        "no_identity_collisions": "No two different source URLs met on one object key once signature parameters "
        "were dropped (a collision is a failed row, never a silent merge).",
    },
    "uploaded_media": {
        "no_failed_items": "No media item failed in this run (WARN): the failures by reason are in the metadata, and "
        "the next run retries them.",
        "stored_objects_match": "Every uploaded or skipped row's object is in the store with the row's size.",
    },
}


def specs_from(descriptions: Mapping[str, Mapping[str, str]], asset_name: str) -> list[AssetCheckSpec]:
    """The check specs of an asset, from a table of check descriptions (this module's, or the previews')."""
    return [
        AssetCheckSpec(name=name, asset=asset_name, description=description)
        for name, description in descriptions[asset_name].items()
    ]


def result_from(
    descriptions: Mapping[str, Mapping[str, str]],
    asset: str,
    name: str,
    passed: bool,
    metadata: Mapping,
    severity=AssetCheckSeverity.ERROR,
) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=bool(passed),
        severity=severity,
        metadata=dict(metadata),
        description=descriptions[asset][name],
    )


def check_specs(asset_name: str) -> list[AssetCheckSpec]:
    return specs_from(CHECK_DESCRIPTIONS, asset_name)


def _result(asset: str, name: str, passed: bool, metadata: Mapping, severity=AssetCheckSeverity.ERROR):
    return result_from(CHECK_DESCRIPTIONS, asset, name, passed, metadata, severity)


def check_unique_record_ids(records: pd.DataFrame) -> AssetCheckResult:
    duplicates = records["record_id"][records["record_id"].duplicated()].unique().tolist() if len(records) else []
    return _result(
        "infrastructure_records",
        "unique_record_ids",
        not duplicates,
        {
            "records": len(records),
            "duplicate_record_ids": len(duplicates),
            # Record ids are the station's to choose: some use the owner's ID number.
            "examples": mask_id_like(", ".join(str(d) for d in duplicates[:5])),
        },
    )


def check_records_not_vanished(count: int, previous: int | None, items_path: str) -> AssetCheckResult:
    """Fails when a station that had records has none: the fix is named in the description."""
    vanished = count == 0 and bool(previous)
    metadata = {"records": count, "records_last_run": -1 if previous is None else previous, "items_path": items_path}
    if not vanished:
        return _result("infrastructure_records", "records_not_vanished", True, metadata)
    return AssetCheckResult(
        asset_key="infrastructure_records",
        check_name="records_not_vanished",
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=f"0 records where the last run had {previous}: check the dialect's records.items "
        f"({items_path!r}) against what the station answers (pv-media dialect check --station <id>)",
    )


def check_known_pickup_statuses(records: pd.DataFrame) -> AssetCheckResult:
    # A station may send anything in this field, an ID number too: masked, as everywhere a person looks.
    unknown = Counter(
        mask_id_like(str(raw))
        for raw, status in zip(records.get("pickup_status_raw", []), records.get("pickup_status", []), strict=False)
        if status == "unknown"
    )
    return _result(
        "infrastructure_records",
        "known_pickup_statuses",
        not unknown,
        {
            "unknown_values": MetadataValue.json(dict(unknown)),
            "statuses": MetadataValue.json(
                {str(k): int(v) for k, v in Counter(records.get("pickup_status", [])).items()}
            ),
        },
        severity=AssetCheckSeverity.WARN,
    )


def check_unique_object_keys(manifest: pd.DataFrame) -> AssetCheckResult:
    stems = manifest["key_stem"].dropna()
    duplicates = int(stems.duplicated().sum())
    return _result(
        "media_manifest", "unique_object_keys", duplicates == 0, {"keys": len(stems), "duplicate_keys": duplicates}
    )


def check_no_identity_collisions(manifest: pd.DataFrame) -> AssetCheckResult:
    problems = manifest["problem"].dropna() if len(manifest) else pd.Series(dtype=object)
    collisions = int(problems.astype(str).str.startswith("identity collision").sum())
    return _result("media_manifest", "no_identity_collisions", collisions == 0, {"collisions": collisions})


def _absolute_http(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_absolute_http_urls(manifest: pd.DataFrame) -> AssetCheckResult:
    collectable = manifest[manifest["problem"].isna()] if len(manifest) else manifest
    bad = int(sum(not _absolute_http(u) for u in collectable.get("source_url", [])))
    refused = int(manifest["problem"].notna().sum()) if len(manifest) else 0
    return _result(
        "media_manifest",
        "absolute_http_urls",
        bad == 0,
        {"collectable_rows": len(collectable), "not_absolute_http": bad, "refused_rows": refused},
    )


def check_valid_id_card_numbers(manifest: pd.DataFrame) -> AssetCheckResult:
    # The manifest already says, per row, whether the number's checksum holds.
    numbers = {n for n in manifest.get("id_card_no", []) if isinstance(n, str)}
    invalid = sorted(
        {
            n
            for n, ok in zip(manifest["id_card_no"], manifest["id_checksum_ok"], strict=True)
            if isinstance(n, str) and not ok
        }
    )
    missing = int(manifest["id_card_no"].isna().sum()) if len(manifest) else 0
    return _result(
        "media_manifest",
        "valid_id_card_numbers",
        not invalid and not missing,
        {
            "id_numbers": len(numbers),
            "invalid_checksum": len(invalid),
            "not_an_id_number": missing,
            # Information only: a valid number keeps the area code of its first registration.
            "area_code_unknown_to_stdnum": sum(not id_area_known(n) for n in numbers if id_checksum_ok(n)),
            "examples_masked": ", ".join(mask_id(n) for n in invalid[:5]),
        },
        severity=AssetCheckSeverity.WARN,
    )


def failures_by_reason(outcomes: pd.DataFrame) -> dict[str, int]:
    failed = outcomes.loc[outcomes["outcome"] == "failed", "reason"].fillna("unknown")
    return {str(k): int(v) for k, v in Counter(r.split(":", 1)[0] for r in failed).items()}


def check_no_failed_items(outcomes: pd.DataFrame) -> AssetCheckResult:
    by_reason = failures_by_reason(outcomes)
    return _result(
        "uploaded_media",
        "no_failed_items",
        not by_reason,
        {"failed": sum(by_reason.values()), "failures_by_reason": MetadataValue.json(by_reason)},
        severity=AssetCheckSeverity.WARN,
    )


def check_stored_objects_match(outcomes: pd.DataFrame, listing: Iterable[StoredObject]) -> AssetCheckResult:
    sizes = {obj.key: obj.size for obj in listing}
    rows = outcomes[outcomes["outcome"].isin(["uploaded", "skipped"])]
    missing = [k for k in rows["object_key"] if k not in sizes]
    wrong = [k for k, s in zip(rows["object_key"], rows["size"], strict=False) if k in sizes and int(s) != sizes[k]]
    return _result(
        "uploaded_media",
        "stored_objects_match",
        not missing and not wrong,
        {"checked": len(rows), "missing": len(missing), "size_mismatch": len(wrong)},
    )
