"""A photo of the world as the bytes a station serves: drawn, transformed as planted, encoded with its EXIF.

`PictureSpec` is everything the bytes depend on; `picture_bytes` and `picture_file` render a spec
once and keep it in the disk cache (cache.py), so a test or the demo pays for a picture once.

Photo profiles say how big pictures are: `tiny` (tests), `small` (the demo: 1024-1280 px, 100-300
KB), `phone` (4000x3000 as a phone camera takes them, several MB).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ..world.model import Exif, Photo
from . import scenes
from .exif import exif_bytes

# Long side (landscape width) choices per profile; screenshots are a phone screen's size instead.
PHOTO_PROFILES: dict[str, tuple[int, ...]] = {"tiny": (320,), "small": (1024, 1152), "phone": (4000, 4032)}
SCREENS = {"tiny": (180, 390), "small": (540, 1170), "phone": (1080, 2340)}
QUALITY = {"tiny": 85, "small": 88, "phone": 92}
RECOMPRESSED_QUALITY = 55
RESIZE_FACTOR = 0.6
CROP_SHARE = 0.015  # cut from each side: a small crop
CONTENT_TYPES = {"jpeg": "image/jpeg", "heic": "image/heic", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {"jpeg": ".jpg", "heic": ".heic", "png": ".png", "webp": ".webp"}


class UnknownProfile(ValueError):
    pass


@dataclass(frozen=True)
class PictureSpec:
    scene: str
    scene_seed: int
    fmt: str
    width: int  # the upright picture as drawn, before a planted transform
    height: int
    quality: int
    transform: str = "none"
    exif: Exif | None = None


def check_profile(profile: str) -> str:
    if profile not in PHOTO_PROFILES:
        raise UnknownProfile(f"unknown photo size {profile!r}: choose one of {', '.join(PHOTO_PROFILES)}")
    return profile


def picture_spec(photo: Photo, profile: str) -> PictureSpec:
    """How big and how encoded a world photo is in this profile; a reused copy draws its source's picture."""
    check_profile(profile)
    if photo.scene == "screenshot":
        width, height = SCREENS[profile]
    else:
        sides = PHOTO_PROFILES[profile]
        long_side = sides[photo.scene_seed % len(sides)]
        width, height = long_side, long_side * 3 // 4
        if photo.portrait:
            width, height = height, width
    return PictureSpec(
        photo.scene, photo.scene_seed, photo.fmt, width, height, QUALITY[profile], photo.transform, photo.exif
    )


def upright_picture(spec: PictureSpec) -> Image.Image:
    """The picture as a viewer shows it (after the EXIF orientation is applied)."""
    image = scenes.draw(spec.scene, spec.scene_seed, spec.width, spec.height)
    if spec.transform == "resized":
        image = image.resize(
            (round(spec.width * RESIZE_FACTOR), round(spec.height * RESIZE_FACTOR)), Image.Resampling.LANCZOS
        )
    elif spec.transform == "cropped":
        dx, dy = round(spec.width * CROP_SHARE), round(spec.height * CROP_SHARE)
        image = image.crop((dx, dy, spec.width - dx, spec.height - dy))
    return image


def stored_pixels(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels as a phone stores them for an EXIF orientation (what exif_transpose undoes)."""
    turn = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    method = turn.get(orientation)
    return upright if method is None else upright.transpose(method)


def encode(spec: PictureSpec) -> bytes:
    upright = upright_picture(spec)
    out = io.BytesIO()
    quality = RECOMPRESSED_QUALITY if spec.transform == "recompressed" else spec.quality
    if spec.fmt == "jpeg":
        orientation = spec.exif.orientation if spec.exif else 1
        stored = stored_pixels(upright, orientation)
        extra = {"exif": exif_bytes(spec.exif, *stored.size)} if spec.exif else {}
        stored.save(out, "JPEG", quality=quality, **extra)
    elif spec.fmt == "heic":
        import pillow_heif  # the simulator's encoder (dev dependency); pi-heif decodes at run time

        extra = {"exif": exif_bytes(spec.exif, *upright.size)} if spec.exif else {}
        heif = pillow_heif.from_pillow(upright)
        heif.save(out, format="HEIF", quality=min(quality, 75), enc_params={"preset": "ultrafast"}, **extra)
    elif spec.fmt == "png":
        upright.save(out, "PNG", optimize=False, compress_level=6)
    elif spec.fmt == "webp":
        upright.save(out, "WEBP", quality=80, method=2)
    else:
        raise ValueError(f"not a photo format: {spec.fmt!r}")
    return out.getvalue()
