"""The daily pass's look before a run: could this station's refresh change anything? (PV_DAILY_SKIP_UNCHANGED)

A refresh of a station with nothing new is a Dagster run of ~90 events saying "the same as
yesterday" (docs/daily-pass.md). Before a batch creates a station's run it fetches the station's
records the way the records asset does, and leaves the run out only when all of these hold:
- the fingerprint of what the run's outputs depend on - the record table, the station's registry
  entry, its dialect file, pv-media's code and settings - equals the one the station's last
  `infrastructure_records` materialization recorded;
- that run succeeded, materialized every asset of the station, and every check a re-run could fix
  passed (no failed item, every preview there, the gallery piece matching); the checks about the
  station's own data (a duplicate record id, an unknown pickup status, an invalid ID number...)
  do not count, a re-run cannot fix them;
- every object that run stored or found stored (media and previews), and the station's gallery
  piece, is still in the store (media at their size).
Anything else, or any error while looking, and the station's run goes ahead as always.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from pv_assets.collection.checks import CHECK_DESCRIPTIONS
from pv_assets.collection.collector import INVALID_INPUT, stored_listing
from pv_assets.collection.fingerprint import refresh_fingerprint
from pv_assets.collection.last_collection import LastCollection, last_collection
from pv_assets.collection.records_fetch import fetch_records
from pv_assets.gallery.previews.gallery_store import piece_key
from pv_assets.gallery.previews.plan import PERMANENT_PREVIEW_PROBLEMS, PREVIEW_KEY_COLUMNS, STORED_OUTCOMES
from pv_assets.io_manager import audit_key, parquet_to_frame
from pv_assets.lineage import STATION_ASSETS
from pv_assets.operations.jobs import COLLECT_JOB_NAME
from pv_model.scrub import scrub
from resources.object_store import ObjectStore

LOOK_FAILED = "looking before the run failed"
# The checks of the records and of the manifest are about what the station sent: a re-run fetches the same
# records and fails them again.
CHECKS_ABOUT_THE_DATA = frozenset(
    [*CHECK_DESCRIPTIONS["infrastructure_records"], *CHECK_DESCRIPTIONS["media_manifest"]]
)
# Checks about single items: failed only by items a re-run meets again as they are, they do not count.
ITEM_CHECKS = frozenset({"no_failed_items", "every_object_has_previews"})


def latest_run_failed(instance: Any, station_id: str, collected_by: str) -> str | None:
    """Why a run of the station after `collected_by` left it failed (a timeout before its records, say), or None:
    that failure stands as the partition's state until a run succeeds."""
    from dagster import DagsterRunStatus, RunsFilter

    [latest] = instance.get_run_records(
        RunsFilter(job_name=COLLECT_JOB_NAME, tags={"dagster/partition": station_id}), limit=1
    ) or [None]
    if latest is None or latest.dagster_run.run_id == collected_by:
        return None
    if latest.dagster_run.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        return f"its latest run {latest.dagster_run.run_id} ended {latest.dagster_run.status.value}"
    return None


def run_results(instance: Any, run_id: str) -> tuple[str | None, set[str]]:
    """(why the run is no base to stand on, or None; the checks it failed that are not about the station's data)."""
    from dagster import DagsterEventType, DagsterRunStatus

    station_assets = {key.to_user_string() for spec in STATION_ASSETS for key in spec.keys}
    run = instance.get_run_by_id(run_id)
    if run is None or run.status != DagsterRunStatus.SUCCESS:
        return f"its last run {run_id} did not succeed", set()
    events = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION}
    ).records
    materialized, failed = set(), set()
    for record in events:
        event = record.event_log_entry.dagster_event
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add(event.asset_key.to_user_string())
        else:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed and evaluation.check_name not in CHECKS_ABOUT_THE_DATA:
                failed.add(evaluation.check_name)
    if not station_assets <= materialized:
        missing = ", ".join(sorted(station_assets - materialized))
        return f"its last run {run_id} did not materialize {missing}", set()
    return None, failed


