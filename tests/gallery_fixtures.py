"""Test data for the gallery: a contract-conformant gallery index (issue 12's columns) with real,
decodable originals and previews (Pillow JPEG/WebP, a PyAV H.264 MP4) in any object store.

Object keys are made the way the pipeline makes them - `{region}/{station}/{raw ID}_{urlhash}.ext` -
so a test that finds no key and no raw ID in a page means something.

When the demo produces a real index (issue 12 merged), `browser_data()` in test_gallery_browser.py
is the one function to switch to the demo's store.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw, ImageFont

from pv_gallery.index import INDEX_KEY
from pv_model.identity import mask_id
from resources.object_store import ObjectStore

INDEX_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("region_company_code", pa.string()),
        ("station_id", pa.string()),
        ("station_name", pa.string()),
        ("record_id", pa.string()),
        ("pickup_status", pa.string()),
        ("pickup_status_raw", pa.string()),
        ("id_card_masked", pa.string()),
        ("record_fields", pa.string()),
        ("media_kind", pa.string()),
        ("media_field", pa.string()),
        ("status", pa.string()),
        ("failure_reason", pa.string()),
        ("object_key", pa.string()),
        ("content_type", pa.string()),
        ("thumb_key", pa.string()),
        ("medium_key", pa.string()),
        ("poster_key", pa.string()),
        ("preview_problem", pa.string()),
        ("size", pa.int64()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("duration_s", pa.float64()),
        ("collected_at", pa.string()),
        ("region_company_name", pa.string()),
    ]
)
PREVIEW_ROOT = "_pv-media/previews"
REGION_NAMES = {"RC-320100": "南京区域公司"}
COLORS = [(214, 91, 60), (60, 140, 214), (90, 170, 90), (200, 170, 40), (150, 90, 190), (40, 160, 160)]


def hex16(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def item_id_for(station_id: str, url_hash: str) -> str:
    return hex16(f"{station_id}\n{url_hash}")


def record_item_id(station_id: str, record_id: str) -> str:
    return hex16(f"{station_id}\n{record_id}\nrecord")


def fake_id_number(n: int) -> str:
    """18 characters shaped like a real ID number (area, birth date, sequence, check char)."""
    return f"3201021985{n:02d}15{n:03d}{'X' if n % 3 == 0 else n % 10}"


def photo_bytes(size: tuple[int, int], color: tuple[int, int, int], label: str, fmt: str) -> bytes:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    w, h = size
    for band in range(0, w, max(8, w // 12)):
        draw.rectangle([band, 0, band + max(2, w // 48), h], fill=tuple(min(255, c + 40) for c in color))
    draw.rectangle([w // 8, h // 3, w * 7 // 8, h * 2 // 3], fill=(250, 250, 250))
    draw.text((w // 8 + 10, h // 3 + 10), label, fill=(20, 20, 20), font=ImageFont.load_default(size=max(10, h // 14)))
    out = io.BytesIO()
    image.save(out, format=fmt, quality=80)
    return out.getvalue()


def scaled(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    w, h = size
    factor = min(1.0, long_side / max(w, h))
    return max(1, round(w * factor)), max(1, round(h * factor))


def without_movie_metadata(mp4: bytes) -> bytes:
    """The MP4 as the gallery sends it: its one `udta` box (the muxer's tags, where a camera writes GPS and
    its serial number) a `free` box of the same size with its payload zeroed, every other byte as stored."""
    assert mp4.count(b"udta") == 1, "the fixture's MP4 has one user-data box"
    at = mp4.index(b"udta") - 4
    size = int.from_bytes(mp4[at : at + 4], "big")
    return mp4[: at + 4] + b"free" + bytes(size - 8) + mp4[at + size :]


def mp4_bytes(seconds: int = 4, fps: int = 10, size: tuple[int, int] = (320, 240)) -> bytes:
    """A real H.264 MP4 (moov first, so a browser can seek with Range requests right away)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # faststart rewrites the file in a second pass, which needs a real file
        path = Path(tmp) / "video.mp4"
        write_mp4(path, seconds, fps, size)
        return path.read_bytes()


