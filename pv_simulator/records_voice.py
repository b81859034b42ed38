"""How a simulated station writes its records in its dialect: paging read, pages and records rendered.

The world keeps its records in the v1 shape (station-api.md, plus the typed photo fields of
conf/dialects/default.yaml); `RecordsVoice` renders them in the dialect's field paths, values,
times and URL shapes. Typed photos go where the dialect says what a photo shows (typed_photos.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from pv_model.dialect import EPOCH_MS, EPOCH_S, ROOT_PATH

from .documents import (
    decode_cursor,
    encode_cursor,
    get_path,
    int_param,
    put,
    readable_format,
    sibling,
    sometimes,
    split_urls,
    url_items,
    video_type_value,
)
from .file_ids import ids_list, ids_text
from .typed_photos import (
    VIDEOS,
    WORLD_MEDIA_FIELDS,
    PhotoLayout,
    is_world_record,
    photo_layout,
    split_by_layout,
)

V1_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_PAGE_SIZE = 20
NEXT_START = "start"  # the simulator's own parameter in the next-page links it writes


@dataclass(frozen=True)
class Paging:
    page_no: int  # 1-based, as the world counts
    page: int  # the page number as the dialect counts (echoed back)
    page_size: int  # after clamping
    updated_since: str | None  # v1 local time "YYYY-MM-DD HH:MM:SS"
    start: int = 0  # index of the first record (offset, cursor and next-link paging)


class RecordsVoice:
    """The records half of a Dialect (mixed into it): needs iface, v1, tz, url_shapes, plain, success()."""

    @functools.cached_property
    def photo_layout(self) -> PhotoLayout:
        return photo_layout(self.iface.fields)

    def paging(self, raw_query: str, body: bytes) -> Paging:
        """The paging parameters of a records request; ValueError (Chinese) when they are wrong."""
        call = self.iface.records
        if call.params_in == "query":
            params = {name: values[0] for name, values in parse_qs(raw_query, keep_blank_values=True).items()}
        else:
            try:
                params = json.loads(body) if body.strip() else {}
            except ValueError:
                raise ValueError("请求体不是合法的JSON") from None
            if not isinstance(params, dict):
                raise ValueError("请求体必须是JSON对象")
        size_default = call.page_size if call.paging in ("none", "next_link", "cursor") else DEFAULT_PAGE_SIZE
        page_size = call.page_size
        if call.page_size_param:
            page_size = min(int_param(params, call.page_size_param, size_default, minimum=1), call.page_size)
        since = self._time_param(params, call.updated_since_param) if call.updated_since_param else None
        if call.paging == "page":
            page = int_param(params, call.page_param, call.first_page, minimum=call.first_page)
            return Paging(page - call.first_page + 1, page, page_size, since, (page - call.first_page) * page_size)
        if call.paging == "offset":
            start = int_param(params, call.offset_param, 0, minimum=0)
        elif call.paging == "cursor":
            start = decode_cursor(params.get(call.cursor_param))
        elif call.paging == "next_link":
            start = int_param(params, NEXT_START, 0, minimum=0)
        else:
            start, page_size = 0, 10**9
        return Paging(start // page_size + 1, start // page_size + 1, page_size, since, start)

    def records_document(
        self, page: dict, paging: Paging, region: str | None = None, canonical: dict[str, str] | None = None
    ) -> Any:
        """`page` is StationState.records_page(): {"total": n, "records": [v1 records]}; `canonical`: each URL
        item -> its file's canonical URL (World.canonical_urls), for a dialect that hands out file ids."""
        call = self.iface.records
        items = [self.render_record(record, region, canonical) for record in page["records"]]
        if call.items == ROOT_PATH:
            return items
        document = self.success()
        if self.plain:
            document = {}
        if call.total:
            put(document, call.total, page["total"])
        if call.pages:
            put(document, call.pages, -(-page["total"] // paging.page_size))
        if call.paging == "page":
            put(document, sibling(call.items, call.page_param), paging.page)
            if call.page_size_param:
                put(document, sibling(call.items, call.page_size_param), paging.page_size)
        following = paging.start + len(page["records"])
        more = following < page["total"] and bool(page["records"])
        if call.paging == "cursor" and more:
            put(document, call.cursor_path, encode_cursor(following))
        if call.paging == "next_link" and more and call.next_link_path:
            size = f"{call.page_size_param}={paging.page_size}&" if call.page_size_param else ""
            put(document, call.next_link_path, f"{call.path}?{size}{NEXT_START}={following}")
        put(document, call.items, items)
        return document

    def next_link_header(self, page: dict, paging: Paging) -> dict:
        """A `Link: <...>; rel="next"` header, for next-link paging without a body field."""
        call = self.iface.records
        following = paging.start + len(page["records"])
        if call.paging != "next_link" or call.next_link_path or following >= page["total"] or not page["records"]:
            return {}
        size = f"{call.page_size_param}={paging.page_size}&" if call.page_size_param else ""
        return {"Link": f'<{call.path}?{size}{NEXT_START}={following}>; rel="next"'}

    def render_record(self, record: dict, region: str | None = None, canonical: dict[str, str] | None = None) -> dict:
        """A v1 record of the world in the dialect's field paths, values and URL shapes."""
        fields = self.iface.fields
        rendered: dict = {}
        for name, value in record.items():
            if name not in WORLD_MEDIA_FIELDS:
                put(rendered, self._renames.get(name, name), self._value(record, name, value))
        if fields.region_company_code and region is not None:
            put(rendered, fields.region_company_code, region)
        layout = self.photo_layout
        others = self._typed_photos(rendered, record, layout)
        if fields.url_templates:  # media as file ids: photos comma lists (one per type), videos a JSON array
            separators, canonical = self.iface.url_separators, canonical or {}
            for path in layout.field_for.values():
                put(rendered, path, ids_text(get_path(rendered, path), separators, canonical))
            untyped = layout.untyped_paths[0] if layout.untyped_paths else fields.photo_urls[0]
            put(rendered, untyped, ids_text(others, separators, canonical))
            put(rendered, fields.video_urls[0], ids_list(record.get(VIDEOS), separators, canonical))
            return rendered
        for kind, paths, other in (
            ("photo", layout.untyped_paths, fields.video_urls),
            ("video", fields.video_urls, fields.photo_urls),
        ):
            text = others if kind == "photo" else record.get(VIDEOS)
            paths = paths or other[:1]  # one list of typed attachments for both kinds
            objects = [p for p in paths if "[*]." in p]
            if objects:
                self._url_objects(rendered, objects[0], kind, text)
            elif kind == "photo" and layout.others_are_objects and is_world_record(record):
                self._url_objects(rendered, paths[0] + "[*]." + fields.url_key, kind, text)
            elif self.url_shapes == "mixed" and not self.v1:
                for path, part in zip(paths, split_urls(text, len(paths), self.iface.url_separators), strict=True):
                    put(rendered, path, self._shaped(record, path, kind, part))
            else:
                for path, part in self._url_fields(record, paths, text).items():
                    put(rendered, path, part)
        return rendered

    def _typed_photos(self, rendered: dict, record: dict, layout: PhotoLayout) -> str | None:
        """Put the typed photos where the dialect says their kind; the text of the photos left untyped."""
        by_field, by_value, others = split_by_layout(record, layout)
        for path in layout.field_for.values():
            text = by_field.get(path)
            if self.url_shapes == "mixed" and not self.v1:
                put(rendered, path, self._shaped(record, path, "photo", text))
            elif text is None and self._fill_dashes and sometimes(record, path):
                put(rendered, path, "--")
            else:
                put(rendered, path, text)
        if layout.objects_path is not None:
            path = layout.objects_path
            if "[*]." not in path:
                path += "[*]." + self.iface.fields.url_key
            for value, text in by_value.items():
                self._url_objects(rendered, path, "photo", text, type_value=value)
        return others

    def _url_objects(
        self, rendered: dict, path: str, kind: str, text: str | None, *, type_value: str | None = None
    ) -> None:
        """`attachments[*].url`: one object per URL in the list at `attachments`, typed when it can be."""
        parent, _, key = path.partition("[*].")
        attachments = get_path(rendered, parent)
        if not isinstance(attachments, list):
            attachments = []
            put(rendered, parent, attachments)
        fields = self.iface.fields
        video_type = video_type_value(fields.video_types)
        for url in url_items(text, self.iface.url_separators):
            item = {key: url}
            if fields.type_key:
                item[fields.type_key] = type_value or (video_type if kind == "video" else "photo")
            attachments.append(item)

    def _shaped(self, record: dict, path: str, kind: str, text: str | None) -> Any:
        """One URL field in one of the shapes stations use, chosen per record and field."""
        items = url_items(text, self.iface.url_separators)
        shape = hashlib.sha256(f"{record.get('recordId')}:{path}".encode()).digest()[0] % 5
        if not items:
            return [None, "", [], "--" if "--" in self.iface.placeholders else None, None][shape]
        if shape == 1:
            return items  # a JSON array of strings
        if shape == 2:
            return json.dumps(items, ensure_ascii=False)  # a string holding a JSON array
        if shape == 3:
            fields = self.iface.fields
            video_type = video_type_value(fields.video_types)
            typed = {fields.type_key: video_type if kind == "video" else "photo"} if fields.type_key else {}
            return [{fields.url_key: url, **typed} for url in items]  # objects with a URL key
        return "，".join(items) if shape == 4 and "，" in self.iface.url_separators else text

    def _value(self, record: dict, name: str, value: Any) -> Any:
        if name == "pickupStatus":
            raw = self._raw_pickup.get(value, value) if value is not None else None
            if self.url_shapes == "mixed" and isinstance(raw, str) and raw.isdigit() and sometimes(record, name):
                return int(raw)  # 2 and "2" are the same status
            return raw
        if name == "updatedAt":
            return self.format_time(value)
        if name == "phone" and value == "--" and "--" not in self.iface.placeholders:
            return None
        if name == "pickupTime" and value is None and self._fill_dashes and sometimes(record, name):
            return "--"
        return value

    def _url_fields(self, record: dict, names: tuple[str, ...], text: str | None) -> dict:
        parts = split_urls(text, len(names), self.iface.url_separators)
        rendered = {}
        for index, (name, part) in enumerate(zip(names, parts, strict=True)):
            missing = part is None or (index > 0 and not part)
            if missing and self._fill_dashes and sometimes(record, name):
                part = "--"
            rendered[name] = None if missing and part != "--" else part
        return rendered

    def format_time(self, v1_time: Any) -> Any:
        """A world time ("YYYY-MM-DD HH:MM:SS", station local) as the dialect writes it."""
        time_format = self.iface.records.time_format
        if not isinstance(v1_time, str) or time_format == V1_TIME_FORMAT:
            return v1_time
        try:
            moment = dt.datetime.strptime(v1_time, V1_TIME_FORMAT)
        except ValueError:
            return v1_time
        if time_format == EPOCH_MS:
            return int(moment.replace(tzinfo=self.tz).timestamp() * 1000)
        if time_format == EPOCH_S:
            return int(moment.replace(tzinfo=self.tz).timestamp())
        return moment.strftime(time_format)

    def _time_param(self, params: dict, name: str) -> str | None:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        time_format = self.iface.records.time_format
        try:
            if time_format in (EPOCH_MS, EPOCH_S):
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise ValueError
                divisor = 1000 if time_format == EPOCH_MS else 1
                moment = dt.datetime.fromtimestamp(int(value) / divisor, self.tz).replace(tzinfo=None)
            else:
                moment = dt.datetime.strptime(str(value).strip(), time_format)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"{name} 格式应为 {readable_format(time_format)}") from None
        return moment.strftime(V1_TIME_FORMAT)
