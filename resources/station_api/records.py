"""Station info and the infrastructure records (S2 / b), in the dialect's paging style: page
numbers, offset/limit, a cursor from the body, a next link (body or `Link` header), or none.

Each record is kept once (a record can move between pages). `total` is a hint only: it opens a
bounded window of pages fetched ahead, never a plan of pages. Every station run is bounded by a
page limit, a record limit and a deadline (registry, else dialect, else PagingLimits' defaults);
reaching one ends the station with an error that says which and where to raise it.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pv_model.dialect import RecordsCall, dig, fill, format_time, list_paths
from resources.station_api.config import ClientSettings
from resources.station_api.errors import StationApiError
from resources.station_api.session import StationSession

MAX_WINDOW = 8  # pages fetched ahead at most, whatever `total` says


@dataclass(frozen=True)
class PagingLimits:
    max_pages: int = 10_000
    max_records: int = 2_000_000
    deadline_s: float = 4 * 3600.0
    max_bytes: int = ClientSettings.max_records_bytes  # the records' JSON text (PV_RECORDS_MAX_MIB)


@dataclass(frozen=True)
class Page:
    number: int  # 1-based position in this run
    items: list
    total: int | None
    next: str | None  # the cursor or the next link, when the style has one
    pages: int | None = None  # the number of pages, where the dialect names it


def past_the_end(page: Page, seen: int) -> bool:
    """A page that brought nothing new lies past the end when the station's own total or page count says so."""
    return (page.total is not None and seen >= page.total) or (page.pages is not None and page.number > page.pages)


_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


def next_link_from_header(value: str | None) -> str | None:
    """The `rel="next"` target of an RFC 8288 Link header."""
    match = _LINK_NEXT.search(value or "")
    return match.group(1).strip() or None if match else None


