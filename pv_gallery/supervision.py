"""The supervision page: suspicious photos across the group, by kind and region (issue 27)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pv_gallery.evidence import KINDS, cases
from pv_gallery.web import protected, render, snapshot


@protected()
def supervision(request: Request) -> Response:
    snap = snapshot(request)
    rows = request.app.state.evidence.rows()
    grouped = cases(rows or [], snap.secret)
    regions = {code: summary.label for code, summary in snap.regions.items()}
    counts = {kind: sum(len(found) for found in grouped[kind].values()) for kind in KINDS}
    return render(
        request,
        "supervision.html",
        ready=rows is not None,
        grouped=grouped,
        kinds=KINDS,
        counts=counts,
        region_label=lambda code: regions.get(code, code),
    )
