"""The problems a supervisor looks for, planted on purpose so that pv-media can be scored on finding them.

- reuse: a photo of one household submitted for another (1-2 others), as it was or resized,
  recompressed, cropped or turned (stored rotated with an EXIF orientation that turns it back);
  the copy replaces the other household's own photo of that kind;
- GPS far: a photo whose GPS is 3-60 km from its installation;
- captured early: a photo taken 120-700 days before its install date.

Only in stations that get collected (not the one whose login fails) and only on photos that are
served, so every planted case can be found. Installations missing a required kind come from each
station's discipline (photos.py); the truth file lists them all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from .geography import offset
from .model import (
    CAPTURED_EARLY,
    GPS_FAR,
    REUSE_COPY,
    REUSE_SOURCE,
    REUSE_TRANSFORMS,
    SERVED_OK,
    GroupWorld,
    Installation,
    Photo,
    StationPlan,
)
from .photos import photo_name

REUSED_KINDS = ("roof_panorama", "modules", "inverter", "meter_box")
# A crop moves a regular grid (modules, a roof of arrays) against a hash's 32x32 sampling: such a cropped picture is no
# longer the same picture to pHash, so crops are planted on pictures whose structure survives them.
CROPPED_KINDS = ("inverter", "meter_box")


def plant_problems(world: GroupWorld, rng: random.Random) -> None:
    candidates = [
        (plan, installation)
        for plan in world.stations
        if plan.health != "login_fails"
        for installation in plan.installations
        if installation.picked_up and installation.install_date is not None
    ]
    if len(candidates) < 4:
        return
    _plant_reuse(candidates, max(3, len(candidates) // 50), rng)
    _plant_exif(candidates, max(2, len(candidates) // 60), rng, _far_away, GPS_FAR)
    _plant_exif(candidates, max(2, len(candidates) // 60), rng, _long_before, CAPTURED_EARLY)


def _clean(photo: Photo) -> bool:
    return photo.outcome == SERVED_OK and not photo.planted and photo.fmt == "jpeg" and photo.exif is not None


def _replace(installation: Installation, old: Photo, new: Photo) -> None:
    installation.photos[installation.photos.index(old)] = new


def _plant_reuse(candidates: list[tuple[StationPlan, Installation]], clusters: int, rng: random.Random) -> None:
    turn = 0
    for _ in range(clusters):
        plan, source_installation = rng.choice(candidates)
        transform = REUSE_TRANSFORMS[turn % len(REUSE_TRANSFORMS)]
        kinds = CROPPED_KINDS if transform == "cropped" else REUSED_KINDS
        sources = [p for p in source_installation.photos if _clean(p) and p.type in kinds]
        if not sources:
            continue
        source = rng.choice(sources)
        source_id = source.photo_id(plan.station_id, source_installation.record_id)
        # Mostly a neighbour of the same region, sometimes anywhere in the group.
        same_region = [
            c for c in candidates if c[0].region_code == plan.region_code and c[1] is not source_installation
        ]
        copies, wanted = 0, 2 if turn < len(REUSE_TRANSFORMS) else rng.choice([1, 1, 2])  # every transform once
        for _attempt in range(12):
            if copies == wanted:
                break
            target_plan, target = rng.choice(same_region if same_region and rng.random() < 0.8 else candidates)
            own = [p for p in target.photos if _clean(p) and p.type == source.type]
            if target is source_installation or not own:
                continue
            transform = REUSE_TRANSFORMS[turn % len(REUSE_TRANSFORMS)]
            if transform == "cropped" and source.type not in CROPPED_KINDS:
                transform = "resized"
            turn += 1
            _replace(target, own[0], _copy_of(source, source_id, transform, own[0], target, rng))
            copies += 1
        if copies:
            _replace(source_installation, source, dataclasses.replace(source, planted=(REUSE_SOURCE,)))


def _copy_of(source: Photo, source_id: str, transform: str, own: Photo, target: Installation, rng) -> Photo:
    """The source's picture under the target's record, as it arrived after `transform`."""
    exif = source.exif
    if transform == "rotated":
        exif = dataclasses.replace(exif, orientation={1: 6, 6: 8, 3: 6, 8: 6}[exif.orientation])
    elif transform != "exact" and rng.random() < 0.5:
        exif = None  # through a messenger
    taken_names = {p.name for p in target.photos} - {own.name}
    name = source.name if transform == "exact" and source.name not in taken_names else None
    name = name or photo_name(exif or source.type, exif.taken if exif else source.exif.taken, "jpeg", rng, taken_names)
    return dataclasses.replace(
        source, name=name, transform=transform, exif=exif, planted=(REUSE_COPY,), source=source_id
    )


def _far_away(photo: Photo, installation: Installation, rng: random.Random) -> Photo | None:
    if photo.exif.lat is None:
        return None
    lat, lon = offset(installation.lat, installation.lon, rng.uniform(3_000, 60_000), rng.uniform(0, 360))
    return dataclasses.replace(photo, exif=dataclasses.replace(photo.exif, lat=round(lat, 6), lon=round(lon, 6)))


def _long_before(photo: Photo, installation: Installation, rng: random.Random) -> Photo | None:
    taken = dt.datetime.combine(installation.install_date, photo.exif.taken.time()) - dt.timedelta(
        days=rng.randint(120, 700)
    )
    exif = dataclasses.replace(photo.exif, taken=taken)
    taken_names = {p.name for p in installation.photos} - {photo.name}
    return dataclasses.replace(photo, exif=exif, name=photo_name(exif, taken, photo.fmt, rng, taken_names))


def _plant_exif(candidates, count: int, rng: random.Random, change, mark: str) -> None:
    planted = 0
    for _attempt in range(count * 20):
        if planted == count:
            return
        _plan, installation = rng.choice(candidates)
        photos = [p for p in installation.photos if _clean(p)]
        if not photos:
            continue
        photo = rng.choice(photos)
        changed = change(photo, installation, rng)
        if changed is not None:
            _replace(installation, photo, dataclasses.replace(changed, planted=(mark,)))
            planted += 1