class RecordsReader:
    """Reads a station's info and records through its session."""

    def __init__(self, session: StationSession):
        self.session = session

    @property
    def spec(self) -> RecordsCall:
        return self.session.interface.records

    def limits(self) -> PagingLimits:
        endpoint, spec, defaults = self.session.endpoint, self.spec, PagingLimits()
        return PagingLimits(
            max_pages=endpoint.max_pages or spec.max_pages or defaults.max_pages,
            max_records=endpoint.max_records or spec.max_records or defaults.max_records,
            deadline_s=endpoint.records_deadline_s or spec.deadline_s or defaults.deadline_s,
            max_bytes=self.session.settings.max_records_bytes,
        )

    def station_info(self) -> dict[str, Any]:
        """The station-info call's answer; {} for a dialect without one (its region comes from elsewhere)."""
        info = self.session.interface.station_info
        if info is None:
            return {}
        values = self.session.endpoint.placeholders
        document = self.session.call(
            "station info", info.method, fill(info.path, values), fill(dict(info.params), values),
            in_body=info.method == "POST",
        )  # fmt: skip
        return {
            "station_code": dig(document, info.station_code),
            "station_name": dig(document, info.station_name),
            "region_company_code": dig(document, info.region_company_code),
            "region_company_name": dig(document, info.region_company_name),
        }

    # -- one page ---------------------------------------------------------------------------

    def _params(self, position: Any, size: int, updated_since: datetime | None) -> dict[str, Any]:
        spec = self.spec
        params: dict[str, Any] = fill(dict(spec.params), self.session.endpoint.placeholders)
        if spec.paging == "page":
            params[spec.page_param] = position
        elif spec.paging == "offset":
            params[spec.offset_param] = position
        elif spec.paging == "cursor" and position is not None:
            params[spec.cursor_param] = position
        if spec.page_size_param and spec.paging != "none":
            params[spec.page_size_param] = size
        if updated_since is not None and spec.updated_since_param:
            params[spec.updated_since_param] = format_time(updated_since, spec.time_format)
        return params

    def fetch_page(self, number: int, position: Any, updated_since: datetime | None, size: int | None = None) -> Page:
        """One page at `position` (page number, offset, cursor or next link) and what it says of the next."""
        spec = self.spec
        call = f"records page {number}"
        if spec.paging == "next_link" and position is not None:
            document, headers = self.session.call(call, spec.method, position, None, with_headers=True)
        else:
            params = self._params(position, size or spec.page_size, updated_since)
            path = fill(spec.path, self.session.endpoint.placeholders)
            document, headers = self.session.call(
                call, spec.method, path, params, in_body=spec.params_in == "body", with_headers=True
            )
        items = dig(document, spec.items)
        if items is None:
            items = []
            envelope = self.session.interface.envelope
            # A payload with no list on the first page is a wrong `items` path, not an empty station
            # (with an envelope, a missing payload; without one, the answer is all there is).
            if number == 1 and (envelope.style == "none" or dig(document, envelope.data) is None):
                raise StationApiError(self.session.station_id, call, f"response has no '{spec.items}'")
        if not isinstance(items, list):
            raise StationApiError(self.session.station_id, call, f"'{spec.items}' is not a list")
        try:
            total = int(dig(document, spec.total)) if spec.total else None
        except (TypeError, ValueError, OverflowError):
            total = None
        if number == 1 and not items and total:
            raise StationApiError(self.session.station_id, call, self._no_records_but_total(document, total))
        following = None
        if spec.paging == "cursor":
            following = dig(document, spec.cursor_path)
        elif spec.paging == "next_link":
            following = dig(document, spec.next_link_path) if spec.next_link_path else None
            if following is None and headers is not None:
                following = next_link_from_header(headers.get("Link"))
        following = str(following).strip() if following not in (None, "", False) else None
        try:
            pages = int(dig(document, spec.pages)) if spec.pages else None
        except (TypeError, ValueError, OverflowError):
            pages = None
        return Page(number, items, total, following, pages)

    def _no_records_but_total(self, document: Any, total: int) -> str:
        """Page 1 has no records while the station counts some: what in the dialect to look at."""
        spec = self.spec
        lists = ", ".join(f"'{path}' ({length} items)" for path, length in list_paths(document)[:3])
        if dig(document, spec.items) is None:
            where = f"lists in the answer: {lists}" if lists else "the answer holds no list of records"
            return f"records.items '{spec.items}' points at nothing, but the station says total {total}; {where}"
        hint = ""
        if spec.paging == "page":
            hint = (
                f"; check records.first_page ({spec.first_page}: does the station count pages from 0 or 1?) and "
                f"whether '{spec.page_param}' counts records, not pages (then paging: offset)"
            )
        return f"page 1 has no records at '{spec.items}', but the station says total {total}{hint}"

    # -- every page -------------------------------------------------------------------------

    def pages(self, updated_since: datetime | None = None) -> Iterator[Page]:
        """Pages in order, until a stop rule says the last was seen; bounded by the run's limits."""
        spec, limits = self.spec, self.limits()
        started = time.monotonic()
        if spec.paging == "page":
            yield from self._numbered_pages(updated_since, limits, started)
            return
        position: Any = 0 if spec.paging == "offset" else None
        number, fetched = 1, 0
        while True:
            self._check_limits(number, limits, started)
            page = self.fetch_page(number, position, updated_since)
            fetched += len(page.items)
            yield page
            if self._last(page, fetched) or spec.paging == "none":
                return
            if spec.paging == "offset":
                position += len(page.items)
            else:  # cursor, next_link
                if page.next is None:
                    return
                if page.next == position:
                    raise StationApiError(
                        self.session.station_id, f"records page {number}", "the station sent the same cursor again"
                    )
                position = page.next
            number += 1

    def stop_rules_met(self, page: Page, fetched: int) -> list[str]:
        """The dialect's stop rules that say `page` was the last (`fetched`: records so far, this page included)."""
        spec = self.spec
        met = {
            "empty_page": not page.items,
            "short_page": len(page.items) < spec.page_size,
            "total_reached": page.total is not None and fetched >= page.total,
            "no_cursor": page.next is None,
        }
        return [rule for rule in spec.stop_on if met[rule]]

    def _last(self, page: Page, fetched: int) -> bool:
        return bool(self.stop_rules_met(page, fetched))

    def _numbered_pages(self, updated_since: datetime | None, limits: PagingLimits, started: float) -> Iterator[Page]:
        """Page numbers: after page 1, while `total` says more pages are due, a window of pages is fetched
        ahead within the station's connection limit; past the announced end, one page at a time."""
        first = self.spec.first_page
        self._check_limits(1, limits, started)
        page = self.fetch_page(1, first, updated_since)
        yield page
        fetched = len(page.items)
        if self._last(page, fetched):
            return
        announced_pages = 0
        if page.total is not None and page.items:
            announced_pages = -(-page.total // len(page.items))  # ceil, a hint only
        window = max(1, min(self.session.endpoint.max_connections, MAX_WINDOW))
        pending: deque[tuple[int, Future]] = deque()
        next_number = 2
        with ThreadPoolExecutor(max_workers=window, thread_name_prefix="pages") as pool:
            try:
                while True:
                    self._check_limits(next_number - len(pending), limits, started)
                    while next_number <= limits.max_pages and (
                        not pending or (len(pending) < window and next_number <= (announced_pages or 0) + 1)
                    ):
                        number = next_number
                        pending.append(
                            (number, pool.submit(self.fetch_page, number, first + number - 1, updated_since))
                        )
                        next_number += 1
                    number, future = pending.popleft()
                    page = future.result()
                    fetched += len(page.items)
                    yield page
                    if self._last(page, fetched):
                        return
            finally:
                for _number, future in pending:
                    future.cancel()

    def _check_limits(self, number: int, limits: PagingLimits, started: float) -> None:
        station = self.session.station_id
        if number > limits.max_pages:
            raise StationApiError(
                station,
                f"records page {number}",
                f"stopped after {limits.max_pages} pages (the page limit: max_pages in the registry "
                "or records.max_pages in the dialect); nothing was stored for this run's records",
            )
        elapsed = time.monotonic() - started
        if elapsed > limits.deadline_s:
            raise StationApiError(
                station,
                f"records page {number}",
                f"stopped after {elapsed:.0f} s (the deadline: records_deadline_s in the registry or "
                "records.deadline_s in the dialect)",
            )

    def iter_records(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every record, each record ID once (a record can move between pages), within the run's limits."""
        spec = self.spec
        id_field = self.session.interface.fields.record_id
        limits = self.limits()
        max_records = limits.max_records
        seen: set[str] = set()
        fetched_bytes = 0
        pages_without_news = 0
        for page in self.pages(updated_since):
            call = f"records page {page.number}"
            news = 0
            for position, item in enumerate(page.items):
                if not isinstance(item, dict):
                    raise StationApiError(self.session.station_id, call, f"record {position} is not a JSON object")
                record_id = dig(item, id_field)
                if record_id is None or str(record_id).strip() == "":
                    raise StationApiError(self.session.station_id, call, f"record {position} has no '{id_field}'")
                key = str(record_id).strip()
                if key in seen:
                    continue
                if len(seen) >= max_records:
                    raise StationApiError(
                        self.session.station_id,
                        call,
                        f"stopped at {max_records} records (the record limit: max_records in the registry "
                        "or records.max_records in the dialect)",
                    )
                # Counted as they come: the caller turns each record into its row and lets it go, so what a run
                # holds grows with this sum, and the cap ends it before the machine runs out of memory.
                fetched_bytes += len(json.dumps(item, ensure_ascii=False).encode("utf-8", "surrogatepass"))
                if fetched_bytes > limits.max_bytes:
                    raise StationApiError(
                        self.session.station_id,
                        call,
                        f"stopped at {limits.max_bytes / 1024**2:g} MiB of records (the size limit: "
                        f"PV_RECORDS_MAX_MIB, default {PagingLimits.max_bytes // 1024**2}); "
                        "nothing was stored for this run's records",
                    )
                seen.add(key)
                news += 1
                yield item
            if not news and page.items and past_the_end(page, len(seen)):
                # A page past the end that repeats the last one (PageHelper's "reasonable" mode): done.
                return
            pages_without_news = 0 if news or not page.items else pages_without_news + 1
            if pages_without_news >= self.session.settings.max_repeated_pages:
                ignored = {"page": spec.page_param, "offset": spec.offset_param, "cursor": spec.cursor_param}
                raise StationApiError(
                    self.session.station_id,
                    call,
                    f"{pages_without_news} pages in a row repeat records already seen; "
                    f"the station seems to ignore '{ignored.get(spec.paging) or 'the next link'}', or it repeats its "
                    "last page past the end (PageHelper's reasonable mode): declare records.total or records.pages "
                    "so paging stops there",
                )

    def probe_changes(self, updated_since: datetime | None) -> tuple[int | None, int]:
        """The cheapest look at a station: one record of the first page, (total, records returned).

        With `updated_since` (where the dialect has the parameter) a non-empty page means
        something changed since then; without it, the caller compares `total`.
        """
        spec = self.spec
        start = {"page": spec.first_page, "offset": 0}.get(spec.paging)
        page = self.fetch_page(1, start, updated_since, size=1)
        return page.total, len(page.items)