def write_mp4(path: Path, seconds: int, fps: int, size: tuple[int, int]) -> None:
    import av

    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = Fraction(1, fps)
        for n in range(seconds * fps):
            image = Image.new("RGB", size, COLORS[(n // fps) % len(COLORS)])
            ImageDraw.Draw(image).rectangle([n * 3 % size[0], 40, n * 3 % size[0] + 30, 80], fill=(255, 255, 255))
            frame = av.VideoFrame.from_image(image)
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@dataclass
class GalleryData:
    """What the fixture wrote, for the assertions."""

    store: ObjectStore
    rows: list[dict] = field(default_factory=list)
    raw_ids: list[str] = field(default_factory=list)
    originals: dict[str, bytes] = field(default_factory=dict)  # item_id -> bytes of the original
    served: dict[str, bytes] = field(default_factory=dict)  # item_id -> the original as the gallery sends it

    def row(self, item_id: str) -> dict:
        return next(r for r in self.rows if r["item_id"] == item_id)

    def items(self, station_id: str, record_id: str, kind: str) -> list[dict]:
        return [
            r
            for r in self.rows
            if r["station_id"] == station_id and r["record_id"] == record_id and r["media_kind"] == kind
        ]

    @property
    def object_keys(self) -> list[str]:
        keys = {r[c] for r in self.rows for c in ("object_key", "thumb_key", "medium_key", "poster_key") if r[c]}
        return sorted(keys)

    @classmethod
    def from_store(cls, store: ObjectStore) -> GalleryData:
        """Any store with a gallery index (the demo's, once issue 12 writes one): rows from the index,
        raw ID numbers from the originals' key names (`{ID}_{urlhash}.ext`)."""
        rows = pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY))).to_pylist()
        raw_ids = {r["object_key"].rsplit("/", 1)[-1].split("_", 1)[0] for r in rows if r["object_key"]}
        return cls(store, rows, sorted(i for i in raw_ids if len(i) >= 15))

    def stations(self) -> list[str]:
        return sorted({r["station_id"] for r in self.rows})

    def records(self, station_id: str) -> list[str]:
        return sorted({r["record_id"] for r in self.rows if r["station_id"] == station_id})

    def stored(self, station_id: str, record_id: str, kind: str) -> list[dict]:
        return [r for r in self.items(station_id, record_id, kind) if r["status"] == "stored"]

    def showcase(self) -> tuple[str, str]:
        """(station, record) with the most displayable photos (JPEG/PNG originals, medium previews) and a video."""

        def score(key: tuple[str, str]) -> tuple[int, int]:
            photos = [
                r
                for r in self.stored(*key, "photo")
                if r["medium_key"] and r["content_type"] in ("image/jpeg", "image/png")
            ]
            return (len(photos) >= 2 and bool(self.stored(*key, "video")), len(photos))

        return max(((r["station_id"], r["record_id"]) for r in self.rows), key=score)

    def secrets(self) -> list[str]:
        """Strings no page, URL or header may contain: keys, their file names, raw ID numbers."""
        originals = [r["object_key"] for r in self.rows if r["object_key"]]
        names = {key.rsplit("/", 1)[-1] for key in originals}  # {raw ID}_{urlhash}.ext
        stems = {name.split(".", 1)[0] for name in names}
        preview_dirs = {key.rsplit("/", 1)[0] for key in self.object_keys if key.startswith(PREVIEW_ROOT)}
        return sorted(set(self.object_keys) | names | stems | preview_dirs | set(self.raw_ids) | {PREVIEW_ROOT})


# (station, region, name, records): each record is (record_id, photos, videos, failed, preview_missing)
STATIONS = [
    (
        "GAL-01",
        "RC-320100",
        "阳光一号分布式光伏",
        [("R001", 3, 1, 0, 0), ("R002", 1, 0, 1, 0), ("R003", 0, 0, 0, 0), ("R004", 0, 1, 0, 0), ("R005", 2, 0, 0, 1)],
    ),
    ("GAL-02", "RC-510100", "屋顶二号分布式光伏", [("R101", 1, 0, 0, 0), ("R102", 2, 0, 0, 0), ("R103", 0, 0, 1, 0)]),
]

# Accepted by its station although only partly picked up: in the index, with its own status.
PARTLY_PICKED_UP = {"R103"}


