"""The descriptive fields a planner decides on (the `planner:` section), and reading them typed, pure.

Each is a field path with its format. The defaults are the names the v1 records carry (station-api.md and
the simulated world), so a dialect names only what its vendor calls otherwise; a field the station does
not send is simply empty. A value that is there but does not read (a capacity "abc", a date in another
format, a latitude of 123) is left empty with a row-level warning - it never fails the station.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import Field

from pv_model.dialect.base import FieldPath, NonEmpty, _Section
from pv_model.dialect.paths import dig
from pv_model.dialect.times import parse_time

CAPACITY_FACTORS = {"W": 0.001, "kW": 1.0, "MW": 1000.0}
TEXT_FIELDS = ("project_name", "province", "city", "county", "town", "village", "address")
# The typed columns of the records table and the gallery index, in order.
PLANNER_COLUMNS = ("capacity_kw", "install_date", "pickup_date", *TEXT_FIELDS, "latitude", "longitude")
MAX_TEXT = 500  # a planner's text field longer than this is cut (a page shows it)


class PlannerFields(_Section):
    """Where the planner's fields are in a record, and how they are written."""

    capacity: FieldPath | None = Field("capacityKw", description="installed capacity, a number")
    capacity_unit: Literal["W", "kW", "MW"] = Field("kW", description="the unit the capacity is given in")
    install_date: FieldPath | None = "installDate"
    install_date_format: NonEmpty = Field("%Y-%m-%d", description="a strftime pattern, epoch_s or epoch_ms")
    pickup_date: FieldPath | None = Field("pickupTime", description="when the installation was picked up")
    pickup_date_format: NonEmpty = Field("%Y-%m-%d %H:%M:%S", description="a strftime pattern, epoch_s or epoch_ms")
    project_name: FieldPath | None = "projectName"
    province: FieldPath | None = "province"
    city: FieldPath | None = "city"
    county: FieldPath | None = "county"
    town: FieldPath | None = "town"
    village: FieldPath | None = "village"
    address: FieldPath | None = "address"
    latitude: FieldPath | None = "latitude"
    longitude: FieldPath | None = "longitude"

    def paths(self) -> list[str]:
        """Every field path named, for the record table to know which station fields are mapped."""
        names = ("capacity", "install_date", "pickup_date", *TEXT_FIELDS, "latitude", "longitude")
        return [path for path in (getattr(self, name) for name in names) if path]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        raise ValueError
    number = float(str(value).strip()) if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _date(value: Any, time_format: str, tz: Any) -> dt.date:
    moment = parse_time(value, time_format, tz)
    if moment is None:
        raise ValueError
    return moment.astimezone(tz).date()


def read_planner(
    record: dict[str, Any], planner: PlannerFields, placeholders: frozenset[str], tz: Any
) -> tuple[dict[str, Any], list[str]]:
    """The record's planner values typed (None where absent or unreadable), and a warning per unreadable value.

    Dates are the station's local dates (`tz`, the dialect's time zone): the month a planner counts in."""
    values: dict[str, Any] = dict.fromkeys(PLANNER_COLUMNS)
    warnings: list[str] = []

    def raw(path: str | None) -> Any:
        value = dig(record, path) if path else None
        if value is None or (isinstance(value, str) and (not value.strip() or value.strip() in placeholders)):
            return None
        return value

    def read(column: str, path: str | None, reader, what: str) -> None:
        value = raw(path)
        if value is None:
            return
        try:
            values[column] = reader(value)
        except (TypeError, ValueError, OverflowError):
            shown = str(value)[:40]
            warnings.append(f"{path}: {shown!r} does not read as {what}; left empty")

    unit = planner.capacity_unit
    read("capacity_kw", planner.capacity, lambda v: _non_negative(_number(v)) * CAPACITY_FACTORS[unit], f"{unit}")
    read("install_date", planner.install_date, lambda v: _date(v, planner.install_date_format, tz),
         f"a date ({planner.install_date_format})")  # fmt: skip
    read("pickup_date", planner.pickup_date, lambda v: _date(v, planner.pickup_date_format, tz),
         f"a date ({planner.pickup_date_format})")  # fmt: skip
    read("latitude", planner.latitude, lambda v: _within(_number(v), 90.0), "a latitude (-90..90)")
    read("longitude", planner.longitude, lambda v: _within(_number(v), 180.0), "a longitude (-180..180)")
    for column in TEXT_FIELDS:
        read(column, getattr(planner, column), _text, "text")
    if values["capacity_kw"] is not None:
        values["capacity_kw"] = round(values["capacity_kw"], 6)  # W -> kW without float dust
    return values, warnings


def _non_negative(number: float | None) -> float:
    if number is None or number < 0:
        raise ValueError
    return number


def _within(number: float | None, limit: float) -> float:
    if number is None or not -limit <= number <= limit:
        raise ValueError
    return number


def _text(value: Any) -> str:
    if isinstance(value, dict | list | bool):
        raise ValueError
    text = str(value).strip()
    return text[:MAX_TEXT]
