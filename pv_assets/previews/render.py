"""Decoding originals and encoding previews: every Pillow and PyAV call of pv-media is here.

Originals are read through `StoreReader`, a seekable file over the object store's range reads:
Pillow reads a photo's header and image data and stops at the end marker (padding after it is
never fetched); PyAV reads a video's boxes and seeks to the poster frame, so a 1 GiB video costs
a few blocks, not a download. Previews are WebP without EXIF, XMP or GPS - only the ICC profile
is kept, so colours look as the camera meant.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

from pv_assets.previews.plan import (
    MEDIUM_LONG_SIDE,
    POSTER_LONG_SIDE,
    THUMB_LONG_SIDE,
    fit_long_side,
    poster_time,
)
from resources.object_store import ObjectStore

BLOCK = 256 * 1024  # one range read; PyAV's own reads are 32 KiB
CACHED_BLOCKS = 8  # memory per open original: 2 MiB at most
WEBP_QUALITY = 80
# libwebp effort: 2 encodes a 1280 px rendition about 3x faster than the default 4, for ~15% more bytes.
WEBP_METHOD = 2
# Orientations that swap width and height (EXIF 5-8).
_TRANSPOSED = {5, 6, 7, 8}

_heif_lock = threading.Lock()
_heif_registered = False


class Undecodable(Exception):
    """The original cannot be decoded; the message says why (it never names the key)."""


def register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pi_heif  # decode-only libheif (libde265); no encoder in the runtime

            pi_heif.register_heif_opener()
            _heif_registered = True


class StoreReader(io.RawIOBase):
    """A read-only, seekable file over one stored object, read in blocks by range requests."""

    def __init__(self, store: ObjectStore, key: str, size: int):
        super().__init__()
        self.store, self.key, self.size = store, key, size
        self.position = 0
        self.bytes_fetched = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        data = self.store.get_range(self.key, index * BLOCK, BLOCK)
        self.bytes_fetched += len(data)
        self._blocks[index] = data
        if len(self._blocks) > CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self.size - self.position))
        done = 0
        while done < wanted:
            index, offset = divmod(self.position, BLOCK)
            block = self._block(index)
            piece = block[offset : offset + wanted - done]
            if not piece:
                break
            view[done : done + len(piece)] = piece
            done += len(piece)
            self.position += len(piece)
        return done


@dataclass(frozen=True)
class PhotoPreviews:
    thumb: bytes
    medium: bytes
    width: int  # of the original, upright
    height: int


@dataclass(frozen=True)
class VideoPoster:
    poster: bytes
    width: int
    height: int
    duration_s: float | None


def _webp(image, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    # No exif/xmp arguments: Pillow writes none, so no camera or GPS tags reach a preview.
    image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, icc_profile=icc_profile or None)
    return buffer.getvalue()


def _viewable(image):
    """RGB, or RGBA when the photo has transparency; colour is never dropped."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("P", "PA", "LA") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("RGB")


def photo_previews(source) -> PhotoPreviews:
    """Thumbnail and medium rendition of a photo file, upright (EXIF orientation applied)."""
    from PIL import Image, ImageOps

    register_heif()
    try:
        with Image.open(source) as image:
            orientation = image.getexif().get(0x0112, 1)
            width, height = image.size
            if orientation in _TRANSPOSED:
                width, height = height, width
            icc = image.info.get("icc_profile")
            # JPEG: let the decoder scale by 1/2, 1/4 or 1/8 while decoding (DCT scaling) when the
            # medium rendition is that much smaller: far less work than decoding every pixel.
            target = fit_long_side(*image.size, MEDIUM_LONG_SIDE)
            image.draft("RGB", target)
            upright = _viewable(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Undecodable(f"undecodable photo: {exc.__class__.__name__}: {_short(exc)}") from None
    # Sizes from the original's (the decoder may have scaled it already), so they are exact.
    medium = _resized(upright, fit_long_side(width, height, MEDIUM_LONG_SIDE))
    thumb = _resized(medium, fit_long_side(width, height, THUMB_LONG_SIDE))
    return PhotoPreviews(_webp(thumb, icc), _webp(medium, icc), width, height)


def _resized(image, size: tuple[int, int]):
    from PIL import Image

    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def video_poster(source) -> VideoPoster:
    """The poster frame (about 1 s in, or the first frame), with the video's size and duration."""
    import av

    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise Undecodable("undecodable video: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            at = poster_time(duration)
            if at > 0 and stream.time_base:
                # Seek to the keyframe before `at` and decode forward: only that GOP is read.
                container.seek(int(at / stream.time_base), stream=stream, backward=True)
            frame = None
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= at - 1e-3:
                    break
            if frame is None:
                raise Undecodable("undecodable video: no frame could be decoded")
            image = frame.to_image()
            width, height = stream.codec_context.width, stream.codec_context.height
    except av.FFmpegError as exc:
        raise Undecodable(f"undecodable video: {exc.__class__.__name__}: {_short(exc)}") from None
    image = _resized(image, fit_long_side(*image.size, POSTER_LONG_SIDE))
    return VideoPoster(_webp(image, None), width, height, duration)


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _short(exc: BaseException) -> str:
    from resources.identity import mask_id_like

    return mask_id_like(str(exc))[:200]


def contact_sheet(thumbs: list[bytes], columns: int = 4, rows: int = 3, cell: tuple[int, int] = (160, 120)) -> bytes:
    """A grid of up to columns x rows thumbnails (WebP bytes) as one small WebP."""
    from PIL import Image

    sheet = Image.new("RGB", (columns * cell[0], rows * cell[1]), (32, 32, 32))
    for index, data in enumerate(thumbs[: columns * rows]):
        with Image.open(io.BytesIO(data)) as thumb:
            tile = _viewable(thumb).convert("RGB")
            tile.thumbnail(cell)
            x = (index % columns) * cell[0] + (cell[0] - tile.width) // 2
            y = (index // columns) * cell[1] + (cell[1] - tile.height) // 2
            sheet.paste(tile, (x, y))
    buffer = io.BytesIO()
    sheet.save(buffer, "WEBP", quality=60)
    return buffer.getvalue()
