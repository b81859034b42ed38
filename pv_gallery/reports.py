"""Print-ready reports (A4, `@media print` in gallery.css): a station's figures with every installation's
required-type checklist, and an installation's checklist, fields and photos at print size. The browser
prints them to PDF; nothing is rendered on the server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from pv_gallery.headline import station_state
from pv_gallery.web import error_page, protected, render, snapshot

MAX_REPORT_INSTALLATIONS = 2_000  # rows of a station report; a larger station is exported to Excel


@protected()
def station_report(request: Request) -> Response:
    snap = snapshot(request)
    station_id = request.path_params["station_id"]
    summary = snap.stations.get(station_id)
    if summary is None:
        return error_page(request, 404, "not_found")
    installations = snap.installations(station_id) or []
    stale_after = timedelta(hours=request.app.state.config.stale_after_h)
    required = sorted({t for i in installations for t in i.required_types}, key=_order(installations))
    return render(
        request,
        "report_station.html",
        summary=summary,
        state=station_state(summary, datetime.now(UTC), stale_after),
        installations=installations[:MAX_REPORT_INSTALLATIONS],
        total=len(installations),
        required=required,
        printed_at=datetime.now(UTC).isoformat(timespec="minutes"),
    )


def _order(installations) -> Callable[[str], int]:
    """Required types in the order the registry lists them (the first installation that requires each)."""
    seen: dict[str, int] = {}
    for installation in installations:
        for t in installation.required_types:
            seen.setdefault(t, len(seen))
    return lambda t: seen[t]


@protected()
def installation_report(request: Request) -> Response:
    snap = snapshot(request)
    station_id, key = request.path_params["station_id"], request.path_params["key"]
    summary = snap.stations.get(station_id)
    found = snap.installation(station_id, key)
    if summary is None or found is None:
        return error_page(request, 404, "not_found")
    return render(
        request,
        "report_installation.html",
        summary=summary,
        installation=found,
        printed_at=datetime.now(UTC).isoformat(timespec="minutes"),
    )