def build_gallery_data(store: ObjectStore, *, video: bytes | None = None) -> GalleryData:
    """Write originals, previews and the gallery index for STATIONS into the store."""
    data = GalleryData(store)
    video = video if video is not None else mp4_bytes()
    person = 0
    for station_id, region, station_name, records in STATIONS:
        for record_id, photos, videos, failed, preview_missing in records:
            person += 1
            raw_id = fake_id_number(person)
            data.raw_ids.append(raw_id)
            base = {
                "region_company_code": region,
                "region_company_name": REGION_NAMES.get(region),  # one region named, one shown by its code
                "station_id": station_id,
                "station_name": station_name,
                "record_id": record_id,
                "pickup_status": "picked_up",
                "pickup_status_raw": "已提货",
                "id_card_masked": mask_id(raw_id),
                "record_fields": json.dumps(
                    {
                        "projectName": f"{station_name}{record_id}户",
                        "address": f"江苏省南京市玄武区{person}号",
                        "capacityKw": 5.5 + person,
                        "installDate": f"2026-0{1 + person % 9}-1{person % 10}",
                        "latitude": round(32.05 + person / 100, 4),
                        "longitude": round(118.78 + person / 100, 4),
                    },
                    ensure_ascii=False,
                ),
                "collected_at": f"2026-11-2{person % 6}T08:{person:02d}:00Z",
            }
            if record_id in PARTLY_PICKED_UP:
                base.update(pickup_status="partly_picked_up", pickup_status_raw="部分提货")
            kinds = ["photo"] * photos + ["video"] * videos + ["failed"] * failed
            if not kinds:
                data.rows.append(
                    {
                        **dict.fromkeys(INDEX_SCHEMA.names),
                        **base,
                        "item_id": record_item_id(station_id, record_id),
                        "status": "none",
                        "collected_at": None,
                    }
                )
                continue
            for n, kind in enumerate(kinds):
                url = f"https://cdn.example.com/{station_id}/{record_id}/{n}"
                url_hash = hashlib.sha256(url.encode()).hexdigest()[:8]
                item_id = item_id_for(station_id, url_hash)
                row = {**dict.fromkeys(INDEX_SCHEMA.names), **base, "item_id": item_id}
                previews = f"{PREVIEW_ROOT}/{region}/{station_id}/{item_id}"
                if kind == "failed":
                    row.update(media_kind="photo", media_field="photo", status="failed", collected_at=None)
                    row["failure_reason"] = "HTTP 404 from the CDN"
                elif kind == "photo":
                    size = (1600, 1200) if n % 2 == 0 else (1200, 1600)
                    color = COLORS[(person + n) % len(COLORS)]
                    label = f"{station_id} {record_id} photo {n + 1}"
                    original = photo_bytes(size, color, label, "JPEG")
                    key = f"{region}/{station_id}/{raw_id}_{url_hash}.jpg"
                    store.put_bytes(key, original, "image/jpeg")
                    data.originals[item_id] = data.served[item_id] = original  # no metadata to blank
                    row.update(
                        media_kind="photo",
                        media_field="photo",
                        status="stored",
                        object_key=key,
                        content_type="image/jpeg",
                        size=len(original),
                        width=size[0],
                        height=size[1],
                    )
                    if preview_missing and n == photos - 1:
                        row["preview_problem"] = "undecodable image"
                    else:
                        for rendition, long_side in (("thumb", 320), ("medium", 1280)):
                            preview = photo_bytes(scaled(size, long_side), color, label, "WEBP")
                            store.put_bytes(f"{previews}/{rendition}.webp", preview, "image/webp")
                            row[f"{rendition}_key"] = f"{previews}/{rendition}.webp"
                else:
                    key = f"{region}/{station_id}/{raw_id}_{url_hash}.mp4"
                    store.put_bytes(key, video, "video/mp4")
                    data.originals[item_id] = video
                    data.served[item_id] = without_movie_metadata(video)
                    poster = photo_bytes((320, 240), COLORS[0], f"{record_id} video", "WEBP")
                    store.put_bytes(f"{previews}/poster.webp", poster, "image/webp")
                    row.update(
                        media_kind="video",
                        media_field="video",
                        status="stored",
                        object_key=key,
                        content_type="video/mp4",
                        poster_key=f"{previews}/poster.webp",
                        size=len(video),
                        width=320,
                        height=240,
                        duration_s=4.0,
                    )
                data.rows.append(row)
    write_index(store, data.rows)
    return data


def write_index(store: ObjectStore, rows: list[dict], key: str = INDEX_KEY) -> None:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=INDEX_SCHEMA), out)
    store.put_bytes(key, out.getvalue(), "application/vnd.apache.parquet")


@contextlib.contextmanager
def served_app(app) -> Iterator[str]:
    """The gallery app served over HTTP on a free loopback port, as `pv-media gallery` serves it; its base URL."""
    import uvicorn

    from bench.stack import free_port
    from pv_gallery.server import uvicorn_config

    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", free_port()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gallery server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
