"""Excel (xlsx) exports of what a page shows, for a meeting: the overview's regions and stations, a station's
installations with their missing types and failures, and the installations missing a required type.

Personal fields stay out as on the pages: records by their shown (masked) label and the masked ID number,
no coordinates, no object keys; text that would start a formula is written as text (formula injection).
Rows stream through openpyxl's write-only workbook, so a large station is not held twice in memory.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from starlette.requests import Request
from starlette.responses import Response

from pv_gallery.headline import station_state
from pv_gallery.i18n import Translator
from pv_gallery.trends import Filter, narrowed
from pv_gallery.web import error_page, language, protected, snapshot
from pv_model.failure_categories import category_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(sheet, value: Any) -> Any:
    """A value as Excel should show it: text that looks like a formula stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def workbook_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An xlsx of (sheet title, header, rows) sheets."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(data: bytes, name: str) -> Response:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=XLSX, headers={"content-disposition": disposition, "cache-control": "no-store"})


def _types(t: Translator, types: Iterable[str]) -> str:
    return ", ".join(t("pt_" + name) for name in types)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@protected()
def export_overview(request: Request) -> Response:
    snap = snapshot(request)
    t = Translator(language(request))
    region = request.query_params.get("region") or ""
    now, stale = datetime.now(UTC), timedelta(hours=request.app.state.config.stale_after_h)
    regions = [r for code, r in sorted(snap.regions.items()) if not region or code == region]
    region_rows = (
        (r.label, r.region, len(r.stations), r.picked_up, r.complete, _pct(r.completeness), r.gap, r.failed,
         _types(t, r.missing))
        for r in regions
    )  # fmt: skip
    station_rows = (
        (s.station_name, s.station_id, s.region_label, t("state_" + station_state(s, now, stale)), s.picked_up,
         s.complete, _pct(s.completeness), s.gap, s.failed, s.last_collected, _types(t, s.missing))
        for r in regions for s in sorted(r.stations, key=lambda s: s.station_id)
    )  # fmt: skip
    counts = [t("picked_up"), t("headline_complete"), t("completeness"), t("gap"), t("failed")]
    data = workbook_bytes(
        [
            (t("regions"), [t("region"), "code", t("stations"), *counts, t("missing_types")], region_rows),
            (
                t("stations"),
                [t("station"), "id", t("region"), t("state"), *counts, t("last_collected"), t("missing_types")],
                station_rows,
            ),
        ]
    )
    return xlsx_response(data, f"overview{'-' + region if region else ''}.xlsx")


def _planner(snap, station_id: str) -> dict[str, dict[str, Any]]:
    """record id -> the planner's figures of the station's installations (no coordinates: personal)."""
    table = narrowed(snap.installation_table(), Filter(station=station_id))
    table = table.select(["record_id", "capacity_kw", "install_date", "pickup_date"])
    return {row["record_id"]: row for row in table.to_pylist()}


def _failures(snap, station_id: str) -> dict[str, Counter]:
    """record id -> failed media items by the manager's category."""
    rows = snap.station_rows(station_id)
    if rows is None:
        return {}
    failed = rows.filter(pc.fill_null(pc.equal(rows["status"], "failed"), False))
    found: dict[str, Counter] = {}
    for record_id, reason in zip(failed["record_id"].to_pylist(), failed["failure_reason"].to_pylist(), strict=True):
        found.setdefault(record_id, Counter())[category_of(reason)] += 1
    return found


@protected()
def export_station(request: Request) -> Response:
    snap = snapshot(request)
    station_id = request.path_params["station_id"]
    if station_id not in snap.stations:
        return error_page(request, 404, "not_found")
    t = Translator(language(request))
    installations = snap.installations(station_id) or []
    planner, failures = _planner(snap, station_id), _failures(snap, station_id)

    def rows():
        for i in installations:
            p = planner.get(i.record_id, {})
            failed = failures.get(i.record_id, Counter())
            reasons = ", ".join(f"{t('cat_' + name)} {n}" for name, n in sorted(failed.items()))
            yield (i.label, i.id_card_masked, i.status_label, p.get("capacity_kw"), p.get("install_date"),
                   p.get("pickup_date"), i.photo_count, i.video_count, _types(t, i.missing_types), i.failed_count,
                   reasons)  # fmt: skip

    planner_header = [t.field("capacityKw"), t.field("installDate"), t.field("pickupTime")]
    header = [t("record_id"), t("id_card"), t("pickup_status"), *planner_header, t("photos"), t("videos"),
              t("missing_types"), t("failed"), t("reasons")]  # fmt: skip
    return xlsx_response(workbook_bytes([(t("installations"), header, rows())]), f"{station_id}.xlsx")


@protected()
def export_missing(request: Request) -> Response:
    """Every installation missing a required type (of one region, or all), station by station."""
    snap = snapshot(request)
    t = Translator(language(request))
    region = request.query_params.get("region") or ""
    stations = sorted(s.station_id for s in snap.stations.values() if not region or s.region == region)

    def rows():
        for station_id in stations:
            summary = snap.stations[station_id]
            if not summary.missing:
                continue
            for i in snap.installations(station_id) or []:
                if i.missing_types:
                    yield (summary.region_label, summary.station_name, station_id, i.label, i.id_card_masked,
                           _types(t, i.missing_types))  # fmt: skip

    header = [t("region"), t("station"), "id", t("record_id"), t("id_card"), t("missing_types")]
    return xlsx_response(workbook_bytes([(t("missing_types"), header, rows())]), "missing-types.xlsx")
