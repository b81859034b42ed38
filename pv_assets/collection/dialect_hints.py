"""What `pv-media dialect check` says beyond the facts: the media-host rule the collection applies to each
URL, and the likely fix for the common mistakes (a page parameter that counts records, an envelope whose
status field says "OK" where codes were declared)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pv_model.dialect import StationInterface
from pv_model.urls import InvalidMediaUrl, normalize_media_url
from resources.net_guard import ForbiddenTarget, MediaUrlPolicy
from resources.station_api.records import Page, RecordsReader

SUCCESS_WORDS = {"ok", "success", "succeed", "succeeded", "successful", "true", "成功"}


def media_verdict(raw: str, base_url: str, policy: MediaUrlPolicy) -> str:
    """The URL item as written, where it resolves, and whether the collection would fetch it."""
    try:
        resolved = normalize_media_url(raw, base_url)
    except InvalidMediaUrl as exc:
        return f"{raw}  REFUSED: invalid URL: {exc}"
    shown = raw if resolved == raw else f"{raw} -> {resolved}"
    try:
        policy.check(resolved)
    except ForbiddenTarget as exc:
        return f"{shown}  REFUSED: {exc} (the vendor's CDN? add its host to media_hosts in the registry)"
    parts = urlsplit(raw.strip())
    if not parts.scheme and "/" not in parts.path and "." not in parts.path:
        return (
            f"{shown}  WARNING: a bare item with no path or extension resolves to the station's root - "
            "is it a file id? (docs/dialects.md, media given as ids)"
        )
    return shown


def envelope_hint(iface: StationInterface, code: str | None) -> str | None:
    """A failure whose code is a success word: the envelope was declared as codes that do not include it."""
    if code is None or code.strip().lower() not in SUCCESS_WORDS:
        return None
    envelope = iface.envelope
    return (
        f"the station answered {code!r} at '{envelope.code}', which reads as success: add it to envelope.success "
        f"(now {sorted(envelope.success)}), or, when that field is a status rather than a code, write "
        f"style: field, success_field: {envelope.code}, success_value: {code}"
    )


def paging_hint(reader: RecordsReader, first: Page) -> str | None:
    """With page numbers and a full first page, page 2 that repeats all but one record of page 1 means the
    parameter counts records (an offset), not pages."""
    spec = reader.spec
    if spec.paging != "page" or len(first.items) < 2 or len(first.items) < spec.page_size:
        return None
    second = reader.fetch_page(2, spec.first_page + 1, None)
    ids_first = [repr(item) for item in first.items]
    ids_second = {repr(item) for item in second.items}
    if len(ids_second & set(ids_first[1:])) >= len(ids_first) - 2:
        return (
            f"page 2 repeats page 1 shifted by one record: '{spec.page_param}' counts records, not pages - "
            f"write paging: offset, offset_param: {spec.page_param}"
        )
    return None
