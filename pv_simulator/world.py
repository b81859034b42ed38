"""The generated world of one simulated station: records, media files and URL routes.

Pure: the same spec, base URL and CDN base always give the same world. The server
only looks things up here; nothing in this module touches the network.

With `quirks=True` the picked-up records carry the "in the wild" trouble of
docs/station-api.md, one kind of trouble per record (see `_QUIRK_SLOTS`), so that
every quirk is in a record whose media must be collected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from stdnum.cn import ric

from .media_gen import CONTENT_TYPES, EXTENSIONS, html_login_page, iter_media, media_sha256, min_size
from .pictures import picture_label

PICKED_UP = "已提货"
REGION_COMPANY_NAMES = {
    "RC-320100": "南京区域公司",
    "RC-320200": "无锡区域公司",
    "RC-330100": "杭州区域公司",
    "RC-340100": "合肥区域公司",
}
CDN_EXPIRES = "1893456000"  # far in the future: links in the generated world stay valid


# ----------------------------------------------------------------------------- public types


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
    # The interface the station speaks: a dialect name of resources.interface (conf/dialects/*.yaml).
    dialect: str = "default"
    # URL fields as v1 writes them ("text"), or in every shape stations use, varied per record ("mixed").
    url_shapes: str = "text"
    # Photos show their station, record and field written on them; False (benchmarks): a few shared
    # pictures, so a world of 10,000 files does not encode 10,000 JPEGs.
    picture_labels: bool = True

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


@dataclass(frozen=True)
class MediaFile:
    """One file as the simulator serves it."""

    kind: str  # "jpeg" | "png" | "mp4" | "gif" | "html"
    seed: int
    size: int
    content_type: str | None  # None: the response carries no Content-Type
    chunked: bool = False  # True: no Content-Length, chunked transfer encoding
    label: str = ""  # written on the picture

    def iter_bytes(self, chunk: int = 64 * 1024):
        if self.kind == "html":
            return iter([html_login_page()])
        return iter_media(self.kind, self.seed, self.size, chunk, self.label)

    def sha256(self) -> str:
        if self.kind == "html":
            return hashlib.sha256(html_login_page()).hexdigest()
        return media_sha256(self.kind, self.seed, self.size, self.label)


@dataclass(frozen=True)
class FileRoute:
    file: MediaFile
    # CDN only: the raw query values a request must carry (Expires, Signature).
    signed_query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RedirectRoute:
    status: int  # 301 | 302
    location: str


@dataclass(frozen=True)
class StatusRoute:
    status: int  # e.g. 410


Route = FileRoute | RedirectRoute | StatusRoute


@dataclass(frozen=True)
class MediaRef:
    """One media URL as written in a record field, and what is really behind it."""

    text: str
    canonical_url: str
    outcome: str
    file: MediaFile | None = None


@dataclass
class World:
    spec: SimStationSpec
    base_url: str
    info: dict
    records: list[dict]
    station_routes: dict[str, Route]  # decoded path -> route, on the station host
    cdn_routes: dict[str, Route]  # decoded path -> route, on the CDN
    media: list[tuple[str, str, MediaRef]] = field(default_factory=list)  # (record_id, "photo"/"video", ref)

    def expected_media(self) -> list[ExpectedMedia]:
        by_id = {record["recordId"]: record for record in self.records}
        seen: set[tuple[str, str]] = set()
        expected = []
        for record_id, kind, ref in self.media:
            if (record_id, ref.canonical_url) in seen:
                continue
            seen.add((record_id, ref.canonical_url))
            record = by_id[record_id]
            expected.append(_expected(self.spec.station_id, record, kind, ref))
        return expected


def _expected(station_id: str, record: dict, kind: str, ref: MediaRef) -> ExpectedMedia:
    ok = ref.outcome == "ok"
    return ExpectedMedia(
        station_id=station_id,
        record_id=record["recordId"],
        id_card_no=record["idCardNo"],
        kind=kind,
        canonical_url=ref.canonical_url,
        outcome=ref.outcome,
        sha256=ref.file.sha256() if ok else None,
        size=ref.file.size if ok else None,
        ext=EXTENSIONS[ref.file.kind] if ok else None,
        picked_up=record["pickupStatus"] == PICKED_UP,
    )


def default_station_name(station_id: str, seed: int) -> str:
    places = ["金坛", "溧阳", "江宁", "宜兴", "富阳", "桐庐", "肥西", "长丰", "句容", "高淳"]
    digits = "".join(ch for ch in station_id if ch.isdigit()) or "0"
    index = int(digits) + seed
    return f"{places[index % len(places)]}{int(digits) % 100 or 1}号分布式光伏电站"


def region_company_name(code: str) -> str:
    return REGION_COMPANY_NAMES.get(code, f"{code}区域公司")


def cdn_signature(path: str) -> str:
    """The raw (already percent-encoded) signature for a CDN path: always contains %2B."""
    digest = hashlib.sha256(("sim-cdn:" + path).encode()).hexdigest()
    return f"{digest[:12]}%2B{digest[12:24]}%3D"


def build_world(spec: SimStationSpec, base_url: str, cdn_base: str) -> World:
    """Generate the station's world; `base_url`/`cdn_base` are like "http://127.0.0.1:8001"."""
    return _WorldBuilder(spec, base_url.rstrip("/"), cdn_base.rstrip("/")).build()


