"""The group world as values: regions, stations, installations, their photos and what was planted in them.

Pure data, made by generate.py and planting.py; served by the simulator (world_station.py), drawn by
pv_simulator.camera, and summed up in the truth file (truth.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .geography import RegionPlace
from .sizes import WorldSize

PICKED_UP, NOT_PICKED_UP, PARTLY_PICKED_UP = "已提货", "未提货", "部分提货"
# The group's default: every picked-up installation shows these (issue 25 reads the registry's list).
REQUIRED_PHOTO_TYPES = ("roof_panorama", "modules", "inverter", "meter_box", "grid_connection", "nameplate")
# The world's clock: every time in a world is at or before this (station local time, Asia/Shanghai).
WORLD_NOW = dt.datetime(2026, 11, 15, 18, 0, 0)
WORLD_START = dt.date(2024, 1, 1)

# Planted problems (Photo.planted) and the outcome of serving a file (Photo.outcome).
REUSE_SOURCE, REUSE_COPY, GPS_FAR, CAPTURED_EARLY = "reuse_source", "reuse_copy", "gps_far", "captured_early"
SERVED_OK, NOT_FOUND, GONE, HTML_PAGE = "ok", "not_found", "gone", "html"
REUSE_TRANSFORMS = ("exact", "resized", "recompressed", "cropped", "rotated")


@dataclass(frozen=True)
class Camera:
    make: str
    model: str
    software: str
    heic_share: float = 0.0  # an iPhone saves some photos as HEIC


@dataclass(frozen=True)
class Exif:
    """What a phone writes into a photo: who made it, when (local time), where, and how it is turned."""

    make: str
    model: str
    software: str
    taken: dt.datetime
    lat: float | None
    lon: float | None
    altitude_m: float | None
    orientation: int = 1  # 1 upright; 6 stored turned (a portrait shot), 3 upside down, 8 the other way


@dataclass(frozen=True)
class Photo:
    name: str  # the file name in the URL, unique within its installation
    type: str  # canonical photo type (pv_model.dialect.PHOTO_TYPES)
    fmt: str  # jpeg | heic | png | webp
    scene: str  # what is drawn: the photo type, or screenshot / document / site for `other`
    scene_seed: int  # what the picture shows; a reused photo keeps its source's
    transform: str = "none"  # REUSE_TRANSFORMS for a planted copy
    portrait: bool = False
    exif: Exif | None = None
    outcome: str = SERVED_OK
    planted: tuple[str, ...] = ()
    source: str | None = None  # a reused copy: the photo_id it was made from

    def photo_id(self, station_id: str, record_id: str) -> str:
        return f"{station_id}/{record_id}/{self.name}"


@dataclass(frozen=True)
class Video:
    name: str
    seed: int
    size: int  # bytes, padded (pv_simulator.media_gen)
    outcome: str = SERVED_OK


@dataclass
class Installation:
    record_id: str
    project_name: str
    owner_name: str
    id_card_no: str
    phone: str
    province: str
    city: str
    county: str
    town: str
    village: str
    address: str
    lat: float
    lon: float
    capacity_kw: float
    pickup_status: str
    install_date: dt.date | None
    pickup_time: dt.datetime | None
    updated_at: dt.datetime
    photos: list[Photo] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)

    @property
    def picked_up(self) -> bool:
        return self.pickup_status == PICKED_UP

    def types_given(self) -> set[str]:
        return {photo.type for photo in self.photos}

    def missing_types(self) -> list[str]:
        """Required types with no photo URL in the record (picked-up installations only)."""
        if not self.picked_up:
            return []
        given = self.types_given()
        return [kind for kind in REQUIRED_PHOTO_TYPES if kind not in given]

    def unavailable_types(self) -> list[str]:
        """Required types whose every photo fails to download (a URL is given, no file comes)."""
        if not self.picked_up:
            return []
        served = {photo.type for photo in self.photos if photo.outcome == SERVED_OK}
        return [kind for kind in REQUIRED_PHOTO_TYPES if kind in self.types_given() and kind not in served]


@dataclass
class StationPlan:
    station_id: str
    name: str
    region_code: str
    counties: tuple[str, ...]
    health: str  # sizes.HEALTH_KINDS
    pickup_rate: float
    media_host: str  # station | cdn | redirect: where the station's files are
    cameras: tuple[Camera, ...]
    discipline: float = 0.1  # share of its picked-up installations that miss a required photo type
    latency_ms: float = 0.0  # the slow station answers every call this late
    stale_days: int = 0  # the stale station was last collected this many days before WORLD_NOW
    installations: list[Installation] = field(default_factory=list)

    @property
    def stale_since(self) -> dt.datetime | None:
        return WORLD_NOW - dt.timedelta(days=self.stale_days) if self.stale_days else None


@dataclass
class GroupWorld:
    size: WorldSize
    seed: int
    regions: tuple[RegionPlace, ...]
    stations: list[StationPlan]

    def station(self, station_id: str) -> StationPlan:
        for plan in self.stations:
            if plan.station_id == station_id:
                return plan
        raise KeyError(f"no station {station_id!r} in the {self.size.label} world (seed {self.seed})")

    def region_name(self, code: str) -> str:
        return next(region.name for region in self.regions if region.code == code)

    def photos(self):
        """(station, installation, photo) for every photo of the world."""
        for plan in self.stations:
            for installation in plan.installations:
                for photo in installation.photos:
                    yield plan, installation, photo
