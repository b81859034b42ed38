"""What a photo shows, in the group's words, and which photos an installation must have.

Dialects map their photo fields (or attachment type values) to these canonical types
(pv_model.dialect.FieldMap.photo_type_of); the registry says which are required
(`required_photo_types:` in `defaults:`, overridden per region in `region_photo_types:` or per
station). Pure: the producer of the gallery index and the viewer both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pv_model.dialect import PHOTO_TYPES

# Every picked-up installation of the group needs these unless the registry says otherwise.
DEFAULT_REQUIRED_PHOTO_TYPES: tuple[str, ...] = tuple(t for t in PHOTO_TYPES if t != "other")
SEPARATOR = ","  # required types in one index cell: "roof_panorama,modules,..."


def check_photo_types(values: Sequence[str], where: str) -> tuple[str, ...]:
    """Known canonical types, in the canonical order; an unknown one fails naming it and the choices."""
    unknown = sorted(set(values) - set(PHOTO_TYPES))
    if unknown:
        raise ValueError(
            f"{where}: unknown photo type {', '.join(map(repr, unknown))}; choose from {', '.join(PHOTO_TYPES)}"
        )
    return tuple(t for t in PHOTO_TYPES if t in set(values))


def required_for(
    station_types: Sequence[str] | None,
    region_types: Sequence[str] | None,
    default_types: Sequence[str] | None,
) -> tuple[str, ...]:
    """The most specific setting wins: the station's, its region's, the group's, else the six of the group."""
    for chosen in (station_types, region_types, default_types):
        if chosen is not None:
            return tuple(chosen)
    return DEFAULT_REQUIRED_PHOTO_TYPES


def missing_types(present: Iterable[str], required: Sequence[str]) -> tuple[str, ...]:
    """The required types with no photo, in the order required."""
    have = set(present)
    return tuple(t for t in required if t not in have)


def join_types(types: Iterable[str]) -> str:
    return SEPARATOR.join(types)


def split_types(cell: str | None) -> tuple[str, ...]:
    return tuple(t for t in (cell or "").split(SEPARATOR) if t)


def completeness(complete: int, picked_up: int) -> float | None:
    """Share of picked-up installations with every required type, in percent; None when none is picked up."""
    return None if picked_up == 0 else round(100.0 * complete / picked_up, 1)


def region_photo_types(value: object, source: str) -> dict[str, tuple[str, ...]]:
    """The registry's `region_photo_types: {RC-320100: [roof_panorama, inverter]}`, checked; ValueError names
    the file, the region and the fix."""
    regions = value or {}
    if not isinstance(regions, dict) or not all(isinstance(v, list) for v in regions.values()):
        raise ValueError(
            f"{source}: 'region_photo_types' must map region company codes to lists of photo types "
            "(RC-320100: [roof_panorama, inverter])"
        )
    return {
        str(code): check_photo_types(types, f"{source}: region_photo_types: {code}") for code, types in regions.items()
    }
