"""The world's ground truth as a JSON document: every planted case and the figures pv-media is scored against.

Figures are computed from the world model, never from what pv-media made of it: counts per
station and region (installations, picked up, complete, missing and unavailable photo types,
failing files), capacity and pickups per region and month, the failing, slow and stale stations,
and per photo the facts a detector should find (GPS distance, capture time against the install
date, no EXIF) with their cause. A photo is named by station, record and file name, and by the
tail of its URL path (`{record}/{file}`), which is the same whichever host serves it.

Personal fields (owner, ID number, phone) never appear here.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .geography import distance_m
from .model import REQUIRED_PHOTO_TYPES, SERVED_OK, WORLD_NOW, GroupWorld, Installation, Photo, StationPlan

TRUTH_FORMAT = "pv-media world truth 1"
# Where a finding starts; a scorer may apply its own (every distance and gap is in the file).
THRESHOLDS = {"gps_far_m": 1_000, "captured_before_install_days": 30}


def photo_ref(plan: StationPlan, installation: Installation, photo: Photo) -> dict[str, Any]:
    return {
        "station_id": plan.station_id,
        "record_id": installation.record_id,
        "file": photo.name,
        "path_tail": f"{installation.record_id}/{photo.name}",
        "type": photo.type,
    }


def gps_distance_m(installation: Installation, photo: Photo) -> float | None:
    if photo.exif is None or photo.exif.lat is None:
        return None
    return distance_m(installation.lat, installation.lon, photo.exif.lat, photo.exif.lon)


def days_before_install(installation: Installation, photo: Photo) -> int | None:
    if photo.exif is None or installation.install_date is None:
        return None
    return (installation.install_date - photo.exif.taken.date()).days


def truth_document(world: GroupWorld) -> dict[str, Any]:
    return {
        "format": TRUTH_FORMAT,
        "world": {
            "size": world.size.label,
            "seed": world.seed,
            "stations": len(world.stations),
            "installations": sum(len(plan.installations) for plan in world.stations),
            "now": WORLD_NOW.isoformat(sep=" "),
            "time_zone": "Asia/Shanghai",
        },
        "required_photo_types": list(REQUIRED_PHOTO_TYPES),
        "thresholds": THRESHOLDS,
        "regions": [
            {
                "code": region.code,
                "name": region.name,
                "province": region.province,
                "city": region.city,
                "stations": [plan.station_id for plan in world.stations if plan.region_code == region.code],
            }
            for region in world.regions
        ],
        "stations": [_station(world, plan) for plan in world.stations],
        "figures": _figures(world),
        "planted": _planted(world),
        "findings": _findings(world),
        "installations": [_installation(plan, i) for plan in world.stations for i in plan.installations],
    }


def write_truth(world: GroupWorld, path: Path) -> dict[str, Any]:
    """Write the truth file (JSON, UTF-8) and return its document."""
    document = truth_document(world)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    partial.replace(path)
    return document


def _type_counts(installations: list[Installation], what: str) -> dict[str, int]:
    counts = Counter(kind for i in installations for kind in getattr(i, what)())
    return {kind: counts.get(kind, 0) for kind in REQUIRED_PHOTO_TYPES}


def _station(world: GroupWorld, plan: StationPlan) -> dict[str, Any]:
    installations = plan.installations
    picked = [i for i in installations if i.picked_up]
    photos = [p for i in picked for p in i.photos]
    videos = [v for i in picked for v in i.videos]
    entry = {
        "id": plan.station_id,
        "name": plan.name,
        "region_code": plan.region_code,
        "region_name": world.region_name(plan.region_code),
        "counties": list(plan.counties),
        "health": plan.health,
        "login_fails": plan.health == "login_fails",
        "latency_ms": plan.latency_ms,
        "media_host": plan.media_host,
        "installations": len(installations),
        "picked_up": len(picked),
        "picked_up_share": round(len(picked) / len(installations), 4),
        "capacity_kw_picked_up": round(sum(i.capacity_kw for i in picked), 2),
        "complete": sum(not i.missing_types() for i in picked),
        "complete_and_served": sum(not i.missing_types() and not i.unavailable_types() for i in picked),
        "missing_types": _type_counts(picked, "missing_types"),
        "unavailable_types": _type_counts(picked, "unavailable_types"),
        "photos_of_picked_up": len(photos),
        "photos_failing": sum(p.outcome != SERVED_OK for p in photos),
        "failing_by_outcome": dict(Counter(p.outcome for p in photos + videos if p.outcome != SERVED_OK)),
        "videos_of_picked_up": len(videos),
        "videos_failing": sum(v.outcome != SERVED_OK for v in videos),
    }
    if plan.stale_days:
        since = plan.stale_since
        entry.update(
            stale_days=plan.stale_days,
            stale_since=since.isoformat(sep=" "),
            picked_up_as_of_stale_since=sum(i.updated_at <= since for i in picked),
        )
    return entry


def _figures(world: GroupWorld) -> dict[str, Any]:
    by_region: dict[str, dict[str, Any]] = {}
    by_month: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for region in world.regions:
        plans = [plan for plan in world.stations if plan.region_code == region.code]
        picked = [i for plan in plans for i in plan.installations if i.picked_up]
        by_region[region.code] = {
            "name": region.name,
            "stations": len(plans),
            "installations": sum(len(plan.installations) for plan in plans),
            "picked_up": len(picked),
            "capacity_kw_picked_up": round(sum(i.capacity_kw for i in picked), 2),
            "complete": sum(not i.missing_types() for i in picked),
            "missing_types": _type_counts(picked, "missing_types"),
        }
        for i in picked:
            pickup_month = f"{i.pickup_time:%Y-%m}"
            install_month = f"{i.install_date:%Y-%m}"
            by_month[region.code][pickup_month]["picked_up"] += 1
            by_month[region.code][install_month]["installed"] += 1
            by_month[region.code][install_month]["capacity_kw_installed"] += i.capacity_kw
    months = {
        code: {
            month: {
                name: round(value, 2) if name.startswith("capacity") else int(value)
                for name, value in sorted(v.items())
            }
            for month, v in sorted(table.items())
        }
        for code, table in sorted(by_month.items())
    }
    photos = [(plan, i, p) for plan, i, p in world.photos() if i.picked_up]
    return {
        "failing_stations": [p.station_id for p in world.stations if p.health == "login_fails"],
        "stale_stations": [p.station_id for p in world.stations if p.stale_days],
        "slow_stations": [p.station_id for p in world.stations if p.latency_ms],
        "broken_link_stations": [p.station_id for p in world.stations if p.health == "broken_links"],
        "by_region": by_region,
        "by_region_month": months,
        "photos_by_type": dict(sorted(Counter(p.type for _, _, p in photos).items())),
        "photos_by_format": dict(sorted(Counter(p.fmt for _, _, p in photos).items())),
    }


def _planted(world: GroupWorld) -> dict[str, Any]:
    located = {p.photo_id(plan.station_id, i.record_id): (plan, i, p) for plan, i, p in world.photos()}
    clusters: dict[str, dict[str, Any]] = {}
    gps_far, early = [], []
    for plan, installation, photo in world.photos():
        ref = photo_ref(plan, installation, photo)
        if "reuse_copy" in photo.planted:
            source = located[photo.source]
            cluster = clusters.setdefault(photo.source, {"source": photo_ref(*source), "copies": []})
            cluster["copies"].append({**ref, "transform": photo.transform, "exif_kept": photo.exif is not None})
        if "gps_far" in photo.planted:
            gps_far.append({**ref, "distance_m": round(gps_distance_m(installation, photo))})
        if "captured_early" in photo.planted:
            early.append({**ref, "days_before_install": days_before_install(installation, photo)})
    missing = [
        {"station_id": plan.station_id, "record_id": i.record_id, "missing": i.missing_types()}
        for plan in world.stations
        for i in plan.installations
        if i.missing_types()
    ]
    reuse = [{"cluster": n + 1, **cluster} for n, (_key, cluster) in enumerate(sorted(clusters.items()))]
    return {"reuse": reuse, "gps_far": gps_far, "captured_early": early, "missing_types": missing}


def _findings(world: GroupWorld) -> dict[str, Any]:
    """What a detector should report on the served photos of picked-up installations, with the cause."""
    far, early, no_exif = [], [], []
    for plan, installation, photo in world.photos():
        if not installation.picked_up or photo.outcome != SERVED_OK or plan.health == "login_fails":
            continue
        ref = photo_ref(plan, installation, photo)
        cause = photo.planted[0] if photo.planted else "none"
        distance = gps_distance_m(installation, photo)
        if distance is not None and distance > THRESHOLDS["gps_far_m"]:
            far.append({**ref, "distance_m": round(distance), "cause": cause})
        days = days_before_install(installation, photo)
        if days is not None and days > THRESHOLDS["captured_before_install_days"]:
            early.append({**ref, "days_before_install": days, "cause": cause})
        if photo.exif is None:
            no_exif.append({**ref, "format": photo.fmt})
    return {"gps_far": far, "captured_early": early, "no_exif": no_exif}


def _installation(plan: StationPlan, i: Installation) -> dict[str, Any]:
    return {
        "station_id": plan.station_id,
        "record_id": i.record_id,
        "pickup_status": i.pickup_status,
        "capacity_kw": i.capacity_kw,
        "install_date": i.install_date.isoformat() if i.install_date else None,
        "pickup_time": i.pickup_time.isoformat(sep=" ") if i.pickup_time else None,
        "province": i.province,
        "city": i.city,
        "county": i.county,
        "town": i.town,
        "village": i.village,
        "lat": i.lat,
        "lon": i.lon,
        "photos": len(i.photos),
        "videos": len(i.videos),
        "missing_types": i.missing_types(),
    }
