"""`pv-media demo`: a simulated group world (pv_simulator.world: named regional companies, stations of
different sizes and health, typed camera-like photos, planted problems) collected into the embedded
local store through real Dagster runs, then checked against the simulator and its truth file.

The world's stale station is collected first, with the clock turned back by its stale days (time-machine),
as it was then (the simulator serves its records as of that day), and left out of the main pass: its
runs carry that date, so the gallery flags it stale as it would a station nobody collected for weeks; the
station whose password was changed fails at login alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import time_machine
from rich.console import Console
from rich.table import Table

from pv_assets.cli.collect import collect
from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.collection.staging import leftover_files
from pv_assets.gallery.previews.gallery_store import INDEX_KEY, PIECES_PREFIX, read_index
from pv_assets.gallery.previews.plan import PREVIEW_PREFIX
from pv_assets.io_manager import audit_key, parquet_to_frame
from pv_model.dialect import load_interface
from pv_model.gallery_contract import HEALTH_KEY
from pv_model.identity import normalize_id_card
from pv_model.keys import mask_key
from pv_simulator import StationSimulator, world_ref, world_specs, write_registry
from pv_simulator.camera.prerender import prerender
from pv_simulator.world.truth import write_truth
from pv_simulator.world_station import world_of
from resources.object_store import LocalDirObjectStore
from resources.settings import staging_root

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
DEMO_SEED = 1


def _expected_object_count(sim: StationSimulator, station_id: str, as_of: str | None = None) -> int:
    visible = {r["recordId"] for r in sim.records(station_id) if as_of is None or r["updatedAt"] <= as_of}
    return len(
        {
            (normalize_id_card(m.id_card_no), m.canonical_url)
            for m in sim.expected_media(station_id)
            if m.picked_up and m.outcome == "ok" and m.record_id in visible
        }
    )


def _login_refused(summary, dialect: str) -> bool:
    iface = load_interface(dialect)
    refusals = [f"code {code}:" for code in sorted(iface.envelope.bad_credentials)]
    if iface.auth_scheme == "oauth2":
        refusals.append("code invalid_client:")
    elif iface.auth_scheme != "login":  # no login call: the first call is refused
        refusals.append(f"the station refused the {iface.auth_scheme} credentials")
    return not summary.ok and any(f"login failed: {refusal}" in summary.error for refusal in refusals)


def _preview(store: LocalDirObjectStore, station_id: str) -> None:
    frame = parquet_to_frame(store.get_bytes(audit_key("uploaded_media", station_id, ".parquet")))
    table = Table(title=f"audit manifest of {station_id} (first rows; ID numbers masked)")
    for column in ("record_id", "id_card_masked", "media_field", "outcome", "reason", "object_key"):
        table.add_column(column, overflow="fold")
    shown = pd.concat([frame[frame.outcome == "uploaded"].head(3), frame[frame.outcome == "failed"].head(5)])
    for row in plain_rows(shown):
        table.add_row(
            row["record_id"],
            row["id_card_masked"],
            row["media_field"],
            row["outcome"],
            row["reason"] or "",
            mask_key(row["object_key"]) if row["object_key"] else "",
        )
    console.print(table)


def _gallery_problems(store: LocalDirObjectStore, station_ids: list[str]) -> list[str]:
    """Every stored object of the collected stations has its previews, and the index has their rows."""
    problems = []
    index = read_index(store) if store.stat(INDEX_KEY) else None
    for station_id in station_ids:
        rows = plain_rows(parquet_to_frame(store.get_bytes(audit_key("media_previews", station_id, ".parquet"))))
        without = [r["item_id"] for r in rows if r["preview_outcome"] == "failed"]
        if without:
            problems.append(f"{station_id}: {len(without)} stored objects without previews")
        indexed = 0 if index is None else sum(s == station_id for s in index.column("station_id").to_pylist())
        if indexed == 0:
            problems.append(f"{station_id}: no rows in the gallery index")
        else:
            console.print(f"{station_id}: {len(rows)} objects with previews, {indexed} rows in the gallery index")
    return problems


def _stale_problems(world, store: LocalDirObjectStore) -> list[str]:
    """The health table flags the world's stale stations stale, at the gallery's default age, and no other."""
    from pv_gallery.config import GalleryConfig
    from pv_gallery.health import read_health

    if not store.stat(HEALTH_KEY):
        return [f"no station health table at {HEALTH_KEY}"]
    age, now = timedelta(hours=GalleryConfig.stale_after_h), datetime.now(UTC)
    flagged = {sid for sid, (_, health) in read_health(store.get_bytes(HEALTH_KEY)).items() if health.stale(now, age)}
    expected = {plan.station_id for plan in world.stations if plan.stale_days}
    if flagged != expected:
        return [f"stale in the gallery: {sorted(flagged) or 'none'}; the world's stale stations: {sorted(expected)}"]
    console.print(f"stale in the gallery, as in the world: {', '.join(sorted(flagged))}")
    return []


def _world_table(world) -> None:
    table = Table(title=f"the simulated group: world {world.size.label}, seed {world.seed}")
    for column in ("station", "name", "region", "installations", "picked up", "as the world has it"):
        table.add_column(column)
    words = {"healthy": "", "broken_links": "many broken links", "login_fails": "password changed: login fails",
             "slow": "slow (every answer late)", "stale": "stale: last collected weeks ago"}  # fmt: skip
    for plan in world.stations:
        picked = sum(i.picked_up for i in plan.installations)
        table.add_row(plan.station_id, plan.name, world.region_name(plan.region_code), str(len(plan.installations)),
                      str(picked), words[plan.health])  # fmt: skip
    console.print(table)


def run_demo(
    workdir: Path, dialect: str = "default", gallery: bool = False, world_size: str = "small", photos: str = "small"
) -> int:
    workdir = workdir.absolute()
    specs = world_specs(world_ref(world_size, DEMO_SEED), dialect=dialect, photo_profile=photos)
    world = world_of(specs[0].world)
    for stale in ("object-store", "dagster_home"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    store_root, home, registry = workdir / "object-store", workdir / "dagster_home", workdir / "stations.yaml"
    truth_file = workdir / "world-truth.json"
    os.environ.pop("MINIO_ENDPOINT", None)  # the demo uses the embedded local-directory store
    os.environ.update({"PV_LOCAL_STORE": str(store_root), "DAGSTER_HOME": str(home), "PV_STATIONS_FILE": str(registry)})
    drawn = prerender(world, photos, picked_up_only=True)
    console.print(f"{drawn['pictures']} photos drawn or found in the cache in {drawn['seconds']} s")

    with StationSimulator(specs) as sim:
        entries, env = sim.registry_entries()
        os.environ.update(env)
        write_registry(registry, entries, sim.region_names())
        write_truth(world, truth_file)
        _world_table(world)
        console.print(
            f"simulator ({dialect} dialect) on {len(entries)} ports, CDN on {sim.cdn_host}; truth: {truth_file}"
        )
        stale = [plan for plan in world.stations if plan.stale_days]
        summaries = []
        for plan in stale:  # collected once, as the station was weeks ago
            state = sim.station(plan.station_id)
            state.as_of = f"{plan.stale_since:%Y-%m-%d %H:%M:%S}"
            console.print(
                f"{plan.station_id} collected {plan.stale_days} days ago as it was on {state.as_of} (the stale one)"
            )
            with time_machine.travel(datetime.now(UTC) - timedelta(days=plan.stale_days), tick=True):
                summaries += collect(
                    [plan.station_id], all_stations=False, stations_file=str(registry), gallery_index=False
                )[1]
        rest = [e["id"] for e in entries if e["id"] not in {plan.station_id for plan in stale}]
        summaries += collect(rest, all_stations=False, stations_file=str(registry))[1]
        store = LocalDirObjectStore(store_root)
        problems = _check(world, sim, store, summaries, dialect)

    _preview(store, next(s.station_id for s in summaries if s.ok))
    ui = f"DAGSTER_HOME={home} PV_STATIONS_FILE={registry} PV_LOCAL_STORE={store_root} .venv/bin/pv-media ui"
    console.print(
        f"""
