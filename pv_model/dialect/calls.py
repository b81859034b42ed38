"""The calls a dialect declares: station info, and the records with their paging."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from pv_model.dialect.base import ApiPath, FieldPath, Method, NonEmpty, _Section


class StationInfoCall(_Section):
    method: Method = "GET"
    path: ApiPath
    params: dict[str, Any] = Field(default_factory=dict)
    station_code: FieldPath
    station_name: FieldPath | None = None
    region_company_code: FieldPath | None = None
    # the regional company's name as the station gives it; the registry's region_names win over it
    region_company_name: FieldPath | None = None


StopRule = Literal["empty_page", "short_page", "total_reached", "no_cursor"]
PagingStyle = Literal["page", "offset", "cursor", "next_link", "none"]


class RecordsCall(_Section):
    """The records call and its paging. Styles:

    - `page`: `page_param` counts pages from `first_page` (v1);
    - `offset`: `offset_param` counts records from 0;
    - `cursor`: the next cursor comes at `cursor_path` and goes out as `cursor_param`;
    - `next_link`: the next page's URL comes at `next_link_path`, or in a `Link: <...>; rel="next"` header;
    - `none`: one call answers everything.

    `total` is a hint only: it may open a bounded window of pages fetched ahead, never a plan.
    """

    method: Method = "GET"
    path: ApiPath
    params_in: Literal["query", "body"] | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters sent with every page")
    paging: PagingStyle = "page"
    page_param: NonEmpty | None = None
    page_size_param: NonEmpty | None = None
    first_page: int = Field(1, ge=0)
    page_size: int = Field(100, ge=1, description="records asked for per page (the station's cap)")
    offset_param: NonEmpty | None = None
    cursor_param: NonEmpty | None = None
    cursor_path: FieldPath | None = None
    next_link_path: FieldPath | None = None
    items: FieldPath
    total: FieldPath | None = Field(None, description="path of the total, a hint only")
    pages: FieldPath | None = Field(
        None, description="path of the number of pages: a station that repeats its last page past the end stops there"
    )
    stop_on: tuple[StopRule, ...] | None = Field(None, description="stop rules; by default the style's own")
    updated_since_param: NonEmpty | None = None
    time_format: NonEmpty = Field("%Y-%m-%d %H:%M:%S", description="a strftime pattern, epoch_s or epoch_ms")
    max_pages: int | None = Field(None, ge=1, description="pages per station run before it stops with an error")
    max_records: int | None = Field(None, ge=1, description="records per station run before it stops with an error")
    deadline_s: float | None = Field(None, gt=0, description="seconds the records of one station may take")

    @model_validator(mode="after")
    def _paging(self) -> RecordsCall:
        if self.params_in is None:
            object.__setattr__(self, "params_in", "query" if self.method == "GET" else "body")
        needs = {
            "page": ("page_param",),
            "offset": ("offset_param",),
            "cursor": ("cursor_param", "cursor_path"),
            "next_link": (),
            "none": (),
        }[self.paging]
        missing = [key for key in needs if getattr(self, key) is None]
        if missing:
            raise ValueError(f"paging '{self.paging}' needs {' and '.join(repr(k) for k in missing)}")
        if self.stop_on is None:
            default: tuple[StopRule, ...] = {
                "page": ("empty_page",),
                "offset": ("empty_page",),
                "cursor": ("no_cursor", "empty_page"),
                "next_link": ("empty_page",),
                "none": (),
            }[self.paging]
            object.__setattr__(self, "stop_on", default)
        return self
