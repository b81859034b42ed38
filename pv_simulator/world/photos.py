"""An installation's photos and videos: which kinds, how many, in which format, with what a phone writes.

A picked-up installation gets a photo of every required kind (modules and nameplates sometimes
twice) and now and then others (the site, a document, a screenshot of the installer's app); a
station's `discipline` decides how often a kind is left out. Photos are taken by the station's
installers' phones around the install date, a few metres from the house; some travel through a
messenger that strips their EXIF (mmexport*.jpg, WebP), screenshots never had any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from .geography import offset
from .model import (
    GONE,
    HTML_PAGE,
    NOT_FOUND,
    PARTLY_PICKED_UP,
    PICKED_UP,
    REQUIRED_PHOTO_TYPES,
    SERVED_OK,
    Camera,
    Exif,
    Installation,
    Photo,
    StationPlan,
    Video,
)

EXTRA_SHOTS = {"modules": 0.35, "nameplate": 0.2}  # chance of a second photo of the kind
MISSING_WEIGHTS = {
    "nameplate": 3,
    "grid_connection": 3,
    "meter_box": 2,
    "inverter": 1.5,
    "modules": 1,
    "roof_panorama": 1,
}
BROKEN_SHARE = {"broken_links": 0.35}  # share of a station's files that are dead; others 0.7 %
HEALTHY_BROKEN_SHARE = 0.007
OTHER_SCENES = ["site", "site", "document", "screenshot"]
FORWARDED_SHARE, WEBP_SHARE, NO_GPS_SHARE = 0.05, 0.015, 0.08


def installation_media(
    plan: StationPlan, installation: Installation, rng: random.Random, seed: int, video_share: float
) -> tuple[list[Photo], list[Video]]:
    if installation.pickup_status == PICKED_UP:
        kinds = [kind for kind in REQUIRED_PHOTO_TYPES if kind not in _left_out(plan, rng)]
    elif installation.pickup_status == PARTLY_PICKED_UP:
        kinds = ["roof_panorama"] if rng.random() < 0.6 else []  # the survey photo of the roof
    else:
        kinds = []
    camera = rng.choice(plan.cameras)  # the installer's phone
    shots: list[str] = []
    for kind in kinds:
        shots += [kind] * (2 if rng.random() < EXTRA_SHOTS.get(kind, 0.0) else 1)
    if installation.picked_up:
        shots += ["other"] * rng.choices([0, 1, 2], [70, 22, 8])[0]
    photos: list[Photo] = []
    for index, kind in enumerate(shots):
        photos.append(_photo(plan, installation, camera, kind, index, rng, seed, {p.name for p in photos}))
    videos = []
    if installation.picked_up and rng.random() < video_share:
        taken = _taken(installation, rng)
        name = f"VID_{taken:%Y%m%d_%H%M%S}.mp4"
        video_seed = _seed(seed, plan.station_id, installation.record_id, name)
        videos.append(Video(name, video_seed, rng.randint(200_000, 700_000), _outcome(plan, rng)))
    return photos, videos


def _left_out(plan: StationPlan, rng: random.Random) -> set[str]:
    if rng.random() >= plan.discipline:
        return set()
    count = rng.choices([1, 2, 3], [70, 25, 5])[0]
    kinds, weights = list(MISSING_WEIGHTS), list(MISSING_WEIGHTS.values())
    left: set[str] = set()
    while len(left) < count:
        left.add(rng.choices(kinds, weights)[0])
    return left


def _seed(*parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _taken(installation: Installation, rng: random.Random) -> dt.datetime:
    """When the installer took it: on the install day mostly, a day or two around it otherwise."""
    if installation.install_date is not None:
        day = installation.install_date + dt.timedelta(days=rng.choices([0, -1, -2, 1], [75, 12, 5, 8])[0])
    else:
        day = (installation.pickup_time or installation.updated_at).date()
    taken = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59)))
    return min(taken, installation.updated_at)


def _outcome(plan: StationPlan, rng: random.Random) -> str:
    if rng.random() >= BROKEN_SHARE.get(plan.health, HEALTHY_BROKEN_SHARE):
        return SERVED_OK
    return rng.choices([NOT_FOUND, GONE, HTML_PAGE], [60, 20, 20])[0]


def camera_exif(camera: Camera, installation: Installation, taken: dt.datetime, rng: random.Random, portrait: bool):
    lat = lon = altitude = None
    if rng.random() >= NO_GPS_SHARE:  # location off on some phones
        lat, lon = offset(installation.lat, installation.lon, rng.uniform(3, 40), rng.uniform(0, 360))
        lat, lon, altitude = round(lat, 6), round(lon, 6), round(rng.uniform(8, 90), 1)
    orientation = 6 if portrait else (3 if rng.random() < 0.03 else 1)
    return Exif(camera.make, camera.model, camera.software, taken, lat, lon, altitude, orientation)


def photo_name(
    exif_or_kind: Exif | str, taken: dt.datetime, fmt: str, rng: random.Random, taken_names: set[str]
) -> str:
    """The file name the phone or app gave it: IMG_20250314_101523.jpg, IMG_4711.HEIC, mmexport1710382523123.jpg,
    Screenshot_20250314-101523.png, a hex name for a WebP; unique within the installation."""
    if isinstance(exif_or_kind, Exif) and exif_or_kind.make == "Apple":
        name = f"IMG_{rng.randint(1000, 9999)}.{'HEIC' if fmt == 'heic' else 'JPG'}"
    elif isinstance(exif_or_kind, Exif):
        name = f"IMG_{taken:%Y%m%d_%H%M%S}.jpg"
    elif fmt == "png":
        name = f"Screenshot_{taken:%Y%m%d-%H%M%S}.png"
    elif fmt == "webp":
        name = f"{rng.getrandbits(64):016x}.webp"
    else:
        epoch_ms = int((taken - dt.datetime(1970, 1, 1, 8)).total_seconds()) * 1000  # Beijing time, on any machine
        name = f"mmexport{epoch_ms + rng.randint(0, 999)}.jpg"
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken_names:
        candidate, n = f"{stem}_{n}{dot}{ext}", n + 1
    return candidate


def _photo(
    plan: StationPlan,
    installation: Installation,
    camera: Camera,
    kind: str,
    index: int,
    rng: random.Random,
    seed: int,
    taken_names: set[str],
) -> Photo:
    taken = _taken(installation, rng)
    scene = rng.choice(OTHER_SCENES) if kind == "other" else kind
    portrait = scene in ("inverter", "meter_box", "nameplate", "document") and rng.random() < 0.5
    exif = None
    if scene == "screenshot":
        fmt, portrait = "png", True
    elif rng.random() < WEBP_SHARE:
        fmt = "webp"
    elif rng.random() < FORWARDED_SHARE:
        fmt = "jpeg"  # sent through a messenger: EXIF gone
    else:
        fmt = "heic" if rng.random() < camera.heic_share else "jpeg"
        exif = camera_exif(camera, installation, taken, rng, portrait and fmt == "jpeg")
    name = photo_name(exif or kind, taken, fmt, rng, taken_names)
    scene_seed = _seed(seed, plan.station_id, installation.record_id, index, kind)
    return Photo(name, kind, fmt, scene, scene_seed, portrait=portrait, exif=exif, outcome=_outcome(plan, rng))
