"""A single simulated station of its own: records with every quirk of station-api.md, for the client's tests.

With `quirks=True` the picked-up records carry the "in the wild" trouble of station-api.md, one
kind of trouble per record (see `_QUIRK_SLOTS`), so that every quirk is in a record whose media
must be collected. Without, a clean station for benchmarks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from stdnum.cn import ric

from .spec import SimStationSpec
from .station_world import PICKED_UP, Fields, MediaBuilder, World, fmt_time, join_refs, region_company_name
from .world.people import GIVEN, SURNAMES

# The first names of the world's lists: a single station's records stay what they were before the world existed.
_SURNAMES = SURNAMES[:20]
_GIVEN = GIVEN[:20]
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


class ClassicStationBuilder(MediaBuilder):
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

    def _record(self, record_id: str, index: int, status: str | None, fields: Fields, id_quirk: str | None) -> dict:
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
            "pickupTime": fmt_time(updated - dt.timedelta(days=rng.randint(1, 20))) if status == PICKED_UP else None,
            "photoUrls": fields.photo_text,
            "videoUrls": fields.video_text,
            "updatedAt": fmt_time(updated),
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

    def _plain_fields(self, record_id: str) -> Fields:
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
        return Fields(join_refs(photos), join_refs(videos) if videos else None, photos, videos)

    # -- media


# ----------------------------------------------------------------------------- quirk slots
# Each slot fills the URL fields of one picked-up record with one kind of trouble.


def _slot_fullwidth_and_spaces(b: ClassicStationBuilder, rid: str) -> Fields:
    a, c, d = (b.file(rid, f"IMG_{n:04d}.jpg") for n in (1, 2, 3))
    video = b.file(rid, "VID_0001.mp4", "mp4")
    return Fields(f" {a.text} ，{c.text} , {d.text} ", video.text, [a, c, d], [video])


def _slot_empty_items(b: ClassicStationBuilder, rid: str) -> Fields:
    a, png = b.file(rid, "IMG_0001.jpg"), b.file(rid, "IMG_0002.png", "png")
    return Fields(f"{a.text},,{png.text},", "", [a, png], [])


def _slot_same_url_twice(b: ClassicStationBuilder, rid: str) -> Fields:
    a = b.file(rid, "IMG_0001.jpg")
    relative = f"/files/{rid}/IMG_0001.jpg"  # the same file once more, relative to the station host
    return Fields(f"{a.text},{a.text}, {relative}", None, [a, a, a], [])


def _slot_shared_first(b: ClassicStationBuilder, rid: str) -> Fields:
    b.shared = b.file(rid, "IMG_0001.jpg")
    own = b.file(rid, "IMG_0002.png", "png")
    return Fields(join_refs([b.shared, own]), None, [b.shared, own], [])


def _slot_shared_second(b: ClassicStationBuilder, rid: str) -> Fields:
    own = b.file(rid, "IMG_0001.jpg")
    shared = b.shared or b.file(rid, "IMG_0002.jpg")
    return Fields(f"{own.text}，{shared.text}", None, [own, shared], [])


def _slot_relative_urls(b: ClassicStationBuilder, rid: str) -> Fields:
    a = b.file(rid, "IMG_0001.jpg", form="relative")
    png = b.file(rid, "IMG_0002.png", "png", content_type="application/octet-stream", form="relative")
    video = b.file(rid, "VID_0001.mp4", "mp4", content_type=None, chunked=True, form="relative")
    return Fields(join_refs([a, png]), video.text, [a, png], [video])


def _slot_chinese_names(b: ClassicStationBuilder, rid: str) -> Fields:
    raw_relative = b.file(rid, "现场照片1.jpg", form="relative")
    raw_absolute = b.file(rid, "并网验收照片.jpg", content_type=None)
    encoded = b.file(rid, "组件铭牌.jpg", form="encoded")
    video = b.file(rid, "安装视频.mp4", "mp4", chunked=True, form="relative")
    photos = [raw_relative, raw_absolute, encoded]
    return Fields(join_refs(photos), video.text, photos, [video])


def _slot_cdn_signed(b: ClassicStationBuilder, rid: str) -> Fields:
    a = b.cdn(rid, "IMG_0001.jpg")
    png = b.cdn(rid, "IMG_0002.png", "png", content_type="application/octet-stream")
    video = b.cdn(rid, "VID_0001.mp4", "mp4", chunked=True)
    return Fields(join_refs([a, png]), video.text, [a, png], [video])


def _slot_redirects(b: ClassicStationBuilder, rid: str) -> Fields:
    photo = b.redirect(rid, "IMG_0001.jpg")
    video = b.redirect(rid, "VID_0001.mp4", "mp4", hops=2)
    return Fields(photo.text, video.text, [photo], [video])


def _slot_sniffing(b: ClassicStationBuilder, rid: str) -> Fields:
    gif = b.file(rid, "IMG_0001.gif", "gif")
    png_named_jpg = b.file(rid, "IMG_0002.jpg", "png", content_type="application/octet-stream")
    bare_jpeg = b.file(rid, "IMG_0003.jpg", content_type=None, chunked=True)
    heic = b.file(rid, "IMG_0004.heic", "heic", content_type="application/octet-stream")  # an iPhone photo
    photos = [gif, png_named_jpg, bare_jpeg, heic]
    return Fields(join_refs(photos), None, photos, [])


def _slot_html_instead_of_photo(b: ClassicStationBuilder, rid: str) -> Fields:
    a = b.file(rid, "IMG_0001.jpg")
    login_page = b.file(rid, "IMG_0002.jpg", "html", content_type="image/jpeg")  # the header lies
    return Fields(join_refs([a, login_page]), None, [a, login_page], [])


def _slot_dead_links(b: ClassicStationBuilder, rid: str) -> Fields:
    missing, a = b.dead(rid, "IMG_0001.jpg", 404), b.file(rid, "IMG_0002.jpg")
    gone = b.dead(rid, "VID_0001.mp4", 410)
    return Fields(join_refs([missing, a]), gone.text, [missing, a], [gone])


def _slot_bad_schemes(b: ClassicStationBuilder, rid: str) -> Fields:
    ftp = b.rejected("ftp://ftp.example.com/pv/IMG_0001.jpg")
    a = b.file(rid, "IMG_0002.jpg")
    local_file = b.rejected("file:///etc/passwd")
    metadata = b.rejected("http://169.254.169.254/latest/meta-data/")  # SSRF: link-local, never fetched
    photos = [ftp, a, local_file, metadata]
    return Fields(join_refs(photos), None, photos, [])


def _slot_video_only(b: ClassicStationBuilder, rid: str) -> Fields:
    video = b.file(rid, "VID_0001.mp4", "mp4", content_type="application/octet-stream")
    return Fields(None, f"  {video.text}  ", [], [video])


_QUIRK_SLOTS: list[Callable[[ClassicStationBuilder, str], Fields]] = [
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
