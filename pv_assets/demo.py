"""`pv-media demo`: three simulated stations - one with a wrong password, to show S2 - collected
into the embedded local store through real Dagster runs, then checked against the simulator."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import sys
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from pv_assets.cli import collect
from pv_assets.io_manager import audit_key, parquet_to_frame
from pv_assets.media.manifest import plain_rows
from pv_assets.previews.gallery_store import INDEX_KEY, PIECES_PREFIX, read_index
from pv_assets.previews.plan import PREVIEW_PREFIX
from pv_assets.staging import leftover_files
from pv_simulator import SimStationSpec, StationSimulator, write_registry
from resources.identity import normalize_id_card
from resources.interface import load_interface
from resources.keys import mask_key
from resources.object_store import LocalDirObjectStore
from resources.settings import staging_root

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
BAD_LOGIN_STATION = "DEMO-03"
# Photos of 40-160 KB and videos of 60-160 KB: pictures large enough to look at in the previews.
_PICTURES = {"photo_size": (40_000, 160_000), "video_size": (60_000, 160_000)}
DEMO_STATIONS = [
    SimStationSpec(
        "DEMO-01", name="阳光一号分布式光伏", records=30, seed=101, region_company_code="RC-320100", **_PICTURES
    ),
    SimStationSpec(
        "DEMO-02", name="屋顶二号分布式光伏", records=24, seed=102, region_company_code="RC-510100", **_PICTURES
    ),
    SimStationSpec(BAD_LOGIN_STATION, name="密码错误的场站", records=10, seed=103),
]


def _expected_object_count(sim: StationSimulator, station_id: str) -> int:
    return len(
        {
            (normalize_id_card(m.id_card_no), m.canonical_url)
            for m in sim.expected_media(station_id)
            if m.picked_up and m.outcome == "ok"
        }
    )


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


def run_demo(workdir: Path, dialect: str = "default", gallery: bool = False) -> int:
    workdir = workdir.absolute()
    stations = [dataclasses.replace(spec, dialect=dialect) for spec in DEMO_STATIONS]
    for stale in ("object-store", "dagster_home"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    store_root, home, registry = workdir / "object-store", workdir / "dagster_home", workdir / "stations.yaml"
    os.environ.pop("MINIO_ENDPOINT", None)  # the demo uses the embedded local-directory store
    os.environ.update({"PV_LOCAL_STORE": str(store_root), "DAGSTER_HOME": str(home)})

    with StationSimulator(stations) as sim:
        entries, env = sim.registry_entries(wrong_password_for=(BAD_LOGIN_STATION,))
        os.environ.update(env)
        write_registry(registry, entries)
        console.print(
            f"simulator ({dialect} dialect): {len(entries)} stations on {', '.join(e['base_url'] for e in entries)}, "
            f"CDN on {sim.cdn_host}; {BAD_LOGIN_STATION} is given a wrong password"
        )
        _code, summaries = collect([], all_stations=True, stations_file=str(registry))
        store = LocalDirObjectStore(store_root)
        problems = []
        for summary in summaries:
            if summary.station_id == BAD_LOGIN_STATION:
                iface = load_interface(dialect)
                refusals = [f"code {code}:" for code in sorted(iface.envelope.bad_credentials)]
                if iface.auth_scheme == "oauth2":
                    refusals.append("code invalid_client:")
                elif iface.auth_scheme != "login":  # no login call: the first call is refused
                    refusals.append(f"the station refused the {iface.auth_scheme} credentials")
                if summary.ok or not any(f"login failed: {refusal}" in summary.error for refusal in refusals):
                    problems.append(f"{summary.station_id} should have failed to log in with {refusals[0]}")
                continue
            stored = [
                o
                for o in store.list_prefix("")
                if f"/{summary.station_id}/" in o.key and not o.key.startswith("_pv-media/")
            ]
            expected = _expected_object_count(sim, summary.station_id)
            if not summary.ok or len(stored) != expected:
                problems.append(f"{summary.station_id}: {len(stored)} objects stored, {expected} expected")
        problems += _gallery_problems(store, [s.station_id for s in summaries if s.ok])
        leftovers = leftover_files(staging_root())
        if leftovers:
            problems.append(f"{len(leftovers)} files left in the staging directory {staging_root()}")

    _preview(store, DEMO_STATIONS[0].station_id)
    ui = f"DAGSTER_HOME={home} PV_STATIONS_FILE={registry} PV_LOCAL_STORE={store_root} .venv/bin/pv-media ui"
    console.print(
        f"""
[bold]Where to look next[/bold]
  objects:    {store_root}/<region>/<station>/<ID>_<urlhash>.<ext>  (provenance in {store_root}/.pv-meta/)
  manifests:  {store_root}/_pv-media/assets/<asset>/<station>.parquet (station_token: .json), and .../runs/<run_id>.*
  previews:   {store_root}/{PREVIEW_PREFIX}/<region>/<station>/<item_id>/thumb.webp, medium.webp, poster.webp
              (a contact sheet per station: .../<region>/<station>/contact-sheet.webp)
  gallery:    {store_root}/{INDEX_KEY}  (pieces per station: {store_root}/{PIECES_PREFIX}<station>.parquet)
  Dagster UI: {ui}
              (runs, lineage and metadata; the simulator stops with the demo, so re-running from the UI needs
               `pv-media simulate`)""",
        soft_wrap=True,
    )
    if problems:
        console.print("[red]The demo did not behave as designed:[/red]\n  " + "\n  ".join(problems))
        return 1
    console.print(
        f"[green]Demo behaved as designed:[/green] every picked-up file stored once, "
        f"{BAD_LOGIN_STATION} failed alone at login (S2), staging directory empty, every stored file has "
        f"its previews and its rows in the gallery index."
    )
    if gallery:
        return open_gallery(store)
    console.print(
        f"\n[bold]The gallery[/bold] on these photos and videos (then open http://127.0.0.1:8765/):\n"
        f"  PV_LOCAL_STORE={store_root} PV_GALLERY_PASSWORD=<choose one> .venv/bin/pv-media gallery\n"
        f"  or, to run this demo again and serve it: .venv/bin/pv-media demo --gallery --dir {workdir}"
        + (f" --dialect {dialect}" if dialect != "default" else ""),
        soft_wrap=True,
    )
    return 0


def open_gallery(store: LocalDirObjectStore) -> int:
    """The gallery on the demo's store, until Ctrl-C; a one-off password unless PV_GALLERY_PASSWORD is set."""
    from pv_gallery.server import run_gallery

    if not os.environ.get("PV_GALLERY_PASSWORD"):
        os.environ["PV_GALLERY_PASSWORD"] = secrets.token_urlsafe(12)
        # Shown once, to the person who started the demo on their own machine (like a notebook's token).
        console.print(f"gallery password for this demo: [bold]{os.environ['PV_GALLERY_PASSWORD']}[/bold]")
    return run_gallery(store=store)
