"""One photo's evidence facts from its original: a perceptual hash and the camera's EXIF - pure, no store.

Read from the original (the staging file, or the store when it was stored before), never from a preview:
previews carry no EXIF. Bounded like the previews (pv_assets.gallery.previews.bounds): the pixels the
decode would give are checked on the header and held from the process's pixel budget. JPEG decodes at
1/2..1/8 scale (draft): the hash looks at 32 x 32 pixels, so a 12 MP photo costs a few hundred thousand.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Any

from pv_assets.gallery.previews.bounds import TOO_MANY_PIXELS, ResourceFailure, TooManyPixels, budget_for, check_pixels
from pv_assets.gallery.previews.plan import fit_long_side
from pv_assets.gallery.previews.render import Undecodable, check_webp_header, decode_failure, register_heif

HASH_DECODE_SIDE = 512  # decoded at least this large before hashing (the hash's 32 x 32 needs no more)
MAKE, MODEL, SOFTWARE, DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL = 0x9003
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4
TEXT_LIMIT = 64  # a camera name longer than this is cut: EXIF strings are the sender's


@dataclass(frozen=True)
class PhotoFacts:
    phash: str  # 16 hex digits: imagehash's pHash of the upright picture
    dhash: str  # its dHash: confirms a pHash match (pHash alone lets some unrelated look-alikes through)
    taken_at: str | None  # local capture time as the camera wrote it, ISO (no zone)
    gps_lat: float | None
    gps_lon: float | None
    make: str | None
    model: str | None
    software: str | None
    cpu_s: float  # CPU seconds of this thread for the decode, hash and EXIF

    @property
    def has_camera_data(self) -> bool:
        return any(v is not None for v in (self.taken_at, self.gps_lat, self.make, self.model))

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "has_camera_data": self.has_camera_data}


def photo_facts(source, max_pixels: int) -> PhotoFacts:
    """The facts of one photo file (seekable). Raises Undecodable, TooManyPixels or ResourceFailure."""
    import imagehash
    from PIL import Image, ImageOps

    started = time.thread_time()
    register_heif()
    size = getattr(source, "size", None)
    head = check_webp_header(source, max_pixels)
    try:
        with Image.open(source) as image:
            width, height = image.size
            if image.format == "JPEG" and image.info.get("progressive"):
                check_pixels(width, height, max_pixels, " (progressive JPEG)")
            image.draft("RGB", fit_long_side(width, height, HASH_DECODE_SIDE))
            check_pixels(*image.size, max_pixels)  # before getexif(): a PNG's EXIF may follow its pixels
            with budget_for(max_pixels).hold(image.size[0] * image.size[1]):
                image.load()
                tags = image.getexif()
                upright = ImageOps.exif_transpose(image.convert("RGB"))
                digest, gradient = str(imagehash.phash(upright)), str(imagehash.dhash(upright))
    except (TooManyPixels, ResourceFailure):
        raise
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"{TOO_MANY_PIXELS}: {exc}") from None
    except (OSError, ValueError, SyntaxError, RuntimeError, MemoryError) as exc:
        raise decode_failure(exc, head, size) from None
    lat, lon = gps_position(tags.get_ifd(GPS_IFD))
    return PhotoFacts(
        phash=digest,
        dhash=gradient,
        taken_at=capture_time(tags.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or tags.get(DATETIME)),
        gps_lat=lat,
        gps_lon=lon,
        make=_text(tags.get(MAKE)),
        model=_text(tags.get(MODEL)),
        software=_text(tags.get(SOFTWARE)),
        cpu_s=round(time.thread_time() - started, 6),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text[:TEXT_LIMIT] or None


def capture_time(value: Any) -> str | None:
    """EXIF's `YYYY:MM:DD HH:MM:SS` as ISO; None when missing or not a time (zeros, garbage)."""
    text = _text(value)
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _degrees(dms: Any, ref: Any) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    return -value if _text(ref) in ("S", "W") else value


def gps_position(gps: dict) -> tuple[float | None, float | None]:
    """(lat, lon) in degrees from an EXIF GPS IFD; (None, None) when absent, partial or impossible."""
    lat, lon = _degrees(gps.get(GPS_LAT), gps.get(GPS_LAT_REF)), _degrees(gps.get(GPS_LON), gps.get(GPS_LON_REF))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return round(lat, 7), round(lon, 7)


__all__ = ["PhotoFacts", "Undecodable", "capture_time", "gps_position", "photo_facts"]
