"""Media links whose credential the audit does not keep: read again from the station when they are needed.

The stored manifest has `?token=[redacted:<tag>]` where the station sent a token (pv_assets/io_manager.py). A
run's own steps hand the whole links on in memory; a step that starts from the stored manifest (a re-execution
of uploaded_media alone, steps in other processes) gets them back here, as a step that needs the token and has
none logs in again: the station's records are fetched anew and each row finds its link by its URL hash.
"""

from __future__ import annotations

from typing import Any

from pv_assets.collection.manifest_rows import manifest_rows, plain_rows
from pv_assets.collection.records_fetch import fetch_records
from pv_model.dialect import load_interface
from pv_model.scrub import is_redacted_link

GONE = "the station no longer lists this link (its credential is not kept in the audit, so it cannot be fetched)"


def needs_links(rows: list[dict[str, Any]]) -> bool:
    return any(is_redacted_link(row.get("source_url")) for row in rows)


def restore_links(rows: list[dict[str, Any]], station: Any, client: Any) -> list[dict[str, Any]]:
    """`rows` with each redacted link replaced by the whole link the station lists now; a row whose link the
    station no longer lists gets a problem instead. Raises what fetch_records raises."""
    fresh = fetch_records(station, client)
    interface = load_interface(station.dialect)
    current = manifest_rows(
        plain_rows(fresh.frame),
        base_url=station.base_url,
        accepted_statuses=station.accepted_pickup_status,
        separators=interface.url_separators,
        signature_params=station.signature_params,
    )
    by_hash = {row["url_hash"]: row["source_url"] for row in current if row.get("url_hash")}
    restored = []
    for row in rows:
        if is_redacted_link(row.get("source_url")):
            whole = by_hash.get(row.get("url_hash"))
            row = {**row, "source_url": whole} if whole else {**row, "source_url": None, "problem": GONE}
        restored.append(row)
    return restored
