"""What the gallery shows of a person (issue 21, points 7-9): record ids that are ID numbers, personal fields
the name list misses, and originals that carry GPS and serial numbers.

Pages through Starlette's TestClient over a contract-conformant index (gallery_fixtures); the bytes of
originals read back with Pillow and PyAV as a viewer's software would.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, PngImagePlugin

from pv_assets.gallery.previews.gallery import record_fields
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data, write_index
from tests.test_gallery import installation_url, links, login, make_client

ID_NUMBER = "110105194912310021"
ID_SPACED = "110105 19491231 002X"
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
SERIAL = "SN-998877-CAMERA"  # the camera's serial number: EXIF BodySerialNumber, XMP, a video's tags
LATITUDE = "+32.0583"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_gallery_data(LocalDirObjectStore(tmp_path_factory.mktemp("gallery-privacy")))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- 7. a record id that is an ID number ---------------------------------------------------------------


def test_a_record_id_that_is_an_id_number_is_masked_on_every_page_and_never_in_a_url(tmp_path, data):
    store = LocalDirObjectStore(tmp_path)
    renamed = {"R001": ID_NUMBER, "R002": ID_SPACED}
    rows = [dict(r, record_id=renamed.get(r["record_id"], r["record_id"])) for r in data.rows]
    write_index(store, rows)
    client = login(make_client(store))
    station = client.get("/station/GAL-01")
    pages = {"/station/GAL-01": station}
    for url in links(station.text).urls:
        if "/installation/" in url:
            pages[url] = client.get(url)
    assert len(pages) == 6  # the station page and its five installations
    seen = "\n".join(url + page.text + json.dumps(dict(page.headers)) for url, page in pages.items())
    for raw in (ID_NUMBER, ID_SPACED, ID_SPACED.replace(" ", ""), "19491231"):
        assert raw not in seen
    assert station.text.count("110105********0021") == 2  # the card's record id and its picture's alt text
    assert "110105********002X" in station.text
    for url in pages:
        if "/installation/" in url:
            assert re.fullmatch(r"/station/GAL-01/installation/[0-9a-f]{16}", url), url
    page = client.get(installation_url(client, "GAL-01", ID_NUMBER)).text
    assert "<title>110105********0021 · " in page and "安装记录 110105********0021</h1>" in page
    # Searching finds what the page shows, never confirms a number it does not show.
    assert "110105********0021" in client.get("/station/GAL-01?q=110105").text
    assert 'id="matching">0 / 5' in client.get(f"/station/GAL-01?q={ID_NUMBER}").text


# --- 8. personal fields the name list misses -------------------------------------------------------------

PERSONAL = {
    "household": {"name": "王小明", "mobile": "13912345678"},  # nested
    "lxdh": "13812345670",  # pinyin abbreviation of 联系电话
    "email": "zhang.san@example.com",
    "户名": "赵六六",
    "name": "钱七七",
    "bankAccount": "6222 0212 3456 7890",
    "remark": f"业主身份证 {ID_SPACED}，电话 139-1234-5670",
    "beizhu": "13512345678",  # pinyin of 备注 (a remark): not a descriptive name either
}
SHOWN = {
    "projectName": "钱七七户用分布式光伏项目",  # the plain `name` value inside a shown field
    "address": "江苏省南京市玄武区1号 联系 139-1234-5670 zhang.san@example.com 卡 4111 1111 1111 1111",
    "capacityKw": 12.5,
    "location": {"lat": 32.059999999999995, "lng": 118.7965},
}


def test_personal_fields_are_not_shown_whatever_their_name_and_shown_values_are_masked(tmp_path, data):
    store = LocalDirObjectStore(tmp_path)
    fields = {**PERSONAL, **SHOWN}
    row = dict(data.rows[0], record_fields=json.dumps(fields, ensure_ascii=False))  # as an older producer wrote it
    write_index(store, [row])
    client = login(make_client(store))
    page = client.get(installation_url(client, "GAL-01", row["record_id"])).text
    card = client.get("/station/GAL-01").text
    for html in (page, card):
        for secret in ("王小明", "13912345678", "13812345670", "zhang.san@example.com", "赵六六", "钱七七",
                       "6222 0212 3456 7890", "6222021234567890", "19491231", "1234-5670", "13512345678",
                       "4111 1111 1111 1111", "4111111111111111"):  # fmt: skip
            assert secret not in html, secret
    # The descriptive fields are there, their personal parts masked.
    assert "江苏省南京市玄武区1号 联系 139****5670 z***@example.com 卡 ************1111" in page
    # coordinates to 0.01 degree: a village, not the house (docs/security.md)
    assert "12.5" in page and "32.06" in page and "118.80" in page and "32.059999999999995" not in page


def test_the_producer_keeps_only_allowed_fields_and_masks_the_persons_values_in_them():
    record = {"record_id": "R1", "station_id": "ST-1", **PERSONAL, **SHOWN}
    record["household"] = json.dumps(PERSONAL["household"], ensure_ascii=False)  # the record table keeps JSON text
    record["location"] = json.dumps(SHOWN["location"])
    assert json.loads(record_fields(record)) == {
        "projectName": "钱**户用分布式光伏项目",
        "address": "江苏省南京市玄武区1号 联系 139****5670 z***@example.com 卡 ************1111",
        "capacityKw": "12.5",
        "location.lat": "32.06",
        "location.lng": "118.80",
    }


# --- 9. full size without EXIF ----------------------------------------------------------------------


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "CamCo", "PV-Cam 9"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (32.0, 3.0, 29.9), 3: "E", 4: (118.0, 47.0, 47.4)})
    exif.get_ifd(EXIF_IFD)[0xA431] = SERIAL  # BodySerialNumber
    return exif


def picture(fmt: str) -> bytes:
    image = Image.new("RGB", (96, 64), (40, 120, 200))
    image.paste((250, 250, 250), (0, 0, 48, 32))  # a corner that shows which way is up
    out = io.BytesIO()
    extra = {}
    if fmt == "PNG":
        extra["pnginfo"] = PngImagePlugin.PngInfo()
        extra["pnginfo"].add_text("Comment", f"camera {SERIAL} at {LATITUDE}")
    if fmt in ("JPEG", "WEBP"):
        xmp = f'<x:xmpmeta><rdf:Description exif:GPSLatitude="{LATITUDE}" aux:SerialNumber="{SERIAL}"/>'
        extra["xmp"] = xmp.encode()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    image.save(out, fmt, exif=camera_exif(), **extra)
    return out.getvalue()


def movie(fmt: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip.{fmt}"
        with av.open(str(path), "w", format=fmt, options={"movflags": "faststart"}) as container:
            # MOV keeps all of these (©xyz, ©mak, ©mod); MP4 the comment (©cmt)
            container.metadata.update(location=f"{LATITUDE}+118.7965/", make="CamCo", model=SERIAL)
            container.metadata["comment"] = f"CamCo {SERIAL} at {LATITUDE}"
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt, stream.time_base = 64, 48, "yuv420p", Fraction(1, 10)
            for n in range(10):
                frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (n * 20, 90, 30)))
                frame.pts = n
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()


ORIGINALS = {
    "image/jpeg": lambda: picture("JPEG"),
    "image/png": lambda: picture("PNG"),
    "image/webp": lambda: picture("WEBP"),
    "image/heic": lambda: picture("HEIF"),
    "video/mp4": lambda: movie("mp4"),
    "video/quicktime": lambda: movie("mov"),
}


def pixels(data: bytes) -> list:
    with Image.open(io.BytesIO(data)) as image:
        from PIL import ImageOps

        return list(ImageOps.exif_transpose(image).convert("RGB").get_flattened_data())


@pytest.mark.parametrize("content_type", list(ORIGINALS))
def test_full_size_leaves_without_gps_and_serial_and_the_stored_original_keeps_them(tmp_path, data, content_type):
    original = ORIGINALS[content_type]()
    assert SERIAL.encode() in original  # what a camera wrote: the test has something to strip
    store = LocalDirObjectStore(tmp_path)
    row = dict(next(r for r in data.rows if r["media_kind"] == "photo" and r["status"] == "stored"))
    row.update(object_key=row["object_key"].rsplit(".", 1)[0] + ".bin", content_type=content_type)
    row["media_kind"] = "video" if content_type.startswith("video/") else "photo"
    store.put_bytes(row["object_key"], original, content_type)
    write_index(store, [row])
    client = login(make_client(store))
    url = f"/media/{row['item_id']}/original"
    served = client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == content_type
    sent = served.content
    assert len(sent) == len(original) == int(served.headers["content-length"])
    assert SERIAL.encode() not in sent and LATITUDE.encode() not in sent and b"CamCo" not in sent
    if content_type.startswith("image/"):
        with Image.open(io.BytesIO(sent)) as image:
            exif = image.getexif()
            assert not exif.get_ifd(GPS_IFD) and not exif.get_ifd(EXIF_IFD) and 0x010F not in exif
            assert "xmp" not in image.info
            if content_type == "image/jpeg":
                assert exif.get(0x0112) == 6  # still shown upright
        assert pixels(sent) == pixels(original)
    else:
        with av.open(io.BytesIO(sent)) as container:
            tags = " ".join(f"{k}={v}" for k, v in container.metadata.items())
            assert "location" not in tags and SERIAL not in tags and "CamCo" not in tags
            assert sum(1 for _frame in container.decode(video=0)) == 10
    # Ranges of what is sent are slices of it, across the blanked metadata too.
    ranged = client.get(url, headers={"Range": "bytes=0-2047"})
    assert ranged.status_code == 206 and ranged.content == sent[:2048]
    assert sha256(store.get_bytes(row["object_key"])) == sha256(original)  # the audit's copy is untouched


def test_a_households_coordinates_are_shown_to_a_village_not_a_house():
    from pv_model.gallery_contract import shown_fields

    shown = shown_fields(
        {
            "latitude": 32.0612345,
            "location": {"lat": 32.0612, "lng": 118.7934},
            "经度": "118.79341",
            "coordinates": "32.0612,118.7934",
            "capacityKw": 25.663,
            "address": "南塘村37号",
        }  # fmt: skip
    )
    assert shown == {
        "latitude": "32.06", "location.lat": "32.06", "location.lng": "118.79", "经度": "118.79",
        "coordinates": "32.06,118.79", "capacityKw": "25.663", "address": "南塘村37号",
    }  # fmt: skip
