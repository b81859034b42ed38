"""The parts of the previews and the gallery index, on the local directory store (no Dagster)."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest
from PIL import Image

from pv_assets.gallery.previews.builder import build_previews
from pv_assets.gallery.previews.gallery import INDEX_COLUMN_NAMES, gallery_rows
from pv_assets.gallery.previews.gallery_store import INDEX_KEY, piece_key, update_index, write_piece
from pv_assets.gallery.previews.plan import (
    content_type_of,
    fit_long_side,
    item_id,
    media_kind_of,
    poster_time,
    preview_keys,
    record_item_id,
)
from pv_assets.gallery.previews.render import StoreReader, video_poster
from pv_simulator.media_gen import iter_media, media_bytes
from pv_simulator.pictures import CAMERA_MAKE, UNLABELLED_VARIANTS, video_plan
from resources.object_store import LocalDirObjectStore
from resources.sniff import ACCEPTED, HEIF


class CountingStore(LocalDirObjectStore):
    """The local store, counting reads of originals (anything outside _pv-media/)."""

    def __init__(self, root):
        super().__init__(root)
        self.originals_read: set[str] = set()

    def get_range(self, key, offset, length):
        if not key.startswith("_pv-media/"):
            self.originals_read.add(key)
        return super().get_range(key, offset, length)

    def get_bytes(self, key):
        if not key.startswith("_pv-media/"):
            self.originals_read.add(key)
        return super().get_bytes(key)


def put_file(store, key: str, chunks) -> int:
    path = store.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path.stat().st_size


def outcome(key: str, size: int, n: int) -> dict:
    return {"station_id": "ST-1", "record_id": f"R{n}", "url_hash": f"{n:08x}", "object_key": key, "size": size,
            "outcome": "uploaded"}  # fmt: skip


def test_sizes_keys_and_ids_are_pure_and_stable():
    assert fit_long_side(4032, 3024, 1280) == (1280, 960) and fit_long_side(200, 100, 320) == (200, 100)
    assert poster_time(3.0) == 1.0 and poster_time(0.6) == 0.0 and poster_time(None) == 0.0
    one = item_id("ST-1", "abcd1234", "R1")
    assert one == item_id("ST-1", "abcd1234", "R1") and len(one) == 16
    assert len({one, item_id("ST-2", "abcd1234", "R1"), item_id("ST-1", "abcd1234", "R2")}) == 3
    assert preview_keys("RC-1/ST-1/110_abcd1234.jpg", one, "photo") == {
        "thumb_key": f"_pv-media/previews/RC-1/ST-1/{one}/thumb.webp",
        "medium_key": f"_pv-media/previews/RC-1/ST-1/{one}/medium.webp",
    }


def test_media_generation_is_deterministic_and_exact_in_size():
    first = media_bytes("jpeg", 42, 30_000, "ST-1 / R1 / photo")
    assert len(first) == 30_000 and first == media_bytes("jpeg", 42, 30_000, "ST-1 / R1 / photo")
    assert first != media_bytes("jpeg", 42, 30_000, "ST-1 / R2 / photo")
    with Image.open(io.BytesIO(first)) as image:
        image.load()  # a real, decodable JPEG despite the padding after it


def test_poster_of_a_big_video_reads_a_few_blocks_not_the_file(tmp_path):
    store = LocalDirObjectStore(tmp_path)
    size = put_file(store, "RC-1/ST-1/v.mp4", iter_media("mp4", 3, 64 * 2**20, chunk=2**20))
    reader = StoreReader(store, "RC-1/ST-1/v.mp4", size)
    poster = video_poster(reader)
    with Image.open(io.BytesIO(poster.poster)) as image:
        assert image.format == "WEBP" and image.size == (poster.width, poster.height)
    assert poster.duration_s and poster.duration_s > 0.5
    assert reader.bytes_fetched < 2 * 2**20  # of 64 MiB: only the real part around the moov and the frame


def test_a_video_shorter_than_a_second_gets_its_first_frame(tmp_path):
    short = next(s for s in range(UNLABELLED_VARIANTS) if video_plan(s, 2**16 - 16).seconds < 1.0)
    store = LocalDirObjectStore(tmp_path)
    size = put_file(store, "RC-1/ST-1/v.mp4", iter_media("mp4", short, 2**16))
    poster = video_poster(StoreReader(store, "RC-1/ST-1/v.mp4", size))
    assert poster.duration_s < 1.0
    with Image.open(io.BytesIO(poster.poster)) as image:
        image.load()


def test_previews_are_built_once_and_bad_files_become_rows(tmp_path):
    store = CountingStore(tmp_path)
    files = {
        "RC-1/ST-1/a.heic": media_bytes("heic", 7, 40_000, "ST-1 / R0 / photo"),
        "RC-1/ST-1/b.jpg": media_bytes("jpeg", 8, 40_000, "ST-1 / R1 / photo"),
        "RC-1/ST-1/c.mp4": b"".join(iter_media("mp4", 9, 60_000)),
        "RC-1/ST-1/d.jpg": b"\xff\xd8\xff\xe0" + bytes(5000),
        "RC-1/ST-1/e.mp4": b"\x00\x00\x00\x18ftypisom" + bytes(5000),
    }
    rows = [outcome(key, put_file(store, key, [data]), n) for n, (key, data) in enumerate(files.items())]
    built, tally = build_previews(store, rows, workers=2)
    assert (tally.built, tally.failed) == (3, 2)
    problems = {r["object_key"][-5:]: r["preview_problem"] for r in built if r["preview_outcome"] == "failed"}
    assert problems["d.jpg"].startswith("undecodable photo") and problems["e.mp4"].startswith("undecodable video")
    heic = next(r for r in built if r["object_key"].endswith(".heic"))
    thumb = store.get_bytes(heic["thumb_key"])
    assert CAMERA_MAKE.encode() not in thumb
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.format == "WEBP" and max(image.size) == min(320, max(heic["width"], heic["height"]))
        assert len(image.getexif()) == 0

    store.originals_read.clear()
    again, tally = build_previews(store, rows, {r["item_id"]: r for r in built}, workers=2)
    # Nothing is read again: three have their previews, two were judged undecodable (same size).
    assert (tally.built, tally.skipped, tally.failed) == (0, 3, 2) and store.originals_read == set()
    assert {r["preview_problem"] for r in again if r["preview_outcome"] == "failed"} == set(problems.values())
    assert {r["item_id"]: r["width"] for r in again if r["preview_outcome"] == "skipped"} == {
        r["item_id"]: r["width"] for r in built if r["preview_outcome"] == "built"
    }


def piece_rows(station: str, count: int, tag: str = "") -> list[dict]:
    rows = []
    for n in range(count):
        row = dict.fromkeys(INDEX_COLUMN_NAMES)
        row.update(item_id=hashlib.sha256(f"{station}{n}{tag}".encode()).hexdigest()[:16], station_id=station,
                   record_id=f"R{n}", status="stored", size=n)  # fmt: skip
        rows.append(row)
    return rows


def test_the_index_rereads_only_changed_pieces(tmp_path):
    store = LocalDirObjectStore(tmp_path)
    for station, count in (("ST-1", 3), ("ST-2", 4), ("ST-3", 5)):
        write_piece(store, station, piece_rows(station, count))
    first = update_index(store)
    assert (first.pieces_read, first.rows, first.rebuilt_from_scratch) == (3, 12, True)
    assert update_index(store).pieces_read == 0  # nothing changed, nothing read

    write_piece(store, "ST-2", piece_rows("ST-2", 2, tag="new"))
    second = update_index(store)
    assert (second.pieces_read, second.rows, second.rebuilt_from_scratch) == (1, 10, False)
    assert second.index_rows == {"ST-1": 3, "ST-2": 2, "ST-3": 5}

    (store.root / piece_key("ST-3")).unlink()
    third = update_index(store)
    assert (third.pieces_read, third.stations_dropped, third.rows) == (0, 1, 5)
    table = pq.read_table(store.root / INDEX_KEY, filters=[("station_id", "=", "ST-2")])
    assert table.column("item_id").to_pylist() == sorted(r["item_id"] for r in piece_rows("ST-2", 2, tag="new"))


@pytest.mark.parametrize("kind", ["png", "gif"])
def test_palette_and_png_photos_keep_their_colour(tmp_path, kind):
    store = LocalDirObjectStore(tmp_path)
    key = f"RC-1/ST-1/x.{kind}"
    size = put_file(store, key, [media_bytes(kind, 5, 30_000, "ST-1 / R1 / photo")])
    built, tally = build_previews(store, [outcome(key, size, 1)], workers=1)
    assert tally.built == 1
    with Image.open(io.BytesIO(store.get_bytes(built[0]["medium_key"]))) as image:
        assert image.mode in ("RGB", "RGBA") and len(image.convert("RGB").getcolors(1 << 16)) > 4


def test_gallery_rows_cover_every_picked_up_record_and_keep_people_out():
    base = {"station_id": "ST-1", "region_company_code": "RC-1", "pickup_status": "picked_up"}
    records = [
        {**base, "record_id": "R1", "id_card_no": "11010519491231002x", "pickup_status_raw": "已提货",
         "ownerName": "张三", "phone": "13800000000", "address": "东山村1号", "capacityKw": "8.8"},
        {**base, "record_id": "R2", "id_card_no": "110105194912310021", "pickup_status_raw": "已提货"},
        {**base, "record_id": "R3", "id_card_no": "110105194912310021", "pickup_status_raw": "未提货",
         "pickup_status": "not_picked_up"},
    ]  # fmt: skip
    outcomes = [
        {"station_id": "ST-1", "record_id": "R1", "url_hash": "aaaa0001", "media_field": "photo",
         "outcome": "uploaded", "object_key": "RC-1/ST-1/x_aaaa0001.jpg", "size": 10, "media_type": "image/jpeg",
         "finished_at": "2026-11-26T10:00:00+00:00"},
        {"station_id": "ST-1", "record_id": "R1", "url_hash": "aaaa0002", "media_field": "video",
         "outcome": "failed", "reason": "gone: HTTP 410", "object_key": None},
    ]  # fmt: skip
    rows = gallery_rows(records, outcomes, [], station_name="一号站", accepted_statuses=["已提货"])
    assert [(r["record_id"], r["status"], r["media_kind"]) for r in rows] == [
        ("R1", "stored", "photo"),
        ("R1", "failed", "video"),
        ("R2", "none", None),
    ]
    assert rows[0]["id_card_masked"] == "110105********002X" and rows[0]["collected_at"].startswith("2026-11-26")
    assert rows[1]["failure_reason"] == "gone: HTTP 410" and rows[1]["object_key"] is None
    assert rows[2]["item_id"] == record_item_id("ST-1", "R2")
    assert json.loads(rows[0]["record_fields"]) == {"address": "东山村1号", "capacityKw": "8.8"}
    assert set(rows[0]) == set(INDEX_COLUMN_NAMES)


def test_a_local_objects_etag_is_the_same_from_a_listing_and_a_stat_and_changes_with_every_rewrite(tmp_path):
    """The index update compares listing etags; the gallery serves stat etags: one validator for both."""
    from resources.object_store import LocalDirObjectStore

    store = LocalDirObjectStore(tmp_path)
    store.put_bytes("_pv-media/gallery/stations/A.parquet", b"one", "application/octet-stream")
    listed = {o.key: o.etag for o in store.list_prefix("_pv-media/gallery/stations/")}
    first = store.stat("_pv-media/gallery/stations/A.parquet").etag
    assert listed == {"_pv-media/gallery/stations/A.parquet": first}
    # Same size, rewritten at once: a new file (atomic replace), so a new etag even within one clock tick.
    store.put_bytes("_pv-media/gallery/stations/A.parquet", b"two", "application/octet-stream")
    assert store.stat("_pv-media/gallery/stations/A.parquet").etag != first


@pytest.mark.parametrize("stored", sorted({*ACCEPTED.values(), HEIF}, key=lambda t: t.extension), ids=str)
def test_every_type_the_sniffer_accepts_gets_its_preview_kind_and_content_type(stored):
    key = f"RC-1/ST-1/110105199001011234/photo/ab12cd34{stored.extension}"
    assert (media_kind_of(key), content_type_of(key)) == (stored.kind, stored.mime)


def test_the_gallery_masks_personal_values_inside_shown_fields_but_not_placeholders():
    from pv_assets.gallery.previews.gallery import record_fields

    record = {"ownerName": "张三", "phone": "--", "projectName": "张三户用分布式光伏项目", "address": "A--B"}
    assert json.loads(record_fields(record)) == {"projectName": "张*户用分布式光伏项目", "address": "A--B"}
