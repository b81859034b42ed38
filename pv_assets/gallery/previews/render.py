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

from pv_assets.gallery.previews.bounds import (
    RESOURCE,
    TOO_MANY_PIXELS,
    ResourceFailure,
    TooManyPixels,
    budget_for,
    check_pixels,
    is_resource_failure,
    riff_complete,
    webp_size,
)
from pv_assets.gallery.previews.plan import (
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
MAX_POSTER_FRAMES = 300  # frames decoded looking for the poster: a video whose times never arrive stops here
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


def _max_pixels(max_pixels: int | None) -> int:
    if max_pixels is not None:
        return max_pixels
    from resources.settings import settings

    return settings().preview_max_pixels


def check_webp_header(source, limit: int) -> bytes:
    """A WebP's declared canvas, checked before Pillow opens it (Pillow allocates the canvas while opening)."""
    head = source.read(32)
    source.seek(0)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        size = webp_size(head)
        if size is None:
            raise Undecodable("undecodable photo: a WebP header that declares no size")
        check_pixels(*size, limit)
    return head


def decode_failure(exc: BaseException, head: bytes, size: int | None) -> Exception:
    """ResourceFailure when the decoder ran out of memory, else Undecodable (the file's own fault)."""
    if is_resource_failure(exc):
        return ResourceFailure(
            f"{RESOURCE}: not enough memory to decode this photo now ({exc.__class__.__name__}); "
            "retried on the next run"
        )
    # libwebp's only word for a failed allocation; a cut-off file says the same, so the container decides.
    if str(exc) == "could not create decoder object" and size is not None and riff_complete(head, size):
        return ResourceFailure(f"{RESOURCE}: the WebP decoder could not start (out of memory); retried on the next run")
    return Undecodable(f"undecodable photo: {exc.__class__.__name__}: {_short(exc)}")


def photo_previews(source, max_pixels: int | None = None) -> PhotoPreviews:
    """Thumbnail and medium rendition of a photo file, upright (EXIF orientation applied).

    Bounded before anything is decoded (pv_assets.gallery.previews.bounds): what the picture would decode to must be
    under `max_pixels` (PV_PREVIEW_MAX_PIXELS), and the decode waits for that many pixels of the process's
    budget. JPEG decodes at 1/2, 1/4 or 1/8 scale when the medium rendition is that much smaller."""
    from PIL import Image, ImageOps

    register_heif()
    limit = _max_pixels(max_pixels)
    size = getattr(source, "size", None)
    head = check_webp_header(source, limit)
    try:
        with Image.open(source) as image:
            width, height = image.size  # as the header says; the decoder may scale below
            if image.format == "JPEG" and image.info.get("progressive"):
                # A progressive JPEG keeps every coefficient of the full image while it decodes, whatever the scale.
                check_pixels(width, height, limit, " (progressive JPEG)")
            image.draft("RGB", fit_long_side(width, height, MEDIUM_LONG_SIDE))
            # What will be decoded (JPEG: the draft size) - checked before anything else reads the file:
            # Pillow's getexif() of a PNG decodes it all, looking for an eXIf chunk after the pixels.
            check_pixels(*image.size, limit)
            with budget_for(limit).hold(image.size[0] * image.size[1]):
                image.load()
                orientation = image.getexif().get(0x0112, 1)
                icc = image.info.get("icc_profile")
                # Scale down first: every later copy (mode, orientation) is of the small picture.
                medium = _resized(_viewable(image), fit_long_side(*image.size, MEDIUM_LONG_SIDE))
            medium = ImageOps.exif_transpose(medium.copy() if medium is image else medium)
            if orientation in _TRANSPOSED:
                width, height = height, width
    except TooManyPixels:
        raise
    except Image.DecompressionBombError as exc:  # over Pillow's own limit: certainly over ours
        raise TooManyPixels(f"{TOO_MANY_PIXELS}: {_short(exc)}") from None
    except (OSError, ValueError, SyntaxError, RuntimeError, MemoryError) as exc:
        raise decode_failure(exc, head, size) from None
    # Sizes from the original's (the decoder may have scaled it already), so they are exact.
    medium = _resized(medium, fit_long_side(width, height, MEDIUM_LONG_SIDE))
    thumb = _resized(medium, fit_long_side(width, height, THUMB_LONG_SIDE))
    return PhotoPreviews(_webp(thumb, icc), _webp(medium, icc), width, height)


def _resized(image, size: tuple[int, int]):
    from PIL import Image

    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def video_poster(source, max_pixels: int | None = None) -> VideoPoster:
    """The poster frame (about 1 s in, or the first frame), with the video's size and duration.

    The frame size is checked against `max_pixels` before a frame is decoded, at most MAX_POSTER_FRAMES
    frames are decoded looking for it, and the decode holds its pixels of the process's budget."""
    import av

    limit = _max_pixels(max_pixels)
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise Undecodable("undecodable video: no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            check_pixels(width, height, limit, " (video frame)")
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            at = poster_time(duration)
            with budget_for(limit).hold(width * height):
                if at > 0 and stream.time_base:
                    # Seek to the keyframe before `at` and decode forward: only that GOP is read.
                    container.seek(int(at / stream.time_base), stream=stream, backward=True)
                frame = None
                for decoded, frame in enumerate(container.decode(stream)):
                    if frame.time is None or frame.time >= at - 1e-3 or decoded >= MAX_POSTER_FRAMES:
                        break
                if frame is None:
                    raise Undecodable("undecodable video: no frame could be decoded")
                image = _resized(frame.to_image(), fit_long_side(frame.width, frame.height, POSTER_LONG_SIDE))
    except MemoryError:
        raise ResourceFailure(
            f"{RESOURCE}: not enough memory to decode this video now; retried on the next run"
        ) from None
    except av.FFmpegError as exc:
        if is_resource_failure(exc):
            raise ResourceFailure(
                f"{RESOURCE}: {exc.__class__.__name__} decoding this video; retried on the next run"
            ) from None
        raise Undecodable(f"undecodable video: {exc.__class__.__name__}: {_short(exc)}") from None
    return VideoPoster(_webp(image, None), width, height, duration)


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _short(exc: BaseException) -> str:
    from pv_model.identity import mask_id_like

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
