"""Where the group's installations are: regional companies, their counties, towns, villages and coordinates.

The regional companies and counties are real places with their approximate centres (WGS-84, to
about a kilometre); towns and villages are made up, deterministically, from plausible name parts,
and sit within ~15 km of their county's centre. ID numbers of the owners carry the county's
administrative code (GB/T 2260), as issued for the owner's birth year.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class County:
    name: str  # 江宁区
    id_codes: tuple[str, ...]  # administrative codes an owner's ID number may start with, newest first
    lat: float
    lon: float

    @property
    def short(self) -> str:
        """江宁区 -> 江宁, 赵县 -> 赵县 (two characters stay)."""
        return self.name[:-1] if len(self.name) > 2 and self.name[-1] in "县区市" else self.name


@dataclass(frozen=True)
class RegionPlace:
    code: str  # RC-320100
    name: str  # 南京区域公司
    province: str
    city: str
    counties: tuple[County, ...]


def _c(name: str, codes: str, lat: float, lon: float) -> County:
    return County(name, tuple(codes.split()), lat, lon)


# The regional companies of the group, in the order a world takes them.
REGIONS: tuple[RegionPlace, ...] = (
    RegionPlace(
        "RC-320100",
        "南京区域公司",
        "江苏省",
        "南京市",
        (
            _c("江宁区", "320115 320121", 31.95, 118.84),
            _c("浦口区", "320111 320122", 32.06, 118.63),
            _c("六合区", "320116 320123", 32.34, 118.84),
            _c("溧水区", "320117 320124", 31.65, 119.03),
            _c("高淳区", "320118 320125", 31.33, 118.89),
        ),
    ),
    RegionPlace(
        "RC-330100",
        "杭州区域公司",
        "浙江省",
        "杭州市",
        (
            _c("桐庐县", "330122", 29.79, 119.69),
            _c("淳安县", "330127", 29.61, 119.04),
            _c("建德市", "330182", 29.47, 119.28),
            _c("富阳区", "330111 330183", 30.05, 119.96),
        ),
    ),
    RegionPlace(
        "RC-340100",
        "合肥区域公司",
        "安徽省",
        "合肥市",
        (
            _c("长丰县", "340121", 32.48, 117.17),
            _c("肥东县", "340122", 31.88, 117.47),
            _c("肥西县", "340123", 31.71, 117.16),
            _c("庐江县", "340124", 31.26, 117.29),
        ),
    ),
    RegionPlace(
        "RC-370100",
        "济南区域公司",
        "山东省",
        "济南市",
        (
            _c("章丘区", "370114 370181", 36.71, 117.53),
            _c("平阴县", "370124", 36.29, 116.46),
            _c("商河县", "370126", 37.31, 117.16),
            _c("济阳区", "370115 370125", 36.98, 117.17),
        ),
    ),
    RegionPlace(
        "RC-320200",
        "无锡区域公司",
        "江苏省",
        "无锡市",
        (
            _c("江阴市", "320281", 31.92, 120.28),
            _c("宜兴市", "320282", 31.36, 119.82),
            _c("惠山区", "320206 320211", 31.68, 120.30),
        ),
    ),
    RegionPlace(
        "RC-410100",
        "郑州区域公司",
        "河南省",
        "郑州市",
        (
            _c("中牟县", "410122", 34.72, 113.98),
            _c("巩义市", "410181", 34.75, 112.98),
            _c("荥阳市", "410182", 34.79, 113.38),
            _c("新郑市", "410184", 34.40, 113.74),
            _c("登封市", "410185", 34.45, 113.05),
        ),
    ),
    RegionPlace(
        "RC-130100",
        "石家庄区域公司",
        "河北省",
        "石家庄市",
        (
            _c("正定县", "130123", 38.15, 114.57),
            _c("赵县", "130133", 37.76, 114.78),
            _c("平山县", "130131", 38.26, 114.19),
            _c("晋州市", "130183", 38.03, 115.04),
        ),
    ),
    RegionPlace(
        "RC-360100",
        "南昌区域公司",
        "江西省",
        "南昌市",
        (
            _c("南昌县", "360121", 28.55, 115.94),
            _c("进贤县", "360124", 28.38, 116.24),
            _c("安义县", "360123", 28.84, 115.55),
            _c("新建区", "360112 360122", 28.69, 115.82),
        ),
    ),
    RegionPlace(
        "RC-510100",
        "成都区域公司",
        "四川省",
        "成都市",
        (
            _c("金堂县", "510121", 30.86, 104.41),
            _c("大邑县", "510129", 30.59, 103.52),
            _c("蒲江县", "510131", 30.20, 103.51),
            _c("崇州市", "510184", 30.63, 103.67),
            _c("邛崃市", "510183", 30.41, 103.46),
        ),
    ),
    RegionPlace(
        "RC-320300",
        "徐州区域公司",
        "江苏省",
        "徐州市",
        (
            _c("丰县", "320321", 34.70, 116.60),
            _c("沛县", "320322", 34.72, 116.94),
            _c("睢宁县", "320324", 33.91, 117.94),
            _c("邳州市", "320382", 34.33, 117.96),
        ),
    ),
)
REGION_NAMES = {region.code: region.name for region in REGIONS}

_TOWN_FIRST = "东西南北新白青石马龙凤安永和兴长双金柳杨高桃黄湖清"
_TOWN_SECOND = "山河湖桥庄集店埠岗塘圩口坝铺寨营林港溪城"
_VILLAGE_FIRST = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗东西南北前后上下大小"
_VILLAGE_SECOND = ["家湾", "庄", "家", "岗", "塘", "桥", "圩", "湾", "集", "店", "楼", "营", "坝", "山"]


@dataclass(frozen=True)
class Village:
    province: str
    city: str
    county: str
    town: str
    name: str
    lat: float
    lon: float


def towns(county: County, seed: str, count: int = 8) -> list[tuple[str, float, float]]:
    """The county's towns (镇/乡/街道) with their centres, the same for the same county and seed."""
    rng = random.Random(f"towns:{seed}:{county.name}")
    names: list[str] = []
    while len(names) < count:
        suffix = rng.choices(["镇", "乡", "街道"], [75, 15, 10])[0]
        name = rng.choice(_TOWN_FIRST) + rng.choice(_TOWN_SECOND) + suffix
        if name not in names:
            names.append(name)
    return [(name, county.lat + rng.uniform(-0.12, 0.12), county.lon + rng.uniform(-0.15, 0.15)) for name in names]


def villages(region: RegionPlace, county: County, seed: str, per_town: int = 6) -> list[Village]:
    """Every village of the county, with its centre near its town's."""
    found: list[Village] = []
    for town, lat, lon in towns(county, seed):
        rng = random.Random(f"villages:{seed}:{county.name}:{town}")
        names: set[str] = set()
        while len(names) < per_town:
            names.add(
                rng.choice(_VILLAGE_FIRST) + rng.choice(_VILLAGE_SECOND) + ("村" if rng.random() < 0.85 else "社区")
            )
        for name in sorted(names):
            v_lat, v_lon = lat + rng.uniform(-0.03, 0.03), lon + rng.uniform(-0.03, 0.03)
            found.append(Village(region.province, region.city, county.name, town, name, v_lat, v_lon))
    return found


EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def offset(lat: float, lon: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point `metres` away from (lat, lon) in the direction `bearing_deg` (0 north, 90 east)."""
    angle = metres / EARTH_RADIUS_M
    bearing = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(angle) + math.cos(p1) * math.sin(angle) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(p1), math.cos(angle) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)
