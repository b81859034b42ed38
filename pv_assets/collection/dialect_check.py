"""`pv-media dialect check --station ID`: what a dialect makes of one station, for the engineer
wiring a vendor. Logs in, asks for the first page, and shows the envelope verdict, the paging
decision, the first three records as pv-media reads them (ID numbers masked) and the media URLs
found per field. Secrets (password, key, token) are never printed: every line is scrubbed of
them, and the token shows only as its fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from pv_assets.collection.dialect_hints import envelope_hint, media_verdict, paging_hint
from pv_assets.collection.record_table import media_refs, record_rows
from pv_model.dialect import StationInterface, parse_time
from pv_model.identity import mask_id
from pv_model.registry import Station
from pv_model.scrub import scrub
from resources.dagster_resources import StationApiResource
from resources.station_api import StationApiError, StationClient
from resources.station_api.records import Page, RecordsReader

SHOWN_RECORDS = 3


class _Printer:
    """Prints lines with every known secret replaced, and ID-like numbers masked."""

    def __init__(self, emit: Callable[[str], None], secrets: list[str]):
        self.emit = emit
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str = "") -> None:
        self.emit(scrub(text, self.secrets))


def check_station(station_id: str, stations_file: str | None = None, emit: Callable[[str], None] = print) -> int:
    """0 when the station answered a first page the dialect could read, 1 otherwise."""
    api = StationApiResource(stations_file=stations_file or "")
    station = api.station(station_id)
    client = api.client(station_id)  # the deployment's client settings (reply cap, deadlines)
    endpoint = client.endpoint
    show = _Printer(emit, [endpoint.password, endpoint.account if client.interface.auth_scheme != "login" else ""])
    iface = client.interface
    show(f"station {station.id}: dialect '{iface.name}' ({iface.source})")
    show(f"  auth scheme: {iface.auth_scheme}; envelope style: {iface.envelope.style}; paging: {iface.records.paging}")
    try:
        return _check(client, station, iface, show)
    except StationApiError as exc:
        show(f"  FAILED: {exc}")
        hint = envelope_hint(iface, exc.code)
        if hint:
            show(f"  likely fix: {hint}")
        return 1
    finally:
        secrets = [client.session._token or ""]  # noqa: SLF001 - scrubbed from anything printed after this
        show.secrets = sorted({*show.secrets, *[s for s in secrets if len(s) >= 4]}, key=len, reverse=True)
        client.close()


def _check(client: StationClient, station: Station, iface: StationInterface, show: _Printer) -> int:
    record = client.login()
    token = client.session._token  # noqa: SLF001 - only to scrub it from the output
    if token:
        show.secrets = sorted({*show.secrets, token}, key=len, reverse=True)
    expiry = f", expires {record.expires_at}" if record.expires_at else ""
    if iface.auth_scheme in ("login", "oauth2"):
        show(f"login: ok (token {record.token_fingerprint}{expiry})")
    else:
        show(f"login: none ({iface.auth_scheme}): the credentials go on every request")
    region = station.region_company_code
    if iface.station_info is not None:
        info = client.station_info()
        show(
            f"station info: code {info.get('station_code')!r}, name {info.get('station_name')!r}, "
            f"region {info.get('region_company_code')!r}"
        )
        code = str(info.get("station_code") or "").strip()
        if code and code.lower() != station.expected_station_code.lower():
            show(
                f"  MISMATCH: the registry expects station code {station.expected_station_code!r} (station_code, "
                f"else the id) but the account belongs to {code!r}: a collection refuses it when station_code is set"
            )
        region = region or (str(info["region_company_code"]) if info.get("region_company_code") else None)
    else:
        source = "each record's " + iface.fields.region_company_code if iface.region_from_records else "the registry"
        show(f"station info: none in this dialect; region code from {source}")
    reader = RecordsReader(client.session)
    start = {"page": iface.records.first_page, "offset": 0}.get(iface.records.paging)
    page = reader.fetch_page(1, start, None)
    show(f"envelope: ok ({_verdict(iface)})")
    show(f"paging: {_decision(reader, page)}")
    offset_hint = paging_hint(reader, page)
    if offset_hint:
        show(f"  likely fix: {offset_hint}")
    rows = record_rows(page.items[:SHOWN_RECORDS], iface, station.id, region, None, station.placeholders)
    for item, row in zip(page.items[:SHOWN_RECORDS], rows, strict=True):
        show(
            f"record {row['record_id']}: id {mask_id(row['id_card_no']) if row['id_card_no'] else None}, "
            f"pickup {row['pickup_status_raw']!r} -> {row['pickup_status']}, updated {_when(row, iface)}, "
            f"region {row['region_company_code']!r}"
        )
        refs = media_refs(item, iface, station.placeholders)
        if not refs:
            show("  media: none found (check fields.photo_urls / video_urls)")
        for path in dict.fromkeys(ref.field for ref in refs):
            show(f"  {path}:")
            for ref in refs:
                if ref.field == path:
                    show(f"    {ref.kind} {media_verdict(ref.url, client.endpoint.base_url, client.session.policy)}")
    if not page.items:
        show("records: the first page is empty")
    return 0


def _when(row: dict[str, Any], iface: StationInterface) -> str:
    """The record's time as the station wrote it, and as pv-media reads it with the dialect's time_format."""
    raw = row["updated_at_raw"]
    moment = parse_time(raw, iface.records.time_format, ZoneInfo(iface.timezone))
    read = moment.strftime("%Y-%m-%d %H:%M:%S %Z") if moment else f"unreadable as {iface.records.time_format!r}"
    return f"{raw!r} ({read})" if raw is not None else "None"


def _verdict(iface: StationInterface) -> str:
    envelope = iface.envelope
    return {
        "codes": f"code at '{envelope.code}' in {sorted(envelope.success)}",
        "flag": f"'{envelope.success_flag}' is true",
        "field": f"'{envelope.success_field}' == {envelope.success_value!r}",
        "none": "HTTP 2xx, no envelope",
    }[envelope.style or "codes"]


def _decision(reader: RecordsReader, page: Page) -> str:
    spec = reader.spec
    said: list[Any] = [f"{len(page.items)} records at '{spec.items}'"]
    if page.total is not None:
        said.append(f"total {page.total} (a hint)")
    if page.next is not None:
        said.append(f"next {'cursor' if spec.paging == 'cursor' else 'link'} {page.next!r}")
    rules = reader.stop_rules_met(page, len(page.items))
    if spec.paging == "none":
        said.append("one call answers everything: done")
    elif rules:
        said.append(f"stops here ({', '.join(rules)})")
    else:
        following = {
            "page": lambda: f"page {spec.first_page + 1}",
            "offset": lambda: f"offset {len(page.items)}",
            "cursor": lambda: "the next cursor",
            "next_link": lambda: "the next link",
        }[spec.paging]()
        said.append(f"would ask for {following} next")
    return "; ".join(said)


__all__ = ["check_station"]
