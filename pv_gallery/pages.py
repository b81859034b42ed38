"""The pages: overview (regions and stations), a station's installations, one installation."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from pv_gallery.headline import STATES, headline, station_state
from pv_gallery.installations import Installation
from pv_gallery.search import MAX_QUERY_CHARS
from pv_gallery.summaries import RegionSummary, StationOverview
from pv_gallery.web import error_page, page_number, protected, render, snapshot, url_part
from pv_model.photo_types import DEFAULT_REQUIRED_PHOTO_TYPES

STATION_PAGE_SIZE = 48
OVERVIEW_PAGE_SIZE = 100
SORT_COLUMNS = (
    "station",
    "state",
    "picked_up",
    "with_photo",
    "with_video",
    "media_items",
    "failed",
    "gap",
    "completeness",
    "last_collected",
)
KINDS = ("photo", "video", "none")


def sort_key(name: str, states: dict[str, str]) -> Callable:
    if name == "station":
        return lambda s: s.station_name if isinstance(s, StationOverview) else s.label
    if name == "state":  # worst last, so that the default (descending) puts failing stations first
        return lambda s: (-STATES.index(states[s.station_id]) if isinstance(s, StationOverview) else 0, s.gap)
    if name == "completeness":
        return lambda s: -1.0 if s.completeness is None else s.completeness
    return lambda s: getattr(s, name)


@protected()
def overview(request: Request) -> Response:
    snap = snapshot(request)
    config = request.app.state.config
    now = datetime.now(UTC)
    states = {sid: station_state(s, now, timedelta(hours=config.stale_after_h)) for sid, s in snap.stations.items()}
    sort = request.query_params.get("sort", "state")
    sort = sort if sort in SORT_COLUMNS else "state"
    descending = request.query_params.get("order", "asc" if sort in ("station", "completeness") else "desc") != "asc"
    region_filter = request.query_params.get("region") or ""
    regions: list[RegionSummary] = sorted(snap.regions.values(), key=sort_key(sort, states), reverse=descending)
    stations = (
        list(snap.regions[region_filter].stations) if region_filter in snap.regions else list(snap.stations.values())
    )
    stations.sort(key=sort_key(sort, states), reverse=descending)
    pages = max(1, math.ceil(len(stations) / OVERVIEW_PAGE_SIZE))
    page = min(page_number(request), pages)

    def link(**changes) -> str:
        params = {"sort": sort, "order": "desc" if descending else "asc", "region": region_filter, "page": page}
        params.update(changes)
        return "/?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    sort_links = {
        column: link(sort=column, order="asc" if (column == sort and descending) else "desc", page=1)
        for column in SORT_COLUMNS
    }
    return render(
        request,
        "overview.html",
        regions=regions,
        headline=headline(snap.stations.values(), states),
        states=states,
        stations=stations[(page - 1) * OVERVIEW_PAGE_SIZE : page * OVERVIEW_PAGE_SIZE],
        station_count=len(stations),
        region_filter=region_filter,
        region_filter_label=snap.regions[region_filter].label if region_filter in snap.regions else region_filter,
        sort=sort,
        descending=descending,
        sort_links=sort_links,
        region_link=lambda region: link(region=region, page=1),
        page=page,
        pages=pages,
        prev_link=link(page=page - 1) if page > 1 else None,
        next_link=link(page=page + 1) if page < pages else None,
    )


def matches(installation: Installation, status: str, kind: str, query: str, missing: str = "") -> bool:
    if missing and missing not in installation.missing_types:
        return False
    if status and installation.pickup_status != status:
        return False
    if kind == "photo" and not installation.photo_count:
        return False
    if kind == "video" and not installation.video_count:
        return False
    if kind == "none" and installation.photo_count:
        return False
    if query:
        q = query.strip().upper()
        by_id = len(q) == 4 and installation.id_last4 == q
        # The record id as shown (masked): a search never confirms a number the page does not show.
        if not by_id and q not in installation.label.upper():
            return False
    return True


@protected()
def station(request: Request) -> Response:
    snap = snapshot(request)
    station_id = request.path_params["station_id"]
    summary = snap.stations.get(station_id)
    if summary is None:
        return error_page(request, 404, "not_found")
    # A registry station with nothing collected (its login fails) has a page all the same: its health.
    installations = snap.installations(station_id) or []
    config = request.app.state.config
    state = station_state(summary, datetime.now(UTC), timedelta(hours=config.stale_after_h))
    missing = request.query_params.get("missing", "")
    missing = missing if missing in DEFAULT_REQUIRED_PHOTO_TYPES else ""
    status = request.query_params.get("status", "")
    kind = request.query_params.get("kind", "")
    kind = kind if kind in KINDS else ""
    query = request.query_params.get("q", "")[:64]
    shown = [i for i in installations if matches(i, status, kind, query, missing)]
    pages = max(1, math.ceil(len(shown) / STATION_PAGE_SIZE))
    page = min(page_number(request), pages)
    statuses: dict[str, str] = {}
    for installation in installations:
        statuses.setdefault(installation.pickup_status, installation.status_label)

    def link(**changes) -> str:
        params = {"missing": missing, "status": status, "kind": kind, "q": query, "page": page, **changes}
        return f"/station/{url_part(station_id)}?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return render(
        request,
        "station.html",
        summary=summary,
        installations=shown[(page - 1) * STATION_PAGE_SIZE : page * STATION_PAGE_SIZE],
        total=len(installations),
        matching=len(shown),
        statuses=statuses,
        status=status,
        kind=kind,
        kinds=KINDS,
        query=query,
        state=state,
        missing=missing,
        photo_types=DEFAULT_REQUIRED_PHOTO_TYPES,
        page=page,
        pages=pages,
        prev_link=link(page=page - 1) if page > 1 else None,
        next_link=link(page=page + 1) if page < pages else None,
    )


@protected()
def installation(request: Request) -> Response:
    snap = snapshot(request)
    station_id, key = request.path_params["station_id"], request.path_params["key"]
    summary = snap.stations.get(station_id)
    found = snap.installation(station_id, key)
    if summary is None or found is None:
        return error_page(request, 404, "not_found")
    # Findings of its photos (pv_gallery.evidence): a badge on each suspicious one.
    flags = request.app.state.evidence.for_items([p.item_id for p in found.photos])
    return render(request, "installation.html", summary=summary, installation=found, flags=flags)


@protected()
def search(request: Request) -> Response:
    """One search across every station: record id, last 4 of the ID number, project name, address parts."""
    snap = snapshot(request)
    query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    hits, total = snap.search_table().search(query, snap.secret)
    return render(request, "search.html", query=query, hits=hits, total=total, stations=snap.stations)