def retryable_items(outcomes: pd.DataFrame, previews: pd.DataFrame) -> int:
    """Failed media items and failed previews a re-run would try again: not those refused for what the station
    sent (a bad URL: invalid_input), nor previews of files that cannot have one (undecodable, an unknown type)."""
    failed = outcomes.loc[outcomes["outcome"] == "failed", "reason"].fillna("")
    media = int((~failed.astype(str).str.startswith(f"{INVALID_INPUT}:")).sum())
    if "preview_outcome" not in previews:
        return media
    problems = previews.loc[previews["preview_outcome"] == "failed", "preview_problem"].fillna("")
    return media + int((~problems.astype(str).str.startswith(PERMANENT_PREVIEW_PROBLEMS)).sum())


def missing_objects(store: ObjectStore, station_id: str, outcomes: pd.DataFrame, previews: pd.DataFrame) -> list[str]:
    """What the run stored or found stored (media, previews, the gallery piece) that the store lacks now."""
    stored = outcomes[outcomes["outcome"].isin(STORED_OUTCOMES)]
    media = dict(zip(stored["object_key"], stored["size"], strict=True))
    preview_keys = {k for column in PREVIEW_KEY_COLUMNS if column in previews for k in previews[column].dropna()}
    # One listing for the station's media folder, one for its previews folder (not one per item's folder).
    preview_folders = {"/".join(key.split("/")[:4]) + "/" for key in preview_keys}
    listed = {obj.key: obj.size for obj in stored_listing(store, media)}
    listed |= {obj.key: obj.size for folder in sorted(preview_folders) for obj in store.list_prefix(folder)}
    gone = [key for key, size in media.items() if listed.get(key) != int(size)]
    gone += [key for key in preview_keys if key not in listed]
    if store.stat(piece_key(station_id)) is None:
        gone.append(piece_key(station_id))
    return gone


def _run_output(store: ObjectStore, asset: str, station_id: str, run_id: str) -> pd.DataFrame:
    return parquet_to_frame(store.get_bytes(audit_key(asset, station_id, f"/runs/{run_id}.parquet")))


def why_run(
    instance: Any, store: ObjectStore, station_id: str, fingerprint: str, last: LastCollection | None
) -> str | None:
    """None when the station's run could change nothing; else why it runs."""
    if last is None or last.fingerprint is None:
        return "no earlier collection recorded a fingerprint"
    if last.fingerprint != fingerprint:
        return "its records, registry entry, dialect, settings or pv-media's code changed"
    failed_since = latest_run_failed(instance, station_id, last.run_id)
    if failed_since:
        return failed_since
    no_base, failed_checks = run_results(instance, last.run_id)
    if no_base:
        return no_base
    outcomes = _run_output(store, "uploaded_media", station_id, last.run_id)
    previews = _run_output(store, "media_previews", station_id, last.run_id)
    if failed_checks - ITEM_CHECKS or (failed_checks and retryable_items(outcomes, previews)):
        return f"its last run {last.run_id} failed the checks {', '.join(sorted(failed_checks))}"
    gone = missing_objects(store, station_id, outcomes, previews)
    if gone:
        return f"{len(gone)} objects its last run stored are no longer in the store"
    return None


@dataclasses.dataclass(frozen=True)
class Unchanged:
    """A station whose run could change nothing: the outputs of `run_id` still stand."""

    run_id: str
    fingerprint: str
    records: int


def look_before_run(instance: Any, station_api: Any, store: ObjectStore, station_id: str) -> Unchanged | str:
    """Unchanged, or why the station's run goes ahead (an error while looking too: the run will say more)."""
    try:
        station = station_api.station(station_id)
        client = station_api.fresh_client(station_id, station=station)
        try:
            fetched = fetch_records(station, client)
        finally:
            client.close()
        fingerprint = refresh_fingerprint(fetched.frame, station)
        last = last_collection(instance, station_id)
        why = why_run(instance, store, station_id, fingerprint, last)
    except Exception as exc:  # noqa: BLE001 - whatever it is, the station's own run meets it and says so
        return f"{LOOK_FAILED} ({type(exc).__name__}: {scrub(str(exc))[:300]})"
    if why or last is None:
        return why or "no earlier collection"
    return Unchanged(last.run_id, fingerprint, len(fetched.frame))
