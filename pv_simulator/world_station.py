"""One station of a group world, served: its installations as v1 records, its photos and videos as routes.

A record is v1 (station-api.md) plus the fields a planner uses (address parts, coordinates, install
date) and one URL field per kind of photo (typed_photos.WORLD_PHOTO_FIELDS; photoUrls for the
others); the dialect renders it in its own shape. Files live where the station keeps them: on its
own host, on a CDN behind signed URLs, or behind a redirect to one; a dead link is a 404, a 410 or
a login page instead of the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

from .camera.cache import cache_root, iter_picture, picture_facts
from .camera.render import CONTENT_TYPES, EXTENSIONS, PictureSpec, picture_spec
from .media_gen import CONTENT_TYPES as VIDEO_TYPES
from .spec import SimStationSpec
from .station_world import MediaBuilder, MediaFile, MediaUrlTruth, World, fmt_time, region_company_name
from .typed_photos import OTHER_PHOTOS, VIDEOS, WORLD_PHOTO_FIELDS
from .world import GroupWorld, group_world, world_size
from .world.model import GONE, HTML_PAGE, NOT_FOUND, Installation, Photo, StationPlan, Video
from .world.sizes import WorldSizeError, check_seed


def world_ref(size_name: str, seed: int, stations: int | None = None, installations: int | None = None) -> str:
    """How a SimStationSpec names its world: "medium:1", or "medium/50x4000:1" for a resized one."""
    size = world_size(size_name, stations=stations, installations=installations)
    check_seed(seed)
    if size.label == size.name:
        return f"{size.name}:{seed}"
    return f"{size.name}/{size.stations}x{size.installations}:{seed}"


def world_of(ref: str) -> GroupWorld:
    """The group world a `world_ref` names (built once per process)."""
    try:
        size_part, seed_text = ref.rsplit(":", 1)
        name, _, counts = size_part.partition("/")
        stations, installations = (int(n) for n in counts.split("x")) if counts else (None, None)
        seed = int(seed_text)
    except ValueError:
        raise WorldSizeError(f"{ref!r} is not a world reference like 'small:1' or 'medium/50x4000:1'") from None
    return group_world(world_size(name, stations=stations, installations=installations), seed)


@dataclass(frozen=True)
class WorldPhotoFile:
    """A world photo as the simulator serves it: rendered once into the disk cache, streamed from there."""

    picture: PictureSpec
    chunked: bool = False

    @property
    def kind(self) -> str:
        return self.picture.fmt

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.picture.fmt]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.picture.fmt]

    @property
    def size(self) -> int:
        return picture_facts(self.picture, cache_root())[0]

    def sha256(self) -> str:
        return picture_facts(self.picture, cache_root())[1]

    def iter_bytes(self, chunk: int = 64 * 1024):
        return iter_picture(self.picture, chunk)


def world_specs(
    ref: str,
    *,
    dialect: str = "default",
    photo_profile: str = "small",
    url_shapes: str = "text",
    max_connections: int = 4,
) -> list[SimStationSpec]:
    """A SimStationSpec per station of the world, each as the world says it is (slow, password changed ...)."""
    world = world_of(ref)
    return [
        SimStationSpec(
            station_id=plan.station_id,
            name=plan.name,
            region_company_code=plan.region_code,
            records=len(plan.installations),
            seed=world.seed,
            max_connections=max_connections,
            quirks=False,
            dialect=dialect,
            url_shapes=url_shapes,
            world=ref,
            photo_profile=photo_profile,
            latency_ms=plan.latency_ms,
            password_changed=plan.health == "login_fails",
        )
        for plan in world.stations
    ]


class WorldStationBuilder(MediaBuilder):
    def __init__(self, spec: SimStationSpec, base_url: str, cdn_base: str):
        super().__init__(spec, base_url, cdn_base)
        self.world = world_of(spec.world)
        self.plan: StationPlan = self.world.station(spec.station_id)

    def build(self) -> World:
        records, media = [], []
        for installation in self.plan.installations:
            fields: dict[str, list[MediaUrlTruth]] = {name: [] for name in (OTHER_PHOTOS, *WORLD_PHOTO_FIELDS.values())}
            for photo in installation.photos:
                ref = self._photo(installation.record_id, photo)
                fields[WORLD_PHOTO_FIELDS.get(photo.type, OTHER_PHOTOS)].append(ref)
                media.append((installation.record_id, "photo", ref))
            videos = [self._video(installation.record_id, video) for video in installation.videos]
            media += [(installation.record_id, "video", ref) for ref in videos]
            records.append(world_record(installation, fields, videos))
        info = {
            "stationCode": self.spec.station_id,
            "stationName": self.plan.name,
            "regionCompanyCode": self.plan.region_code,
            "regionCompanyName": region_company_name(self.plan.region_code),
        }
        return World(self.spec, self.base_url, info, records, self.station_routes, self.cdn_routes, media)

    def _place(self, record_id: str, name: str, media, outcome: str) -> MediaUrlTruth:
        """The file where the station keeps its files, or the dead link it gives instead."""
        if outcome == NOT_FOUND:
            return self.dead(record_id, name, 404)
        if outcome == GONE:
            return self.dead(record_id, name, 410)
        if outcome == HTML_PAGE:
            return self.file(record_id, name, "html", content_type="image/jpeg")  # a login page, the header lies
        host = self.plan.media_host
        if host == "cdn":
            return self.cdn(record_id, name, media=media)
        if host == "redirect":
            return self.redirect(record_id, name, media=media)
        return self.file(record_id, name, media=media)

    def _photo(self, record_id: str, photo: Photo) -> MediaUrlTruth:
        return self._place(
            record_id, photo.name, WorldPhotoFile(picture_spec(photo, self.spec.photo_profile)), photo.outcome
        )

    def _video(self, record_id: str, video: Video) -> MediaUrlTruth:
        media = MediaFile("mp4", video.seed, video.size, VIDEO_TYPES["mp4"])
        return self._place(record_id, video.name, media, video.outcome)


def _text(refs: list[MediaUrlTruth]) -> str | None:
    return ",".join(ref.text for ref in refs) or None


def world_record(
    installation: Installation, fields: dict[str, list[MediaUrlTruth]], videos: list[MediaUrlTruth]
) -> dict:
    """The installation as a v1 record with the planner's fields and a URL field per kind of photo."""
    i = installation
    record = {
        "recordId": i.record_id,
        "projectName": i.project_name,
        "ownerName": i.owner_name,
        "idCardNo": i.id_card_no,
        "phone": i.phone,
        "address": i.address,
        "province": i.province,
        "city": i.city,
        "county": i.county,
        "town": i.town,
        "village": i.village,
        "latitude": i.lat,
        "longitude": i.lon,
        "capacityKw": i.capacity_kw,
        "installDate": i.install_date.isoformat() if i.install_date else None,
        "pickupStatus": i.pickup_status,
        "pickupTime": fmt_time(i.pickup_time) if i.pickup_time else None,
    }
    record.update({name: _text(refs) for name, refs in fields.items()})
    record[VIDEOS] = _text(videos)
    record["updatedAt"] = fmt_time(i.updated_at)
    return record
