"""The world's photos as a detector sees them: decodable, camera-like, distinct per installation under an honest
perceptual hash (imagehash), planted reuses near-identical to their source; drawn once, then read from the cache."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from pv_simulator.camera.cache import cache_root, picture_bytes, picture_file
from pv_simulator.camera.exif import DATETIME_ORIGINAL, EXIF_IFD, MAKE, read_gps
from pv_simulator.camera.render import picture_spec
from pv_simulator.camera.selfcheck import DUPLICATE_AT, hash_check
from pv_simulator.world import group_world, world_size
from pv_simulator.world.model import REUSE_COPY, SERVED_OK


def test_photos_of_different_installations_are_no_duplicates_and_planted_reuses_are():
    world = group_world(world_size("tiny"), 2)
    report = hash_check(world, "tiny")
    planted = sum(REUSE_COPY in p.planted for _plan, i, p in world.photos() if i.picked_up and p.outcome == SERVED_OK)
    assert report.copies == planted >= 5
    assert report.unrelated_at_or_below_threshold == 0 and report.closest_unrelated > DUPLICATE_AT
    assert report.farthest_copy <= DUPLICATE_AT - 2  # resized, recompressed, cropped, turned: still the same picture


def test_a_phone_sized_photo_weighs_what_a_phone_photo_weighs_and_carries_its_exif(tmp_path, monkeypatch):
    monkeypatch.setenv("PV_CACHE_DIR", str(tmp_path))
    world = group_world(world_size("tiny"), 1)
    _plan, installation, photo = next(
        (plan, i, p) for plan, i, p in world.photos() if p.fmt == "jpeg" and p.exif and p.exif.lat and not p.planted
    )
    spec = picture_spec(photo, "phone")
    data = picture_bytes(spec)
    assert 2_000_000 < len(data) < 12_000_000
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        assert sorted(upright.size) in ([3000, 4000], [3024, 4032])  # a 12-megapixel phone camera
        tags = image.getexif()
        assert tags[MAKE] == photo.exif.make
        assert tags.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] == f"{photo.exif.taken:%Y:%m:%d %H:%M:%S}"
        lat, lon = read_gps(tags)
        assert abs(lat - photo.exif.lat) < 1e-6 and abs(lon - photo.exif.lon) < 1e-6
    # drawn once: the second time is the cached file, byte for byte
    path = picture_file(spec)
    assert path.is_relative_to(cache_root()) and path.read_bytes() == data
    mtime = path.stat().st_mtime_ns
    assert picture_bytes(spec) == data and path.stat().st_mtime_ns == mtime
