"""The dashboard: trends by region and month, the stations' health, and a map of where the installations are.

The page is drawn by the server (every figure is in its tables, links narrow by region or station); the
charts are drawn by the bundled ECharts from the same figures, fetched as JSON from /dashboard/data - no
inline script, no CDN (pv_gallery/static/vendor/echarts).

The map's base layer is the group's approved tile service (PV_GALLERY_MAP_TILES, drawn by the bundled
Leaflet); with none configured the points stand on a plain coordinate canvas, never over an outline.

Map privacy (docs/security.md): a household's exact position is personal. Installation points are shown
only when the dashboard is narrowed to one station, rounded to MAP_DECIMALS (about a kilometre), each
linking to its installation page; otherwise one point per region at the mean of its installations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pyarrow.compute as pc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pv_gallery.headline import STATES, station_state
from pv_gallery.health_history import healthy_share
from pv_gallery.trends import Filter, figures, month_param, narrowed
from pv_gallery.web import protected, render, snapshot, url_part

MAP_DECIMALS = 2  # ~1.1 km of latitude: a village, not a house
MAX_MAP_POINTS = 5_000


def request_filter(request: Request, regions: dict, stations: dict) -> Filter:
    """The filter a request asks for; an unknown region or station is ignored (not an error)."""
    q = request.query_params
    start, end = month_param(q.get("from")), month_param(q.get("to"))
    if start and end and start > end:
        start, end = end, start
    station = q.get("station") if q.get("station") in stations else None
    region = q.get("region") if q.get("region") in regions else None
    if station is not None:
        region = stations[station].region
    return Filter(start, end, region, station)


def dashboard_figures(request: Request) -> tuple[Filter, dict[str, Any]]:
    snap = snapshot(request)
    f = request_filter(request, snap.regions, snap.stations)
    health = healthy_share(request.app.state.health_history.table(), f.region, f.station)
    found = figures(snap.installation_table(), f, snap.collection_table, health)
    names = {code: region.label for code, region in snap.regions.items()}
    for entry in found["regions"]:
        entry["label"] = names.get(entry["id"], entry["id"])
    for entry in found["stations"]:
        station = snap.stations.get(entry["id"])
        entry["label"] = station.station_name if station else entry["id"]
    found["health"] = _health(request, snap, f)
    found["map"] = _map(snap, f)
    found["filter"] = {"from": f.start, "to": f.end, "region": f.region, "station": f.station}
    return f, found


def _health(request: Request, snap, f: Filter) -> list[dict[str, Any]]:
    """Per region (or the one region's stations): how many stations are in each state now."""
    now = datetime.now(UTC)
    stale_after = timedelta(hours=request.app.state.config.stale_after_h)
    rows: dict[str, dict[str, Any]] = {}
    for station in snap.stations.values():
        if f.region is not None and station.region != f.region:
            continue
        key = station.station_id if f.region is not None else station.region
        label = station.station_name if f.region is not None else station.region_label
        entry = rows.setdefault(key, {"id": key, "label": label, **dict.fromkeys(STATES, 0)})
        entry[station_state(station, now, stale_after)] += 1
    return [rows[k] for k in sorted(rows)]


def _map(snap, f: Filter) -> dict[str, Any]:
    """Points on a plain longitude/latitude canvas: regions' centres, or one station's installations."""
    chosen = narrowed(snap.installation_table(), f)
    located = chosen.filter(pc.and_(pc.is_valid(chosen["latitude"]), pc.is_valid(chosen["longitude"])))
    if f.station is None:
        if located.num_rows == 0:
            return {"kind": "regions", "points": []}
        grouped = located.group_by("region").aggregate(
            [("latitude", "mean"), ("longitude", "mean"), ("record_id", "count"), ("complete", "sum")]
        )
        points = [
            {
                "id": row["region"],
                "label": snap.regions[row["region"]].label if row["region"] in snap.regions else row["region"],
                "lat": round(row["latitude_mean"], MAP_DECIMALS),
                "lon": round(row["longitude_mean"], MAP_DECIMALS),
                "count": row["record_id_count"],
                "coverage": round((row["complete_sum"] or 0) / row["record_id_count"], 4),
                "href": "/dashboard?" + urlencode({"region": row["region"]}),
            }
            for row in grouped.to_pylist()
        ]
        return {"kind": "regions", "points": sorted(points, key=lambda p: p["id"])}
    keys = {i.record_id: i for i in snap.installations(f.station) or []}
    points = []
    for row in located.select(["record_id", "latitude", "longitude", "complete"]).to_pylist()[:MAX_MAP_POINTS]:
        installation = keys.get(row["record_id"])
        points.append(
            {
                "label": installation.label if installation else "",
                "lat": round(row["latitude"], MAP_DECIMALS),
                "lon": round(row["longitude"], MAP_DECIMALS),
                "count": 1,
                "coverage": row["complete"],
                "href": f"/station/{url_part(f.station)}/installation/{installation.key}" if installation else None,
            }
        )
    return {"kind": "installations", "points": points}


@protected()
def dashboard(request: Request) -> Response:
    snap = snapshot(request)
    f, found = dashboard_figures(request)

    def link(**changes) -> str:
        params = {"from": f.start, "to": f.end, "region": f.region, "station": f.station, **changes}
        return "/dashboard?" + urlencode({k: v for k, v in params.items() if v})

    months = list(zip(found["months"], *found["series"].values(), strict=True))
    return render(
        request,
        "dashboard.html",
        f=f,
        found=found,
        months=months,
        regions=sorted(snap.regions.values(), key=lambda r: r.label),
        link=link,
        data_url="/dashboard/data?" + request.url.query,
        tiles=request.app.state.config.map_tiles,
        attribution=request.app.state.config.map_attribution,
    )


@protected(page=False)
def dashboard_data(request: Request) -> Response:
    _f, found = dashboard_figures(request)
    return JSONResponse(found, headers={"cache-control": "no-store"})