# ----------------------------------------------------------------------------- builder

_AUTO = "auto"  # content_type default: the right type for the kind

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
]
# (area code in the ID number, address prefix); codes that stdnum knows for births 1950-2000
_AREAS = [
    ("320121", "江苏省南京市江宁区"),
    ("320122", "江苏省南京市浦口区"),
    ("330122", "浙江省杭州市桐庐县"),
    ("330127", "浙江省杭州市淳安县"),
    ("340121", "安徽省合肥市长丰县"),
]
_VILLAGES = ["东山村", "西岗村", "南塘村", "北湖村", "青龙村", "白马村", "桃园村", "石桥村"]
_WORLD_START = dt.datetime(2026, 10, 1, 8, 0, 0)


@dataclass
class _Fields:
    """The two URL fields of a record and the media refs written into them."""

    photo_text: str | None
    video_text: str | None
    photos: list[MediaRef]
    videos: list[MediaRef]


class _WorldBuilder:
    def __init__(self, spec: SimStationSpec, base_url: str, cdn_base: str):
        self.spec = spec
        self.base_url = base_url
        self.cdn_base = cdn_base
        self.rng = random.Random(f"{spec.seed}:{spec.station_id}")
        self.station_routes: dict[str, Route] = {}
        self.cdn_routes: dict[str, Route] = {}
        self.shared: MediaRef | None = None  # the URL that two picked-up records share
        self.id_cards: set[str] = set()

    # -- world

    def build(self) -> World:
        count = self.spec.records
        statuses = self._pickup_statuses(count)
        picked = [i for i, status in enumerate(statuses) if status == PICKED_UP]
        slots = dict(zip(picked, _QUIRK_SLOTS, strict=False)) if self.spec.quirks else {}
        id_quirks = dict(zip(picked, _ID_CARD_QUIRKS, strict=False)) if self.spec.quirks else {}
        records, media = [], []
        for index in range(count):
            record_id = f"R{index + 1:04d}"
            slot = slots.get(index)
            fields = slot(self, record_id) if slot else self._plain_fields(record_id)
            record = self._record(record_id, index, statuses[index], fields, id_quirks.get(index))
            records.append(record)
            media += [(record_id, "photo", ref) for ref in fields.photos]
            media += [(record_id, "video", ref) for ref in fields.videos]
        info = {
            "stationCode": self.spec.station_id,
            "stationName": self.spec.name,
            "regionCompanyCode": self.spec.region_company_code,
            "regionCompanyName": region_company_name(self.spec.region_company_code),
        }
        return World(self.spec, self.base_url, info, records, self.station_routes, self.cdn_routes, media)

    def _pickup_statuses(self, count: int) -> list[str | None]:
        if self.spec.all_picked_up:
            return [PICKED_UP] * count
        if self.spec.quirks:
            choices, weights = [PICKED_UP, "未提货", "部分提货", None], [60, 20, 12, 8]
        else:
            choices, weights = [PICKED_UP, "未提货", "部分提货"], [60, 25, 15]
        statuses = self.rng.choices(choices, weights, k=count)
        if self.spec.quirks:  # every quirk needs a picked-up record to live in
            needed = min(len(_QUIRK_SLOTS), count) - statuses.count(PICKED_UP)
            for i in range(count):
                if needed <= 0:
                    break
                if statuses[i] != PICKED_UP:
                    statuses[i], needed = PICKED_UP, needed - 1
        return statuses

    # -- records

    def _record(self, record_id: str, index: int, status: str | None, fields: _Fields, id_quirk: str | None) -> dict:
        rng = self.rng
        area_code, area_name = rng.choice(_AREAS)
        owner = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        # Within 45 days of the start, so every record is in the past for the change sensor.
        updated = _WORLD_START + dt.timedelta(seconds=rng.randint(0, 45 * 86400))
        capacity = round(rng.uniform(3, 40), 2)
        quirky = self.spec.quirks
        return {
            "recordId": record_id,
            "projectName": f"{owner}户用分布式光伏项目",
            "ownerName": owner,
            "idCardNo": self._id_card(area_code, id_quirk),
            "phone": "--" if quirky and index % 11 == 7 else "1" + rng.choice("3578") + f"{rng.randrange(10**9):09d}",
            "address": f"{area_name}{rng.choice(_VILLAGES)}{rng.randint(1, 199)}号",
            "capacityKw": str(capacity) if quirky and index % 4 == 1 else capacity,
            "pickupStatus": status,
            "pickupTime": _fmt(updated - dt.timedelta(days=rng.randint(1, 20))) if status == PICKED_UP else None,
            "photoUrls": fields.photo_text,
            "videoUrls": fields.video_text,
            "updatedAt": _fmt(updated),
        }

    def _id_card(self, area_code: str, quirk: str | None) -> str:
        """A unique 18-character ID with a valid GB 11643 check digit, shaped by `quirk`."""
        want_x = quirk in ("lower_x", "upper_x")
        while True:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randint(0, 18_000))
            body = f"{area_code}{birth:%Y%m%d}{self.rng.randint(0, 999):03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum ignores the last char
            if number in self.id_cards or (want_x and not number.endswith("X")) or not ric.is_valid(number):
                continue
            self.id_cards.add(number)
            break
        if quirk == "lower_x":
            return number[:-1] + "x"
        if quirk == "spaces":
            return f" {number} "
        if quirk == "trailing_spaces":
            return number + "  "
        return number

    def _plain_fields(self, record_id: str) -> _Fields:
        photos = [
            self.file(record_id, f"IMG_{n:04d}.jpg")
            for n in range(1, self.rng.randint(*self.spec.photos_per_record) + 1)
        ]
        videos = [
            self.file(record_id, f"VID_{n:04d}.mp4", "mp4")
            for n in range(1, self.rng.randint(*self.spec.videos_per_record) + 1)
        ]
        if self.spec.quirks and not videos and self.rng.random() < 0.25:
            videos = [self.file(record_id, "VID_0001.mp4", "mp4")]
        return _Fields(_join(photos), _join(videos) if videos else None, photos, videos)

    # -- media

    def _media_file(self, location: str, kind: str, content_type: str | None, chunked: bool) -> MediaFile:
        digest = hashlib.sha256(f"{self.spec.seed}:{self.spec.station_id}:{location}".encode()).digest()
        seed = int.from_bytes(digest[:8], "big")
        if kind == "html":
            size = len(html_login_page())
        else:
            low, high = self.spec.video_size if kind == "mp4" else self.spec.photo_size
            size = max(self.rng.randint(low, high), min_size(kind))
        if content_type == _AUTO:
            content_type = CONTENT_TYPES.get(kind, "text/html; charset=utf-8")
        label = picture_label(self.spec.station_id, location, kind) if self.spec.picture_labels else ""
        return MediaFile(kind, seed, size, content_type, chunked, label)

    def file(
        self,
        record_id: str,
        name: str,
        kind: str = "jpeg",
        *,
        content_type: str | None = _AUTO,
        chunked: bool = False,
        form: str = "absolute",
    ) -> MediaRef:
        """A file on the station host; `form` is how the record writes it: absolute, relative or encoded."""
        path = f"/files/{record_id}/{name}"
        media = self._media_file("station:" + path, kind, content_type, chunked)
        self.station_routes[path] = FileRoute(media)
        outcome = "html" if kind == "html" else "ok"
        return MediaRef(self._written(path, form), self.base_url + quote(path), outcome, media)

    def _written(self, path: str, form: str) -> str:
        return {"absolute": self.base_url + path, "relative": path, "encoded": self.base_url + quote(path)}[form]

    def _cdn_url(
        self, record_id: str, name: str, kind: str, content_type: str | None, chunked: bool
    ) -> tuple[str, MediaFile]:
        path = f"/cdn/{self.spec.station_id}/{record_id}/{name}"
        media = self._media_file("cdn:" + path, kind, content_type, chunked)
        signed = (("Expires", CDN_EXPIRES), ("Signature", cdn_signature(path)))
        self.cdn_routes[path] = FileRoute(media, signed)
        query = "&".join(f"{key}={value}" for key, value in signed)
        return f"{self.cdn_base}{quote(path)}?{query}", media

    def cdn(
        self,
        record_id: str,
        name: str,
        kind: str = "jpeg",
        *,
        content_type: str | None = _AUTO,
        chunked: bool = False,
    ) -> MediaRef:
        """A signed URL on the CDN (another host: no station token may go there)."""
        url, media = self._cdn_url(record_id, name, kind, content_type, chunked)
        return MediaRef(url, url, "ok", media)

    def redirect(self, record_id: str, name: str, kind: str = "jpeg", *, hops: int = 1) -> MediaRef:
        """A station URL that redirects (302, or 302 then 301) to a signed CDN URL."""
        target, media = self._cdn_url(record_id, name, kind, _AUTO, False)
        path = f"/redirect/{record_id}/{name}"
        if hops == 1:
            self.station_routes[path] = RedirectRoute(302, target)
        else:
            moved = f"/moved/{record_id}/{name}"
            self.station_routes[path] = RedirectRoute(302, moved)  # relative Location, as nginx often sends
            self.station_routes[moved] = RedirectRoute(301, target)
        url = self.base_url + quote(path)
        return MediaRef(url, url, "ok", media)

    def dead(self, record_id: str, name: str, status: int) -> MediaRef:
        path = f"/files/{record_id}/{name}"
        if status != 404:  # unknown paths are 404 anyway
            self.station_routes[path] = StatusRoute(status)
        url = self.base_url + quote(path)
        return MediaRef(url, url, {404: "not_found", 410: "gone"}[status])

    @staticmethod
    def rejected(url: str) -> MediaRef:
        return MediaRef(url, url, "rejected")


