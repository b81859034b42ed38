"""What a simulated station is asked to be (`SimStationSpec`) and what a client should end up with (`ExpectedMedia`).

A station is either a single quirky station of its own (records, seed, quirks: classic.py) or one
station of a group world (`world="small:1"`: pv_simulator.world, served by world_station.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimStationSpec:
    station_id: str
    name: str = ""
    account: str = ""
    password: str = ""
    region_company_code: str = "RC-320100"
    records: int = 30
    seed: int = 1
    max_connections: int = 4
    photo_size: tuple[int, int] = (2_000, 20_000)
    video_size: tuple[int, int] = (30_000, 120_000)
    quirks: bool = True
    # Shape of a clean world (quirks=False), for benchmarks: media per record and who is picked up.
    photos_per_record: tuple[int, int] = (1, 3)
    videos_per_record: tuple[int, int] = (0, 0)
    all_picked_up: bool = False
    # The interface the station speaks: a dialect name of pv_model.dialect (conf/dialects/*.yaml).
    dialect: str = "default"
    # URL fields as v1 writes them ("text"), or in every shape stations use, varied per record ("mixed").
    url_shapes: str = "text"
    # Photos show their station, record and field written on them; False (benchmarks): a few shared
    # pictures, so a world of 10,000 files does not encode 10,000 JPEGs.
    picture_labels: bool = True
    # A station of a group world: "<size>:<seed>" (pv_simulator.world); its records, media and name come from there.
    world: str = ""
    photo_profile: str = "small"  # how big a world's photos are: tiny | small | phone (camera/render.py)
    latency_ms: float = 0.0  # this station answers every call this late (on top of the simulator's latency)
    # The station's password was changed and the group's registry still has the old one: its login fails.
    password_changed: bool = False

    def __post_init__(self) -> None:
        self.name = self.name or default_station_name(self.station_id, self.seed)
        self.account = self.account or self.station_id.lower()
        self.password = self.password or "pw-" + self.station_id.lower()


@dataclass(frozen=True)
class ExpectedMedia:
    station_id: str
    record_id: str
    id_card_no: str
    kind: str  # "photo" | "video"
    canonical_url: str
    outcome: str  # "ok" | "html" | "not_found" | "gone" | "rejected"
    sha256: str | None
    size: int | None
    ext: str | None
    picked_up: bool


def default_station_name(station_id: str, seed: int) -> str:
    places = ["金坛", "溧阳", "江宁", "宜兴", "富阳", "桐庐", "肥西", "长丰", "句容", "高淳"]
    digits = "".join(ch for ch in station_id if ch.isdigit()) or "0"
    index = int(digits) + seed
    return f"{places[index % len(places)]}{int(digits) % 100 or 1}号分布式光伏电站"
