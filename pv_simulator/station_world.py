"""The served form of one simulated station: records, media files and URL routes, and the media a client
should end up with.

Pure: the same spec, base URL and CDN base always give the same station. The server only looks
things up here; nothing in this module touches the network. `build_world` makes a single quirky
station (classic.py) or a station of a group world (world_station.py); both use `MediaBuilder` to
put files on the station host, on a CDN behind signed URLs, behind redirects, or nowhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from urllib.parse import quote

from .media_gen import CONTENT_TYPES, EXTENSIONS, html_login_page, iter_media, media_sha256, min_size
from .pictures import picture_label
from .spec import ExpectedMedia, SimStationSpec
from .world.geography import REGION_NAMES

PICKED_UP = "已提货"
CDN_EXPIRES = "1893456000"  # far in the future: links in the generated world stay valid


@dataclass(frozen=True)
class MediaFile:
    """One file as the simulator serves it."""

    kind: str  # "jpeg" | "png" | "mp4" | "gif" | "html"
    seed: int
    size: int
    content_type: str | None  # None: the response carries no Content-Type
    chunked: bool = False  # True: no Content-Length, chunked transfer encoding
    label: str = ""  # written on the picture

    def iter_bytes(self, chunk: int = 64 * 1024):
        if self.kind == "html":
            return iter([html_login_page()])
        return iter_media(self.kind, self.seed, self.size, chunk, self.label)

    @property
    def ext(self) -> str:
        return EXTENSIONS.get(self.kind, ".html")

    def sha256(self) -> str:
        if self.kind == "html":
            return hashlib.sha256(html_login_page()).hexdigest()
        return media_sha256(self.kind, self.seed, self.size, self.label)


@dataclass(frozen=True)
class FileRoute:
    file: MediaFile
    # CDN only: the raw query values a request must carry (Expires, Signature).
    signed_query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RedirectRoute:
    status: int  # 301 | 302
    location: str


@dataclass(frozen=True)
class StatusRoute:
    status: int  # e.g. 410


Route = FileRoute | RedirectRoute | StatusRoute


@dataclass(frozen=True)
class MediaUrlTruth:
    """One media URL as written in a record field, and what is really behind it."""

    text: str
    canonical_url: str
    outcome: str
    file: MediaFile | None = None


@dataclass
class World:
    spec: SimStationSpec
    base_url: str
    info: dict
    records: list[dict]
    station_routes: dict[str, Route]  # decoded path -> route, on the station host
    cdn_routes: dict[str, Route]  # decoded path -> route, on the CDN
    media: list[tuple[str, str, MediaUrlTruth]] = field(default_factory=list)  # (record_id, "photo"/"video", ref)

    def canonical_urls(self) -> dict[str, str]:
        """Each URL item as written -> the file's canonical URL (one file written two ways is one file); the
        station's own files also by their path, as records write them relative to the station."""
        found: dict[str, str] = {}
        for _record, _kind, ref in self.media:
            found[ref.text.strip()] = ref.canonical_url
            if ref.canonical_url.startswith(self.base_url + "/"):
                relative = ref.canonical_url[len(self.base_url) :]
                found.setdefault(relative, ref.canonical_url)
                found.setdefault(relative.lstrip("/"), ref.canonical_url)
        return found

    def expected_media(self) -> list[ExpectedMedia]:
        by_id = {record["recordId"]: record for record in self.records}
        seen: set[tuple[str, str]] = set()
        expected = []
        for record_id, kind, ref in self.media:
            if (record_id, ref.canonical_url) in seen:
                continue
            seen.add((record_id, ref.canonical_url))
            record = by_id[record_id]
            expected.append(_expected(self.spec.station_id, record, kind, ref))
        return expected


def _expected(station_id: str, record: dict, kind: str, ref: MediaUrlTruth) -> ExpectedMedia:
    ok = ref.outcome == "ok"
    return ExpectedMedia(
        station_id=station_id,
        record_id=record["recordId"],
        id_card_no=record["idCardNo"],
        kind=kind,
        canonical_url=ref.canonical_url,
        outcome=ref.outcome,
        sha256=ref.file.sha256() if ok else None,
        size=ref.file.size if ok else None,
        ext=ref.file.ext if ok else None,
        picked_up=record["pickupStatus"] == PICKED_UP,
    )


def region_company_name(code: str) -> str:
    return REGION_NAMES.get(code, f"{code}区域公司")


def cdn_signature(path: str) -> str:
    """The raw (already percent-encoded) signature for a CDN path: always contains %2B."""
    digest = hashlib.sha256(("sim-cdn:" + path).encode()).hexdigest()
    return f"{digest[:12]}%2B{digest[12:24]}%3D"


def build_world(spec: SimStationSpec, base_url: str, cdn_base: str) -> World:
    """Generate the station's world; `base_url`/`cdn_base` are like "http://127.0.0.1:8001"."""
    if spec.world:
        from .world_station import WorldStationBuilder

        return WorldStationBuilder(spec, base_url.rstrip("/"), cdn_base.rstrip("/")).build()
    from .classic import ClassicStationBuilder

    return ClassicStationBuilder(spec, base_url.rstrip("/"), cdn_base.rstrip("/")).build()