def _join(refs: list[MediaRef], sep: str = ",") -> str:
    return sep.join(ref.text for ref in refs)


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# ----------------------------------------------------------------------------- quirk slots
# Each slot fills the URL fields of one picked-up record with one kind of trouble.


def _slot_fullwidth_and_spaces(b: _WorldBuilder, rid: str) -> _Fields:
    a, c, d = (b.file(rid, f"IMG_{n:04d}.jpg") for n in (1, 2, 3))
    video = b.file(rid, "VID_0001.mp4", "mp4")
    return _Fields(f" {a.text} ，{c.text} , {d.text} ", video.text, [a, c, d], [video])


def _slot_empty_items(b: _WorldBuilder, rid: str) -> _Fields:
    a, png = b.file(rid, "IMG_0001.jpg"), b.file(rid, "IMG_0002.png", "png")
    return _Fields(f"{a.text},,{png.text},", "", [a, png], [])


def _slot_same_url_twice(b: _WorldBuilder, rid: str) -> _Fields:
    a = b.file(rid, "IMG_0001.jpg")
    relative = f"/files/{rid}/IMG_0001.jpg"  # the same file once more, relative to the station host
    return _Fields(f"{a.text},{a.text}, {relative}", None, [a, a, a], [])


def _slot_shared_first(b: _WorldBuilder, rid: str) -> _Fields:
    b.shared = b.file(rid, "IMG_0001.jpg")
    own = b.file(rid, "IMG_0002.png", "png")
    return _Fields(_join([b.shared, own]), None, [b.shared, own], [])


