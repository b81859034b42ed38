"""Previews and the gallery index: real Dagster runs against the simulator's real media and moto's S3."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest
from dagster import DagsterRunStatus, RunRequest, SkipReason, build_sensor_context
from minio import Minio
from PIL import Image, ImageStat

from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.definitions import COLLECT_JOB_NAME, GALLERY_JOB_NAME, make_definitions
from pv_assets.gallery.previews.gallery_store import INDEX_KEY, piece_key
from pv_assets.gallery.previews.plan import MEDIUM_LONG_SIDE, THUMB_LONG_SIDE
from pv_assets.gallery.sensor import gallery_index_sensor, parse_cursor
from pv_assets.operations.station_run import materialization_metadata
from pv_assets.operations.tags import TRIGGER_TAG
from pv_simulator import SimStationSpec
from pv_simulator.pictures import CAMERA_MAKE, EXIF_GPS_IFD, GROUND, SKY
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, fast_station_api, run_station, write_registry

QUIRKY, CLEAN = "PV-0001", "PV-0002"


@pytest.fixture
def gallery_world(
    simulator_factory, tmp_path, monkeypatch, staging_dir, s3_endpoint, s3_store, dagster_instance, s3_resource
):
    sim = simulator_factory(
        [
            # Photos of 150-400 KB: big enough that some are wider than the medium rendition.
            SimStationSpec(QUIRKY, records=16, seed=5, photo_size=(150_000, 400_000), video_size=(40_000, 90_000)),
            SimStationSpec(CLEAN, records=5, seed=6, quirks=False, region_company_code="RC-510100"),
        ]
    )
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store_resource = s3_resource
    api = fast_station_api(registry)

    def run(station_id):
        result = run_station(dagster_instance, api, store_resource, station_id)
        assert result.success, station_id
        return result

    def build_index():
        defs = make_definitions(station_api=api, object_store=store_resource)
        result = defs.resolve_job_def(GALLERY_JOB_NAME).execute_in_process(instance=dagster_instance)
        assert result.success
        return result.asset_materializations_for_node("gallery_index")[0].metadata

    return sim, s3_store, run, build_index


def image_of(store, key) -> Image.Image:
    image = Image.open(io.BytesIO(store.get_bytes(key)))
    image.load()
    return image


def metadata_of(result, node):
    return materialization_metadata(result)[node]


def strip_colour(image: Image.Image, top: bool) -> tuple[float, ...]:
    """Mean colour of the top or bottom 8% of the picture."""
    height = max(1, image.height * 8 // 100)
    box = (0, 0, image.width, height) if top else (0, image.height - height, image.width, image.height)
    return tuple(ImageStat.Stat(image.convert("RGB").crop(box)).mean)


def near(colour, reference, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, reference, strict=True))


def test_previews_and_gallery_index_end_to_end(gallery_world, dagster_instance, monkeypatch):
    sim, store, run, build_index = gallery_world
    first = run(QUIRKY)
    run(CLEAN)
    previews = first.asset_value("media_previews")
    outcomes = first.asset_value("uploaded_media")
    stored = outcomes[outcomes.outcome.isin(["uploaded", "skipped"])]
    assert len(previews) == len(stored) and previews.preview_outcome.eq("built").all(), previews.preview_problem
    assert set(previews.media_kind) == {"photo", "video"}
    extensions = {key.rsplit(".", 1)[1] for key in stored.object_key}
    assert {"jpg", "png", "gif", "heic", "mp4"} <= extensions

    rotated = 0
    for row in previews.itertuples():
        original = store.get_bytes(row.object_key)
        if row.media_kind == "photo":
            thumb, medium = image_of(store, row.thumb_key), image_of(store, row.medium_key)
            assert thumb.format == medium.format == "WEBP"
            long_side = max(row.width, row.height)
            assert max(medium.size) == min(MEDIUM_LONG_SIDE, long_side), row
            assert max(thumb.size) == min(THUMB_LONG_SIDE, long_side), row
            # Upright and the right shape: the sky on top, the ground below, the original's aspect ratio.
            assert abs(thumb.width / thumb.height - row.width / row.height) < 0.05, row
            assert near(strip_colour(medium, top=True), SKY), row
            assert near(strip_colour(medium, top=False), GROUND), row
            # No EXIF of the original (camera, GPS, orientation) in any preview.
            for preview in (thumb, medium):
                assert "exif" not in preview.info and len(preview.getexif()) == 0
                assert CAMERA_MAKE.encode() not in store.get_bytes(row.thumb_key)
            if row.object_key.endswith(".jpg"):
                with Image.open(io.BytesIO(original)) as source:
                    exif = source.getexif()
                    assert exif.get_ifd(EXIF_GPS_IFD)  # the original had a position to strip
                    if exif.get(0x0112, 1) in (6, 8):
                        rotated += 1
                        assert (row.width, row.height) == (source.height, source.width)
        else:
            poster = image_of(store, row.poster_key)
            assert poster.format == "WEBP" and poster.size == (row.width, row.height)  # small videos: not scaled
            assert 0.5 <= row.duration_s <= 4.5
            assert near(strip_colour(poster, top=True), SKY, tolerance=50)
    assert rotated >= 1, "the world should hold a photo stored rotated with an EXIF orientation tag"

    meta = metadata_of(first, "media_previews")
    assert "gallery" not in meta  # no public gallery address configured for the first run
    assert meta["built"] == len(previews) and meta["preview_bytes_written"] > 0
    # Every preview of the first run was made from the staging file while the downloads went on: no original
    # was read back from the store. And every file is stored once, with the bytes the station sent.
    assert meta["built_from_staging"] == meta["built"] and meta["original_bytes_read"] == 0
    assert previews.original_bytes_read.eq(0).all() and stored.object_key.is_unique
    sent = sorted(m.sha256 for m in sim.expected_media(QUIRKY) if m.picked_up and m.outcome == "ok")
    assert sorted(stored.sha256) == sent
    assert sorted(hashlib.sha256(store.get_bytes(key)).hexdigest() for key in stored.object_key) == sent
    assert meta["contact_sheet_key"].endswith("contact-sheet.webp")
    assert image_of(store, meta["contact_sheet_key"]).size == (640, 360)
    assert "data:image/webp;base64," in meta["contact_sheet"]

    # The whole index: both stations, one row per media item of a picked-up record, no raw ID number.
    index_meta = build_index()
    assert index_meta["pieces_read"].value == 2 and index_meta["stations"].value == 2
    table = pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY)))
    assert set(table.column("station_id").to_pylist()) == {QUIRKY, CLEAN}
    assert len(set(table.column("item_id").to_pylist())) == table.num_rows
    quirky = table.filter(table.column("station_id").to_numpy(zero_copy_only=False) == QUIRKY).to_pylist()
    assert len([r for r in quirky if r["status"] != "none"]) == len(outcomes)
    assert sum(r["status"] == "stored" for r in quirky) == len(stored)
    by_key = {r["object_key"]: r for r in quirky if r["object_key"]}
    for row in plain_rows(previews):
        indexed = by_key[row["object_key"]]
        assert [indexed[c] for c in ("item_id", "thumb_key", "poster_key", "width")] == [
            row[c] for c in ("item_id", "thumb_key", "poster_key", "width")
        ]
    # object_key is the audit's link to the original (the contract: never shown); nothing else names a person.
    text = json.dumps(table.drop_columns(["object_key"]).to_pylist(), ensure_ascii=False, default=str)  # dates: text
    for record in sim.records(QUIRKY) + sim.records(CLEAN):
        number = record["idCardNo"].strip().upper()
        assert number not in text.upper()
        assert record["ownerName"] not in text  # the simulator, like stations, names the owner in projectName
    fields = json.loads(quirky[0]["record_fields"])
    assert "address" in fields and "capacityKw" in fields
    assert fields["projectName"].endswith("户用分布式光伏项目") and "*" in fields["projectName"]
    assert not {"phone", "ownerName", "idCardNo", "photoUrls", "videoUrls"} & set(fields)

    # A re-run: every preview exists (one listing) - nothing rebuilt, no original read. With the gallery's
    # public address configured, the materializations link to the station's gallery page.
    monkeypatch.setenv("PV_GALLERY_PUBLIC_URL", "https://gallery.example.cn/pv/")
    second = run(QUIRKY)
    again = metadata_of(second, "media_previews")
    assert again["gallery"] == metadata_of(second, "gallery_piece")["gallery"]
    assert again["gallery"] == f"https://gallery.example.cn/pv/station/{QUIRKY}"
    assert (again["built"], again["original_bytes_read"], again["skipped"]) == (0, 0, len(previews))
    kept = second.asset_value("media_previews").set_index("item_id")
    assert kept.loc[previews.item_id, "width"].tolist() == previews.width.tolist()  # dimensions kept

    # The sensor asks for one index run after the station runs, then waits for new pieces.
    context = build_sensor_context(instance=dagster_instance)
    assert isinstance(gallery_index_sensor(context), RunRequest)
    assert isinstance(
        gallery_index_sensor(build_sensor_context(instance=dagster_instance, cursor=context.cursor)), SkipReason
    )
    # An index run that failed is asked for again, though no new piece came.
    gallery_job = make_definitions().resolve_job_def(GALLERY_JOB_NAME)
    failed = dagster_instance.create_run_for_job(job_def=gallery_job, status=DagsterRunStatus.FAILURE)
    retry = gallery_index_sensor(build_sensor_context(instance=dagster_instance, cursor=context.cursor))
    assert isinstance(retry, RunRequest) and retry.run_key.endswith(f"-after-{failed.run_id}")
    # A station run that failed writes no piece, but the health table must show it: a merge is asked for.
    collect_job = make_definitions().resolve_job_def(COLLECT_JOB_NAME)
    dagster_instance.create_run_for_job(job_def=collect_job, status=DagsterRunStatus.FAILURE)
    after_failure = build_sensor_context(instance=dagster_instance, cursor=context.cursor)
    request = gallery_index_sensor(after_failure)
    assert isinstance(request, RunRequest) and request.tags[TRIGGER_TAG] == "failed-station-runs"
    assert parse_cursor(after_failure.cursor)[0] == parse_cursor(context.cursor)[0]  # no new piece

    # Partial update: only the re-run station's piece is read again; the other's rows are kept.
    clean_before = pq.read_table(io.BytesIO(store.get_bytes(piece_key(CLEAN))))
    partial = build_index()
    assert partial["pieces_read"].value == 1 and partial["rebuilt_from_scratch"].value is False
    table = pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY)), filters=[("station_id", "=", CLEAN)])
    by_item = sorted(table.to_pylist(), key=lambda r: r["item_id"])
    assert by_item == sorted(clean_before.to_pylist(), key=lambda r: r["item_id"])


def test_an_undecodable_original_is_a_row_with_its_reason_and_the_station_succeeds(gallery_world, s3_endpoint):
    _sim, store, run, _build_index = gallery_world
    first = run(CLEAN)
    target = first.asset_value("media_previews").iloc[0]
    # The stored object turns into bytes that sniff as JPEG but decode as nothing; its previews go.
    client = Minio(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, secure=False)
    broken = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    client.put_object(store.bucket, target.object_key, io.BytesIO(broken), len(broken))
    client.remove_object(store.bucket, target.thumb_key)
    second = run(CLEAN)
    rows = second.asset_value("media_previews").set_index("item_id")
    failed = rows.loc[target.item_id]
    assert failed.preview_outcome == "failed" and failed.preview_problem.startswith("undecodable photo")
    assert (rows.preview_outcome == "skipped").sum() == len(rows) - 1
    check = next(c for c in second.get_asset_check_evaluations() if c.check_name == "every_object_has_previews")
    assert not check.passed and check.metadata["without_previews"].value == 1
    assert target.item_id in json.dumps(check.metadata["items"].value)
