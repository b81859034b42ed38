"""Making a group world from (size, seed): regions, stations of a long tail of sizes, their installations.

Every random choice comes from a generator seeded with the world seed and the name of what it
decides (a station, an installation), so a world is the same on every machine and a station's
installations do not change when another station changes. Photos come from photos.py, the planted
problems from planting.py, after every installation exists.
"""

from __future__ import annotations

import datetime as dt
import functools
import random

from .geography import REGIONS, RegionPlace, Village, villages
from .model import (
    NOT_PICKED_UP,
    PARTLY_PICKED_UP,
    PICKED_UP,
    WORLD_NOW,
    WORLD_START,
    Camera,
    GroupWorld,
    Installation,
    StationPlan,
)
from .people import id_card_number, mobile, owner_name
from .photos import installation_media
from .planting import plant_problems
from .sizes import WorldSize, check_seed, world_size

CAMERAS = (
    Camera("Apple", "iPhone 13", "16.6.1", heic_share=0.3),
    Camera("Apple", "iPhone 14 Pro", "17.2.1", heic_share=0.3),
    Camera("HUAWEI", "ELS-AN00", "ELS-AN00 4.0.0.170(C00E170R2P3)"),
    Camera("HUAWEI", "NOH-AN00", "NOH-AN00 4.0.0.125(C00E120R3P2)"),
    Camera("Xiaomi", "M2012K11AC", "MIUI 14.0.6"),
    Camera("Xiaomi", "2201123C", "MIUI 14.0.3"),
    Camera("OPPO", "PEEM00", "ColorOS 13.1"),
    Camera("vivo", "V2134A", "OriginOS 3"),
    Camera("HONOR", "ANY-AN00", "MagicOS 7.0"),
    Camera("samsung", "SM-G9910", "G9910ZCS4CWD1"),
)
_STATION_KINDS = ["分布式光伏电站", "户用光伏电站", "整县推进光伏项目", "屋顶光伏电站"]
_MEDIA_HOSTS = ["station", "cdn", "station", "redirect"]
_MODULE_WATTS = [
    (dt.date(2024, 1, 1), (440, 450, 540)),
    (dt.date(2025, 1, 1), (540, 550, 575)),
    (dt.date(2026, 1, 1), (575, 590, 620)),
]


def group_world(size: str | WorldSize = "small", seed: int = 1) -> GroupWorld:
    """The world of this size and seed (cached: a process builds each world once)."""
    chosen = world_size(size) if isinstance(size, str) else size
    return _build(chosen, check_seed(seed))


@functools.lru_cache(maxsize=8)
def _build(size: WorldSize, seed: int) -> GroupWorld:
    rng = random.Random(f"world:{seed}:{size.label}")
    regions = REGIONS[: size.regions]
    sizes = station_sizes(size, rng)
    health = health_by_rank(size.stations)
    order = list(range(size.stations))
    rng.shuffle(order)  # ST-0001 is not always the largest
    region_of = _regions_of_stations(size.stations, regions, rng)
    taken_ids: set[str] = set()
    stations = []
    for rank, position in enumerate(order):
        station_id = f"ST-{position + 1:04d}"
        plan = _station(station_id, regions[region_of[position]], health[rank], seed, rank == 3)
        plan.installations = _installations(plan, regions[region_of[position]], sizes[rank], seed, size, taken_ids)
        stations.append(plan)
    stations.sort(key=lambda plan: plan.station_id)
    world = GroupWorld(size, seed, regions, stations)
    plant_problems(world, random.Random(f"planting:{seed}:{size.label}"))
    return world


def station_sizes(size: WorldSize, rng: random.Random) -> list[int]:
    """Installations per station, largest first: a long tail (Zipf, exponent 1), at least 3 each."""
    weights = [1 / (rank + 1) for rank in range(size.stations)]
    scale = size.installations / sum(weights)
    sizes = [max(3, round(w * scale * rng.uniform(0.85, 1.15))) for w in weights]
    return sorted(sizes, reverse=True)


