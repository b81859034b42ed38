"""`pv-media collect`: each selected station materialized as a Dagster run, then the gallery index merged."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich import filesize
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from pv_assets.cli.console import err, out, prepare_dagster_home
from pv_assets.operations.station_lock import setup_lock
from pv_assets.operations.station_run import SUMMARY_COLUMNS, StationRunOutcome, collect_station
from pv_assets.operations.tags import TRIGGER_TAG
from pv_model.registry import RegistryError
from resources.registry import load_registry

CLI_TAGS = {TRIGGER_TAG: "cli"}


@contextlib.contextmanager
def progress_bars(enabled: bool) -> Iterator[Any]:
    """Yields the callback that draws the bars (None when there are no bars)."""
    if not enabled:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("items, {task.fields[stored]} stored"),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def listener(update: Any) -> None:
        if update.station_id not in tasks:
            tasks[update.station_id] = bars.add_task(update.station_id, total=update.total, stored="0 B")
        bars.update(
            tasks[update.station_id], completed=update.done, total=update.total, stored=filesize.decimal(update.bytes)
        )

    with bars:
        yield listener


def collect(
    station_ids: Sequence[str],
    *,
    all_stations: bool,
    stations_file: str | None,
    verbose: bool = False,
    show_progress: bool = True,
    parallel: int = 1,
    summary_json: str | None = None,
    gallery_index: bool = True,
    force: bool = False,
) -> tuple[int, list[StationRunOutcome]]:
    """Materialize each selected station's assets as Dagster runs, then merge the gallery index (unless
    `gallery_index` is off: the parallel children leave that to their parent); exit code and summaries.
    On the embedded instance a station whose run could change nothing gets no run (the daily pass's look)
    unless `force`."""
    try:
        registry = load_registry(stations_file)
    except RegistryError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2, []
    ids = registry.ids()
    selected = ids if all_stations else list(dict.fromkeys(station_ids))
    known_ids = set(ids)  # one set, not a list scan per station: --all over 10,000 stations
    unknown = [s for s in selected if s not in known_ids]
    if unknown:
        err.print(f"[red]error:[/red] {registry.path}: no station {', '.join(unknown)} in the registry")
        return 2, []
    if not selected:
        err.print("[red]error:[/red] name stations with --station ID, or collect them all with --all")
        return 2, []

    home = prepare_dagster_home()
    from dagster import DagsterInstance

    from pv_assets.partitions import STATION_PARTITIONS_NAME
    from resources.dagster_resources import describe_store

    with setup_lock(home):  # a fresh instance creates its tables here: one process at a time
        instance = DagsterInstance.get()
        known = set(instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
        missing = [s for s in ids if s not in known]
        if missing:
            instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, missing)
    from pv_assets.operations.deployment import DeploymentError, is_production

    try:
        production = is_production(instance)
    except DeploymentError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2, []
    if production:
        summaries = collect_through_queue(instance, selected)
    elif parallel > 1 and len(selected) > 1:
        summaries = collect_in_processes(selected, registry.path, parallel, verbose, force)
    else:
        summaries = []
        look = None if force else nothing_new_look(instance, str(registry.path), verbose)
        with progress_bars(show_progress and err.is_terminal) as on_progress:
            job = collect_job(str(registry.path), on_progress)
            for station_id in selected:
                err.print(f"collecting station {station_id} …")
                level = "INFO" if verbose else "CRITICAL"
                summaries.append(collect_station(job, instance, station_id, tags=CLI_TAGS, log_level=level, look=look))
    if summary_json:
        Path(summary_json).write_text(json.dumps([dataclasses.asdict(s) for s in summaries]), "utf-8")
    print_summary(summaries)
    # Every station that ran, failed ones too: the merge also writes the health table, which must show a
    # failure at once (an unchanged station needs neither).
    if gallery_index and any(not s.unchanged for s in summaries):
        from pv_assets.gallery.run import build_gallery_index

        gallery = build_gallery_index(instance, str(registry.path))
        out.print(
            f"gallery index: {gallery['index_key']} ({gallery['rows']} rows, {gallery['stations']} stations)"
            if gallery
            else "[red]gallery index: the merge failed; see the build_gallery_index run[/red]",
            soft_wrap=True,
        )
    out.print(f"objects and audit manifests: {describe_store()}", soft_wrap=True)
    return (0 if all(s.collected for s in summaries) else 1), summaries


def collect_job(stations_file: str, on_progress: Any) -> Any:
    """The collect job, as a function that loads it when first called: the asset graph (and the decoders it
    imports) only once a station runs - a station with nothing new needs neither."""
    loaded: list[Any] = []

    def job() -> Any:
        if not loaded:
            from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions
            from pv_assets.operations.progress import ProgressResource
            from resources.dagster_resources import StationApiResource

            defs = make_definitions(
                station_api=StationApiResource(stations_file=stations_file),
                progress=ProgressResource.to(on_progress) if on_progress else None,
            )
            loaded.append(defs.resolve_job_def(COLLECT_JOB_NAME))
        return loaded[0]

    return job


def nothing_new_look(instance: Any, stations_file: str, verbose: bool) -> Any:
    """The look before a station's run (pv_assets/collection/nothing_new.py): its outcome when nothing its run
    could change, else None (the station runs)."""
    from pv_assets.collection.nothing_new import StationLook

    station_look = StationLook(instance, stations_file, say=err.print if verbose else lambda _: None)

    def look(station_id: str) -> StationRunOutcome | None:
        unchanged = station_look(station_id)
        if unchanged is None:
            return None
        return StationRunOutcome(station_id, True, unchanged.run_id, {"records": unchanged.records}, unchanged=True)

    return look


def collect_through_queue(instance: Any, station_ids: list[str]) -> list[StationRunOutcome]:
    """A production instance: submit the runs to the queue (the daemon launches them) and follow them."""
    from pv_assets.operations.run_queue import SubmitError, daemon_heartbeat_age_s, follow_runs, submit_station_runs

    try:
        runs = submit_station_runs(instance, station_ids)
    except SubmitError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return [StationRunOutcome(s, False, "", error=str(exc)) for s in station_ids]
    err.print(f"queued {len(runs)} runs on the production instance; the daemon launches them, following them …")
    age = daemon_heartbeat_age_s(instance)
    if age is None or age > 60:
        since = "never" if age is None else f"{age:.0f} s ago"
        err.print(f"[yellow]warning:[/yellow] the daemon's run queue last reported {since}: the runs stay queued "
                  "until `dagster-daemon run` is running on this instance")  # fmt: skip

    def show(item) -> None:
        err.print(f"  {item.station_id}: {item.status.lower()} (run {item.run_id})")

    return follow_runs(instance, runs, on_change=show)


def collect_in_processes(
    station_ids: list[str], registry: Path, parallel: int, verbose: bool, force: bool = False
) -> list[StationRunOutcome]:
    """Stations in parallel, each in its own `pv-media collect` process (its own Dagster run)."""

    def run_child(station_id: str) -> StationRunOutcome:
        with tempfile.TemporaryDirectory() as tmp:
            summary_file = Path(tmp) / "summary.json"
            command = [
                sys.executable,
                "-m",
                "pv_assets.cli",
                "collect",
                "--station",
                station_id,
                "--stations",
                str(registry),
                "--summary-json",
                str(summary_file),
                "--no-gallery-index",  # the parent merges the index once, after every station
            ]
            options = (["-v"] if verbose else []) + (["--force"] if force else [])
            child = subprocess.run(command + options, capture_output=True, text=True)
            if summary_file.exists():
                return StationRunOutcome(**json.loads(summary_file.read_text("utf-8"))[0])
            last = (child.stderr.strip().splitlines() or ["no output"])[-1]
            return StationRunOutcome(
                station_id, False, "", error=f"collector process exited {child.returncode}: {last}"
            )

    err.print(f"collecting {len(station_ids)} stations, {parallel} at a time …")
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        summaries = []
        for summary in pool.map(run_child, station_ids):
            state = "ALL ITEMS FAILED" if summary.every_item_failed else "ok" if summary.ok else "FAILED"
            err.print(f"  {summary.station_id}: {state}")
            summaries.append(summary)
    return summaries


def print_summary(summaries: list[StationRunOutcome]) -> None:
    table = Table(title="pv-media collection summary")
    table.add_column("station")
    table.add_column("status")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="right")
    for s in summaries:
        status = (
            "unchanged" if s.unchanged else "ALL ITEMS FAILED" if s.every_item_failed else "ok" if s.ok else "FAILED"
        )
        style = "red" if not s.collected else ""
        table.add_row(s.station_id, status, *[str(s.counts.get(c, "-")) for c in SUMMARY_COLUMNS], style=style)
    out.print(table)
    for s in summaries:
        if s.failures:
            reasons = ", ".join(
                f"{reason} {count}" for reason, count in sorted(s.failures.items(), key=lambda r: -r[1])
            )
            what = "[red]every media item failed[/red]" if s.every_item_failed else "media items failed"
            out.print(f"{s.station_id}: {what} - {reasons} (docs/fault-matrix.md; the next run retries them)")
        if not s.ok:
            out.print(f"[red]{s.station_id} failed:[/red] {s.error}")
        elif s.unchanged:
            out.print(f"{s.station_id}: nothing new (records, registry, dialect, settings, code, stored objects); "
                      f"run {s.run_id} stands - --force runs it anyway", soft_wrap=True)  # fmt: skip
        else:
            out.print(f"{s.station_id}: run {s.run_id}")


def add_parser(commands: Any) -> None:
    collect_cmd = commands.add_parser("collect", help="collect stations of the registry as Dagster runs")
    collect_cmd.add_argument("--station", action="append", default=[], metavar="ID", help="a station id (repeatable)")
    collect_cmd.add_argument("--all", action="store_true", help="every station of the registry")
    collect_cmd.add_argument(
        "--stations", metavar="FILE", help="the registry (default: $PV_STATIONS_FILE, else conf/stations.yaml)"
    )
    collect_cmd.add_argument("-v", "--verbose", action="store_true", help="show Dagster's run log")
    collect_cmd.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="collect N stations at a time, each in its own process (default 1)",
    )
    # For the parallel children only: where to write their summary, and leave the index to the parent.
    collect_cmd.add_argument(
        "--force",
        action="store_true",
        help="run every station, even one whose records, settings and stored objects show nothing new",
    )
    collect_cmd.add_argument("--summary-json", metavar="FILE", help=argparse.SUPPRESS)
    collect_cmd.add_argument("--no-gallery-index", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    code, _ = collect(
        args.station,
        all_stations=args.all,
        stations_file=args.stations,
        verbose=args.verbose,
        parallel=max(1, args.parallel),
        summary_json=args.summary_json,
        gallery_index=not args.no_gallery_index,
        force=args.force,
    )
    return code
