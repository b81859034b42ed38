"""Rendered photos on disk, keyed by what they are made of: a picture is drawn and encoded once per machine.

The key is a hash of the picture's spec (scene, seed, size, format, transform, EXIF) and of the
drawing code's version and Pillow's, under `$PV_CACHE_DIR/sim-photos` (default var/cache). Files
are written whole (a temporary name, then renamed), so two processes drawing the same picture at once
both end with the same complete file. Deleting the directory is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import PIL

from .render import CROP_SHARE, EXTENSIONS, RECOMPRESSED_QUALITY, RESIZE_FACTOR, PictureSpec, encode

RENDER_VERSION = 2  # raise when the drawing or encoding changes what a spec looks like
_CHUNK = 64 * 1024


def cache_root() -> Path:
    return Path(os.environ.get("PV_CACHE_DIR") or "var/cache").expanduser().absolute() / "sim-photos"


def cache_key(spec: PictureSpec) -> str:
    planted = f"|{CROP_SHARE}|{RESIZE_FACTOR}|{RECOMPRESSED_QUALITY}" if spec.transform not in ("none", "exact") else ""
    return hashlib.sha256(f"{RENDER_VERSION}|{PIL.__version__}|{spec!r}{planted}".encode()).hexdigest()


def picture_file(spec: PictureSpec) -> Path:
    """The cached file of this picture, rendered now if it is not there yet."""
    key = cache_key(spec)
    path = cache_root() / key[:2] / f"{key}{EXTENSIONS[spec.fmt]}"
    if path.is_file():
        return path
    data = encode(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return path


def picture_bytes(spec: PictureSpec) -> bytes:
    return picture_file(spec).read_bytes()


def iter_picture(spec: PictureSpec, chunk: int = _CHUNK) -> Iterator[bytes]:
    with picture_file(spec).open("rb") as handle:
        while piece := handle.read(chunk):
            yield piece


@functools.lru_cache(maxsize=200_000)
def picture_facts(spec: PictureSpec, root: Path) -> tuple[int, str]:
    """(size in bytes, sha256) of the picture; `root` is part of the key so a new cache directory counts."""
    digest = hashlib.sha256()
    size = 0
    for piece in iter_picture(spec, 1 << 20):
        digest.update(piece)
        size += len(piece)
    return size, digest.hexdigest()