def health_by_rank(stations: int) -> list[str]:
    """What kind of station each size rank is: trouble at a big one, a mid one and a small one."""
    health = ["healthy"] * stations
    health[1], health[2] = "broken_links", "stale"
    health[stations // 2] = "login_fails"
    health[stations - 2] = "slow"
    if stations >= 30:
        health[stations // 3] = "broken_links"
    return health


def _regions_of_stations(count: int, regions: tuple[RegionPlace, ...], rng: random.Random) -> list[int]:
    """Every region gets a station; the rest lean to the first regions (the group grew from there)."""
    weights = [1 / (k + 1) ** 0.6 for k in range(len(regions))]
    chosen = list(range(len(regions))) + rng.choices(range(len(regions)), weights, k=count - len(regions))
    rng.shuffle(chosen)
    return chosen


def _station(station_id: str, region: RegionPlace, health: str, seed: int, sloppy: bool) -> StationPlan:
    rng = random.Random(f"station:{seed}:{station_id}")
    counties = rng.sample(region.counties, k=min(len(region.counties), rng.choice([1, 1, 1, 2])))
    kind = rng.choice(_STATION_KINDS)
    name = f"{region.city[:-1]}{counties[0].short}{kind}"
    if int(station_id[-2:]) % 5 == 0:
        name += "二期"
    plan = StationPlan(
        station_id=station_id,
        name=name,
        region_code=region.code,
        counties=tuple(c.name for c in counties),
        health=health,
        pickup_rate=round(rng.uniform(0.5, 0.95), 2),
        media_host=rng.choice(_MEDIA_HOSTS),
        cameras=tuple(rng.sample(CAMERAS, k=rng.randint(2, 4))),
        latency_ms=400.0 if health == "slow" else 0.0,
        stale_days=24 if health == "stale" else 0,
        discipline=0.45 if sloppy else round(rng.uniform(0.03, 0.2), 3),
    )
    return plan


def _installations(
    plan: StationPlan, region: RegionPlace, count: int, seed: int, size: WorldSize, taken_ids: set[str]
) -> list[Installation]:
    rng = random.Random(f"installations:{seed}:{plan.station_id}")
    counties = [c for c in region.counties if c.name in plan.counties]
    places = [v for county in counties for v in villages(region, county, str(seed))]
    # A station works some villages: a few dozen at most, so neighbours share a village.
    places = rng.sample(places, k=min(len(places), max(3, count // 8)))
    opened = WORLD_START + dt.timedelta(days=rng.randint(0, 540))
    codes = {county.name: (*county.id_codes, region.code.removeprefix("RC-")) for county in counties}
    # The stale station went on working after its last collection: its newest records came since.
    recent = max(1, count // 5) if plan.stale_days else 0
    return [
        _installation(plan, f"R{n:05d}", rng.choice(places), codes, opened, seed, size, taken_ids, n > count - recent)
        for n in range(1, count + 1)
    ]


def _installation(
    plan: StationPlan,
    record_id: str,
    village: Village,
    codes: dict[str, tuple[str, ...]],
    opened: dt.date,
    seed: int,
    size: WorldSize,
    taken_ids: set[str],
    since_stale: bool = False,
) -> Installation:
    rng = random.Random(f"installation:{seed}:{plan.station_id}:{record_id}")
    owner = owner_name(rng)
    created = _created(rng, opened)
    if since_stale:
        created = WORLD_NOW.date() - dt.timedelta(days=rng.randint(1, plan.stale_days - 2))
    status = rng.choices(
        [PICKED_UP, NOT_PICKED_UP, PARTLY_PICKED_UP], [plan.pickup_rate, (1 - plan.pickup_rate) * 0.7, 0.3]
    )[0]
    if (WORLD_NOW.date() - created).days < 20 and status == PICKED_UP and rng.random() < 0.5:
        status = NOT_PICKED_UP  # the newest records are mostly still waiting for their equipment
    pickup_time = install_date = None
    updated = dt.datetime.combine(created, dt.time(rng.randint(8, 19), rng.randint(0, 59), rng.randint(0, 59)))
    if status == PICKED_UP:
        pickup_time = updated + dt.timedelta(days=rng.randint(2, 25), hours=rng.randint(0, 3))
        install_date = (pickup_time + dt.timedelta(days=rng.randint(1, 12))).date()
        updated = max(pickup_time, dt.datetime.combine(install_date, dt.time(18, 0))) + dt.timedelta(
            days=rng.randint(0, 6), minutes=rng.randint(0, 600)
        )
    elif status == PARTLY_PICKED_UP:
        pickup_time = updated + dt.timedelta(days=rng.randint(2, 25))
        updated = pickup_time + dt.timedelta(hours=rng.randint(1, 48))
    updated = min(updated, WORLD_NOW - dt.timedelta(minutes=rng.randint(5, 600)))
    if pickup_time is not None:
        pickup_time = min(pickup_time, updated)
    if install_date is not None:
        install_date = min(install_date, updated.date())
    house = rng.randint(1, 199)
    address = f"{village.province}{village.city}{village.county}{village.town}{village.name}{house}号"
    installation = Installation(
        record_id=record_id,
        project_name=f"{owner}户用分布式光伏项目",
        owner_name=owner,
        id_card_no=id_card_number(rng, codes[village.county], taken_ids),
        phone=mobile(rng),
        province=village.province,
        city=village.city,
        county=village.county,
        town=village.town,
        village=village.name,
        address=address,
        lat=round(village.lat + rng.uniform(-0.004, 0.004), 6),
        lon=round(village.lon + rng.uniform(-0.004, 0.004), 6),
        capacity_kw=_capacity(rng, created),
        pickup_status=status,
        install_date=install_date,
        pickup_time=pickup_time,
        updated_at=updated,
    )
    installation.photos, installation.videos = installation_media(plan, installation, rng, seed, size.video_share)
    return installation


def _created(rng: random.Random, opened: dt.date) -> dt.date:
    """When the record was made: more in recent months (the group grows), fewer around the Spring Festival."""
    span = (WORLD_NOW.date() - opened).days - 3
    while True:
        day = opened + dt.timedelta(days=int(span * rng.random() ** 0.7))
        if day.month != 2 or rng.random() < 0.45:
            return day


def _capacity(rng: random.Random, created: dt.date) -> float:
    """kW: modules times their watts (newer modules are bigger); a few commercial roofs of 80-400 kW."""
    watts = next(w for start, w in reversed(_MODULE_WATTS) if created >= start)
    modules = rng.randint(150, 700) if rng.random() < 0.03 else max(8, round(rng.gauss(22, 7)))
    return round(modules * rng.choice(watts) / 1000, 2)
