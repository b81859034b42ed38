"""The supervision page: suspicious photos across the group, by kind and region (issue 27)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pv_gallery.evidence import KINDS, cases
from pv_gallery.export import workbook_bytes, xlsx_response
from pv_gallery.i18n import Translator
from pv_gallery.web import language, protected, render, snapshot


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


@protected()
def export_supervision(request: Request) -> Response:
    """The supervision page as an Excel sheet: one row per photo of a case, the case numbered, what makes it
    suspicious (distance, day gap, bits apart, installations) - record ids masked, no coordinates."""
    snap = snapshot(request)
    t = Translator(language(request))
    grouped = cases(request.app.state.evidence.rows() or [], snap.secret)
    regions = {code: summary.label for code, summary in snap.regions.items()}

    def rows():
        number = 0
        for kind in KINDS:
            for region, found in grouped[kind].items():
                for case in found:
                    number += 1
                    km = round(case.distance_m / 1000, 1) if case.distance_m is not None else None
                    for photo in case.photos:
                        yield (number, t("ev_" + kind), regions.get(region, region), photo.station_id, photo.label,
                               case.installations, case.hash_bits, km, case.days_gap, photo.link)  # fmt: skip

    header = ["#", t("supervision"), t("region"), t("station"), t("record_id"), t("ev_installations"),
              t("ev_hash_bits"), t("ev_distance") + " (km)", t("ev_days_gap"), t("installation")]  # fmt: skip
    return xlsx_response(workbook_bytes([(t("supervision"), header, rows())]), "supervision.xlsx")
