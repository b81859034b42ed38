"""EXIF as a phone writes it: make, model, software, the local capture time with its offset, GPS, orientation."""

from __future__ import annotations

import datetime as dt

from PIL import Image
from PIL.TiffImagePlugin import IFDRational as Fraction

from ..world.model import Exif

MAKE, MODEL, SOFTWARE, DATETIME, ORIENTATION = 0x010F, 0x0110, 0x0131, 0x0132, 0x0112
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, DATETIME_DIGITIZED, OFFSET_TIME, OFFSET_TIME_ORIGINAL = 0x9003, 0x9004, 0x9010, 0x9011
FOCAL_LENGTH, FOCAL_LENGTH_35MM, PIXEL_X, PIXEL_Y = 0x920A, 0xA405, 0xA002, 0xA003
GPS_VERSION, GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 0, 1, 2, 3, 4
GPS_ALT_REF, GPS_ALT, GPS_TIME, GPS_DATE = 5, 6, 7, 29
UTC_OFFSET = dt.timedelta(hours=8)  # the world's times are Beijing time


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return Fraction(degrees), Fraction(minutes), Fraction(round(seconds * 10_000), 10_000)


def exif_bytes(exif: Exif, width: int, height: int) -> bytes:
    """The EXIF block (TIFF structure) for a photo whose stored pixels are width x height."""
    stamp = f"{exif.taken:%Y:%m:%d %H:%M:%S}"
    tags = Image.Exif()
    tags[MAKE], tags[MODEL], tags[SOFTWARE], tags[DATETIME] = exif.make, exif.model, exif.software, stamp
    tags[ORIENTATION] = exif.orientation
    tags[EXIF_IFD] = {
        DATETIME_ORIGINAL: stamp,
        DATETIME_DIGITIZED: stamp,
        OFFSET_TIME: "+08:00",
        OFFSET_TIME_ORIGINAL: "+08:00",
        FOCAL_LENGTH: Fraction(554, 100),
        FOCAL_LENGTH_35MM: 26,
        PIXEL_X: width,
        PIXEL_Y: height,
    }
    if exif.lat is not None and exif.lon is not None:
        utc = exif.taken - UTC_OFFSET
        tags[GPS_IFD] = {
            GPS_VERSION: b"\x02\x02\x00\x00",
            GPS_LAT_REF: "N" if exif.lat >= 0 else "S",
            GPS_LAT: _dms(exif.lat),
            GPS_LON_REF: "E" if exif.lon >= 0 else "W",
            GPS_LON: _dms(exif.lon),
            GPS_ALT_REF: b"\x00",
            GPS_ALT: Fraction(round((exif.altitude_m or 0.0) * 10), 10),
            GPS_TIME: (Fraction(utc.hour), Fraction(utc.minute), Fraction(utc.second)),
            GPS_DATE: f"{utc:%Y:%m:%d}",
        }
    return tags.tobytes()


def read_gps(tags: Image.Exif) -> tuple[float, float] | None:
    """(lat, lon) of an EXIF block, for tests and self-checks; None without GPS."""
    gps = tags.get_ifd(GPS_IFD)
    if GPS_LAT not in gps or GPS_LON not in gps:
        return None

    def degrees(dms, ref: str) -> float:
        value = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
        return -value if ref in ("S", "W") else value

    return degrees(gps[GPS_LAT], gps.get(GPS_LAT_REF, "N")), degrees(gps[GPS_LON], gps.get(GPS_LON_REF, "E"))