def _slot_shared_second(b: _WorldBuilder, rid: str) -> _Fields:
    own = b.file(rid, "IMG_0001.jpg")
    shared = b.shared or b.file(rid, "IMG_0002.jpg")
    return _Fields(f"{own.text}，{shared.text}", None, [own, shared], [])


def _slot_relative_urls(b: _WorldBuilder, rid: str) -> _Fields:
    a = b.file(rid, "IMG_0001.jpg", form="relative")
    png = b.file(rid, "IMG_0002.png", "png", content_type="application/octet-stream", form="relative")
    video = b.file(rid, "VID_0001.mp4", "mp4", content_type=None, chunked=True, form="relative")
    return _Fields(_join([a, png]), video.text, [a, png], [video])


def _slot_chinese_names(b: _WorldBuilder, rid: str) -> _Fields:
    raw_relative = b.file(rid, "现场照片1.jpg", form="relative")
    raw_absolute = b.file(rid, "并网验收照片.jpg", content_type=None)
    encoded = b.file(rid, "组件铭牌.jpg", form="encoded")
    video = b.file(rid, "安装视频.mp4", "mp4", chunked=True, form="relative")
    photos = [raw_relative, raw_absolute, encoded]
    return _Fields(_join(photos), video.text, photos, [video])


def _slot_cdn_signed(b: _WorldBuilder, rid: str) -> _Fields:
    a = b.cdn(rid, "IMG_0001.jpg")
    png = b.cdn(rid, "IMG_0002.png", "png", content_type="application/octet-stream")
    video = b.cdn(rid, "VID_0001.mp4", "mp4", chunked=True)
    return _Fields(_join([a, png]), video.text, [a, png], [video])