[bold]Where to look next[/bold]
  objects:    {store_root}/<region>/<station>/<ID>_<urlhash>.<ext>  (provenance in {store_root}/.pv-meta/)
  manifests:  {store_root}/_pv-media/assets/<asset>/<station>.parquet (station_token: .json), and .../runs/<run_id>.*
  previews:   {store_root}/{PREVIEW_PREFIX}/<region>/<station>/<item_id>/thumb.webp, medium.webp, poster.webp
  gallery:    {store_root}/{INDEX_KEY}  (pieces per station: {store_root}/{PIECES_PREFIX}<station>.parquet)
  truth:      {truth_file}  (every planted problem and the figures to score against; docs/world.md)
  Dagster UI: {ui}""",
        soft_wrap=True,
    )
    if problems:
        console.print("[red]The demo did not behave as designed:[/red]\n  " + "\n  ".join(problems))
        return 1
    console.print(
        "[green]Demo behaved as designed:[/green] every picked-up file stored once, the station whose password "
        "changed failed alone at login, the stale one holds only what it had weeks ago, staging directory "
        "empty, every stored file has its previews and its rows in the gallery index."
    )
    if gallery:
        return open_gallery(store)
    console.print(
        f"\n[bold]The gallery[/bold] on these photos and videos (then open http://127.0.0.1:8765/):\n"
        f"  PV_LOCAL_STORE={store_root} PV_GALLERY_PASSWORD=<choose one> .venv/bin/pv-media gallery\n"
        f"  or, to run this demo again and serve it: .venv/bin/pv-media demo --gallery --dir {workdir}"
        + (f" --world {world_size}" if world_size != "small" else "")
        + (f" --dialect {dialect}" if dialect != "default" else ""),
        soft_wrap=True,
    )
    return 0


def _check(world, sim: StationSimulator, store: LocalDirObjectStore, summaries, dialect: str) -> list[str]:
    """What the demo promises, checked against the simulator: every problem in words."""
    problems = []
    for summary in summaries:
        plan = world.station(summary.station_id)
        if plan.health == "login_fails":
            if not _login_refused(summary, dialect):
                problems.append(f"{summary.station_id} should have failed to log in: {summary.error or 'it did not'}")
            continue
        stored = [
            o
            for o in store.list_prefix("")
            if f"/{summary.station_id}/" in o.key and not o.key.startswith("_pv-media/")
        ]
        as_of = f"{plan.stale_since:%Y-%m-%d %H:%M:%S}" if plan.stale_days else None
        expected = _expected_object_count(sim, summary.station_id, as_of)
        if not summary.ok or len(stored) != expected:
            problems.append(f"{summary.station_id}: {len(stored)} objects stored, {expected} expected")
    problems += _gallery_problems(store, [s.station_id for s in summaries if s.ok])
    problems += _stale_problems(world, store)
    leftovers = leftover_files(staging_root())
    if leftovers:
        problems.append(f"{len(leftovers)} files left in the staging directory {staging_root()}")
    return problems


def open_gallery(store: LocalDirObjectStore) -> int:
    """The gallery on the demo's store, until Ctrl-C; a one-off password unless PV_GALLERY_PASSWORD is set."""
    from pv_gallery.server import run_gallery

    if not os.environ.get("PV_GALLERY_PASSWORD"):
        os.environ["PV_GALLERY_PASSWORD"] = secrets.token_urlsafe(12)
        # Shown once, to the person who started the demo on their own machine (like a notebook's token).
        console.print(f"gallery password for this demo: [bold]{os.environ['PV_GALLERY_PASSWORD']}[/bold]")
    return run_gallery(store=store)