# ----------------------------------------------------------------------------- media builder

AUTO = "auto"  # content_type default: the right type for the kind


@dataclass
class Fields:
    """The two URL fields of a record and the media refs written into them."""

    photo_text: str | None
    video_text: str | None
    photos: list[MediaUrlTruth]
    videos: list[MediaUrlTruth]


class MediaBuilder:
    """Puts a station's files where its records say they are; subclasses make the records."""

    def __init__(self, spec: SimStationSpec, base_url: str, cdn_base: str):
        self.spec = spec
        self.base_url = base_url
        self.cdn_base = cdn_base
        self.rng = random.Random(f"{spec.seed}:{spec.station_id}")
        self.station_routes: dict[str, Route] = {}
        self.cdn_routes: dict[str, Route] = {}
        self.shared: MediaUrlTruth | None = None  # the URL that two picked-up records share
        self.id_cards: set[str] = set()

    def _media_file(self, location: str, kind: str, content_type: str | None, chunked: bool) -> MediaFile:
        digest = hashlib.sha256(f"{self.spec.seed}:{self.spec.station_id}:{location}".encode()).digest()
        seed = int.from_bytes(digest[:8], "big")
        if kind == "html":
            size = len(html_login_page())
        else:
            low, high = self.spec.video_size if kind == "mp4" else self.spec.photo_size
            size = max(self.rng.randint(low, high), min_size(kind))
        if content_type == AUTO:
            content_type = CONTENT_TYPES.get(kind, "text/html; charset=utf-8")
        label = picture_label(self.spec.station_id, location, kind) if self.spec.picture_labels else ""
        return MediaFile(kind, seed, size, content_type, chunked, label)

    def file(
        self,
        record_id: str,
        name: str,
        kind: str = "jpeg",
        *,
        content_type: str | None = AUTO,
        chunked: bool = False,
        form: str = "absolute",
        media=None,
    ) -> MediaUrlTruth:
        """A file on the station host; `form` is how the record writes it: absolute, relative or encoded.
        `media`: a file made elsewhere (a world's photo) instead of one made here for `kind`."""
        path = f"/files/{record_id}/{name}"
        media = media or self._media_file("station:" + path, kind, content_type, chunked)
        self.station_routes[path] = FileRoute(media)
        outcome = "html" if kind == "html" else "ok"
        return MediaUrlTruth(self._written(path, form), self.base_url + quote(path), outcome, media)

    def _written(self, path: str, form: str) -> str:
        return {"absolute": self.base_url + path, "relative": path, "encoded": self.base_url + quote(path)}[form]

    def _cdn_url(
        self, record_id: str, name: str, kind: str, content_type: str | None, chunked: bool, media=None
    ) -> tuple[str, MediaFile]:
        path = f"/cdn/{self.spec.station_id}/{record_id}/{name}"
        media = media or self._media_file("cdn:" + path, kind, content_type, chunked)
        signed = (("Expires", CDN_EXPIRES), ("Signature", cdn_signature(path)))
        self.cdn_routes[path] = FileRoute(media, signed)
        query = "&".join(f"{key}={value}" for key, value in signed)
        return f"{self.cdn_base}{quote(path)}?{query}", media

    def cdn(
        self,
        record_id: str,
        name: str,
        kind: str = "jpeg",
        *,
        content_type: str | None = AUTO,
        chunked: bool = False,
        media=None,
    ) -> MediaUrlTruth:
        """A signed URL on the CDN (another host: no station token may go there)."""
        url, media = self._cdn_url(record_id, name, kind, content_type, chunked, media)
        return MediaUrlTruth(url, url, "ok", media)

    def redirect(self, record_id: str, name: str, kind: str = "jpeg", *, hops: int = 1, media=None) -> MediaUrlTruth:
        """A station URL that redirects (302, or 302 then 301) to a signed CDN URL."""
        target, media = self._cdn_url(record_id, name, kind, AUTO, False, media)
        path = f"/redirect/{record_id}/{name}"
        if hops == 1:
            self.station_routes[path] = RedirectRoute(302, target)
        else:
            moved = f"/moved/{record_id}/{name}"
            self.station_routes[path] = RedirectRoute(302, moved)  # relative Location, as nginx often sends
            self.station_routes[moved] = RedirectRoute(301, target)
        url = self.base_url + quote(path)
        return MediaUrlTruth(url, url, "ok", media)

    def dead(self, record_id: str, name: str, status: int) -> MediaUrlTruth:
        path = f"/files/{record_id}/{name}"
        if status != 404:  # unknown paths are 404 anyway
            self.station_routes[path] = StatusRoute(status)
        url = self.base_url + quote(path)
        return MediaUrlTruth(url, url, {404: "not_found", 410: "gone"}[status])

    @staticmethod
    def rejected(url: str) -> MediaUrlTruth:
        return MediaUrlTruth(url, url, "rejected")


def join_refs(refs: list[MediaUrlTruth], sep: str = ",") -> str:
    return sep.join(ref.text for ref in refs)


def fmt_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
