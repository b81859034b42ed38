"""Station info and the infrastructure records (S2 / b): paging until an empty page, each
record once (a record can move between pages), `total` taken as a hint only."""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from resources.interface import dig, format_time
from resources.station_api.errors import StationApiError
from resources.station_api.session import StationSession


class RecordsReader:
    """Reads a station's info and records through its session."""

    def __init__(self, session: StationSession):
        self.session = session

    def station_info(self) -> dict[str, Any]:
        info = self.session.interface.station_info
        document = self.session.call(
            "station info", info.method, info.path, dict(info.params), in_body=info.method == "POST"
        )
        return {
            "station_code": dig(document, info.station_code),
            "station_name": dig(document, info.station_name),
            "region_company_code": dig(document, info.region_company_code),
        }

    def _records_page(self, page: int, updated_since: datetime | None) -> tuple[list, int | None]:
        """One page of records and the station's `total` (a hint only)."""
        spec = self.session.interface.records
        params: dict[str, Any] = {spec.page_param: page, spec.page_size_param: spec.page_size}
        if updated_since is not None and spec.updated_since_param:
            params[spec.updated_since_param] = format_time(updated_since, spec.time_format)
        call = f"records page {page}"
        document = self.session.call(call, spec.method, spec.path, params, in_body=spec.params_in == "body")
        items = dig(document, spec.items)
        if items is None:
            items = []
            if dig(document, self.session.interface.envelope.data) is None and page == spec.first_page:
                raise StationApiError(self.session.station_id, call, f"response has no '{spec.items}'")
        if not isinstance(items, list):
            raise StationApiError(self.session.station_id, call, f"'{spec.items}' is not a list")
        try:
            total = int(dig(document, spec.total)) if spec.total else None
        except (TypeError, ValueError):
            total = None
        return items, total

    def _pages(self, updated_since: datetime | None) -> Iterator[tuple[int, list]]:
        """(page number, records) in order, up to and including the first empty page.

        After page 1, the pages its `total` announces are fetched concurrently, within the
        station's connection limit; `total` is only a hint (it changes while people edit), so
        paging then goes on one page at a time until a page is empty.
        """
        first = self.session.interface.records.first_page
        items, total = self._records_page(first, updated_since)
        yield first, items
        if not items:
            return
        page = first + 1
        if total is not None and total > len(items):
            last = first + math.ceil(total / len(items))  # one past the announced end: expected empty
            ahead = list(range(page, last + 1))
            workers = max(1, min(self.session.endpoint.max_connections, len(ahead)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pages") as pool:
                for number, (items, _total) in zip(
                    ahead, pool.map(lambda n: self._records_page(n, updated_since), ahead), strict=True
                ):
                    yield number, items
                    if not items:
                        return
            page = last + 1
        while True:
            items, _total = self._records_page(page, updated_since)
            yield page, items
            if not items:
                return
            page += 1

    def iter_records(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every record, until an empty page, each recordId once (a record can move between pages)."""
        spec = self.session.interface.records
        id_field = self.session.interface.fields.record_id
        seen: set[str] = set()
        pages_without_news = 0
        for page, items in self._pages(updated_since):
            call = f"records page {page}"
            news = 0
            for position, item in enumerate(items):
                if not isinstance(item, dict):
                    raise StationApiError(self.session.station_id, call, f"record {position} is not a JSON object")
                record_id = item.get(id_field)
                if record_id is None or str(record_id).strip() == "":
                    raise StationApiError(self.session.station_id, call, f"record {position} has no '{id_field}'")
                key = str(record_id).strip()
                if key in seen:
                    continue
                seen.add(key)
                news += 1
                yield item
            pages_without_news = 0 if news or not items else pages_without_news + 1
            if pages_without_news >= self.session.settings.max_repeated_pages:
                raise StationApiError(
                    self.session.station_id,
                    call,
                    f"{pages_without_news} pages in a row repeat records already seen; "
                    f"the station seems to ignore '{spec.page_param}'",
                )

    def probe_changes(self, updated_since: datetime | None) -> tuple[int | None, int]:
        """The cheapest look at a station: one record of page 1, (total, records returned).

        With `updated_since` (where the dialect has the parameter) a non-empty page means
        something changed since then; without it, the caller compares `total`.
        """
        spec = self.session.interface.records
        params: dict[str, Any] = {spec.page_param: spec.first_page, spec.page_size_param: 1}
        if updated_since is not None and spec.updated_since_param:
            params[spec.updated_since_param] = format_time(updated_since, spec.time_format)
        document = self.session.call("change probe", spec.method, spec.path, params, in_body=spec.params_in == "body")
        items = dig(document, spec.items) or []
        total = dig(document, spec.total) if spec.total else None
        try:
            total = int(total) if total is not None else None
        except (TypeError, ValueError):
            total = None
        return total, len(items) if isinstance(items, list) else 0