def _slot_redirects(b: _WorldBuilder, rid: str) -> _Fields:
    photo = b.redirect(rid, "IMG_0001.jpg")
    video = b.redirect(rid, "VID_0001.mp4", "mp4", hops=2)
    return _Fields(photo.text, video.text, [photo], [video])


def _slot_sniffing(b: _WorldBuilder, rid: str) -> _Fields:
    gif = b.file(rid, "IMG_0001.gif", "gif")
    png_named_jpg = b.file(rid, "IMG_0002.jpg", "png", content_type="application/octet-stream")
    bare_jpeg = b.file(rid, "IMG_0003.jpg", content_type=None, chunked=True)
    heic = b.file(rid, "IMG_0004.heic", "heic", content_type="application/octet-stream")  # an iPhone photo
    photos = [gif, png_named_jpg, bare_jpeg, heic]
    return _Fields(_join(photos), None, photos, [])


def _slot_html_instead_of_photo(b: _WorldBuilder, rid: str) -> _Fields:
    a = b.file(rid, "IMG_0001.jpg")
    login_page = b.file(rid, "IMG_0002.jpg", "html", content_type="image/jpeg")  # the header lies
    return _Fields(_join([a, login_page]), None, [a, login_page], [])


def _slot_dead_links(b: _WorldBuilder, rid: str) -> _Fields:
    missing, a = b.dead(rid, "IMG_0001.jpg", 404), b.file(rid, "IMG_0002.jpg")
    gone = b.dead(rid, "VID_0001.mp4", 410)
    return _Fields(_join([missing, a]), gone.text, [missing, a], [gone])


def _slot_bad_schemes(b: _WorldBuilder, rid: str) -> _Fields:
    ftp = b.rejected("ftp://ftp.example.com/pv/IMG_0001.jpg")
    a = b.file(rid, "IMG_0002.jpg")
    local_file = b.rejected("file:///etc/passwd")
    metadata = b.rejected("http://169.254.169.254/latest/meta-data/")  # SSRF: link-local, never fetched
    photos = [ftp, a, local_file, metadata]
    return _Fields(_join(photos), None, photos, [])


def _slot_video_only(b: _WorldBuilder, rid: str) -> _Fields:
    video = b.file(rid, "VID_0001.mp4", "mp4", content_type="application/octet-stream")
    return _Fields(None, f"  {video.text}  ", [], [video])


_QUIRK_SLOTS: list[Callable[[_WorldBuilder, str], _Fields]] = [
    _slot_fullwidth_and_spaces,
    _slot_empty_items,
    _slot_same_url_twice,
    _slot_shared_first,
    _slot_shared_second,
    _slot_relative_urls,
    _slot_chinese_names,
    _slot_cdn_signed,
    _slot_redirects,
    _slot_sniffing,
    _slot_html_instead_of_photo,
    _slot_dead_links,
    _slot_bad_schemes,
    _slot_video_only,
]
_ID_CARD_QUIRKS = ["lower_x", "spaces", "upper_x", "lower_x", "trailing_spaces"]


def inserted_record(spec: SimStationSpec, record_id: str, updated_at: str) -> dict:
    """A record someone just created at the station: not picked up and without media yet."""
    rng = random.Random(f"{spec.seed}:{spec.station_id}:{record_id}")
    body = f"320121{rng.randint(1960, 1999)}0101{rng.randint(0, 999):03d}"
    owner = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
    return {
        "recordId": record_id,
        "projectName": f"{owner}户用分布式光伏项目",
        "ownerName": owner,
        "idCardNo": body + ric.calc_check_digit(body + "0"),
        "phone": "139" + f"{rng.randrange(10**8):08d}",
        "address": "江苏省南京市江宁区新建村1号",
        "capacityKw": 8.8,
        "pickupStatus": "未提货",
        "pickupTime": None,
        "photoUrls": None,
        "videoUrls": None,
        "updatedAt": updated_at,
    }
