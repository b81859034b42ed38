"""Placeholders a dialect writes where a value belongs to the station or to one media item.

`{station_id}`, `{station_code}` (the registry's station_code, else the id), `{region_company_code}` and any
name the station's registry entry declares under `dialect_params` fill the records and station-info calls'
paths and parameters (the station's own code in a POST body, say) and media URL templates; a URL template
also takes `{item}` (the id or name a record gives) and `{record.<field path>}`. Values that go into a URL
template are percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pv_model.dialect.paths import dig

BUILT_IN = frozenset({"station_id", "station_code", "region_company_code"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[^{}]+)?)\}")


def names_in(value: Any) -> set[str]:
    """Every placeholder name written in a string, or in the strings of a dict or list."""
    if isinstance(value, str):
        return {match.group(1) for match in _PLACEHOLDER.finditer(value)}
    if isinstance(value, dict):
        return set().union(*(names_in(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(names_in(v) for v in value)) if value else set()
    return set()


def fill(value: Any, values: Mapping[str, str]) -> Any:
    """`value` with every `{name}` it holds replaced; a name without a value stays as written."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value


def fill_url_template(template: str, item: str, record: Mapping[str, Any], station: Mapping[str, str]) -> str:
    """A media URL from a template: `{item}`, `{record.<path>}` and the station's values, each encoded."""

    def value_of(match: re.Match) -> str:
        name = match.group(1)
        if name == "item":
            raw: Any = item
        elif name.startswith("record."):
            raw = dig(record, name.removeprefix("record."))
        else:
            raw = station.get(name)
        return match.group(0) if raw is None else quote(str(raw), safe="")

    return _PLACEHOLDER.sub(value_of, template)


def station_names(iface: Any) -> set[str]:
    """The station values a dialect's calls and URL templates need (item and record values left out)."""
    needed = names_in(iface.records.path) | names_in(iface.records.params)
    if iface.station_info is not None:
        needed |= names_in(iface.station_info.path) | names_in(iface.station_info.params)
    for template in iface.fields.url_templates.values():
        needed |= {name for name in names_in(template) if name != "item" and not name.startswith("record.")}
    return needed
