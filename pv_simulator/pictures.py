"""Real, decodable media for the simulator: photos drawn with Pillow, short MP4s encoded with PyAV.

A file is a real picture or video followed by padding up to the size the world asked for, so
the benchmark keeps its size-controlled files (a 1 GiB video is a few hundred KB of real MP4
and a `free` box of pseudo-random bytes, streamed, never held in memory):

- JPEG, PNG, GIF: padding after the end marker (EOI, IEND, trailer), which decoders never read;
- HEIC and MP4 (ISO-BMFF): padding in a top-level `free` box at the end, which demuxers skip.

Deterministic: the same (kind, seed, size, label) gives the same bytes and sha256. The real part
is cached, so serving a file twice, or hashing it for the expected media, encodes it once.

The picture is a roof with solar panels under a sky, the label (station, record, field) written
on it. Some JPEGs carry an EXIF orientation tag (their pixels stored rotated, as phones do) and
every photo carries camera and GPS EXIF tags, which previews must strip.
"""

from __future__ import annotations

import functools
import io
import math
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

PHOTO_KINDS = ("jpeg", "png", "gif", "heic")
VIDEO_KINDS = ("mp4",)
REAL_KINDS = PHOTO_KINDS + VIDEO_KINDS
BMFF_KINDS = ("heic", "mp4")  # padded with a `free` box: they need room for its header
FREE_BOX_ROOM = 16

# Smallest size each kind can be made to fit (a tiny picture, a short tiny video), with margin.
MIN_SIZES = {"jpeg": 4_000, "png": 4_000, "gif": 3_000, "heic": 6_000, "mp4": 16_000}

# Upright picture shapes (width:height) and preferred long sides; the target size may shrink them.
_SHAPES = [(4, 3), (3, 4), (16, 9), (1, 1), (3, 2), (9, 16)]
_LONG_SIDES = [640, 1024, 1600, 2048, 3024, 4032]
# EXIF orientation of JPEGs: 1 upright; 3, 6, 8 stored rotated (180, 90 CW and 90 CCW to display).
_ORIENTATIONS = [1, 6, 1, 3, 1, 8, 1, 1]
# Rough bytes per pixel of the drawn scene, to start the fitting near the target.
_BYTES_PER_PIXEL = {"jpeg": 0.25, "png": 0.06, "gif": 0.08, "heic": 0.04}
_MAX_LONG_SIDE = {"heic": 1024}  # x265 is slow: keep HEIC encodes well under a second
# Unlabelled pictures (benchmarks) come in this many variants, so a world of 10,000 files encodes a few.
UNLABELLED_VARIANTS = 12

SKY = (135, 190, 235)
GROUND = (88, 142, 70)
WALL = (226, 214, 190)
ROOF = (120, 60, 45)
PANEL = (25, 45, 95)
PANEL_LINE = (150, 170, 200)
TEXT = (20, 20, 20)

# EXIF the originals carry and previews must not: camera make/model, time and a GPS position.
EXIF_MAKE, EXIF_MODEL, EXIF_DATETIME, EXIF_ORIENTATION, EXIF_GPS_IFD = 0x010F, 0x0110, 0x0132, 0x0112, 0x8825
CAMERA_MAKE = "PVSimCam"


class CannotFit(ValueError):
    pass


# ----------------------------------------------------------------------------- pure plans


@dataclass(frozen=True)
class PhotoPlan:
    width: int  # upright, as a viewer shows it
    height: int
    orientation: int  # EXIF orientation (JPEG only; 1 elsewhere)
    variant: int


@dataclass(frozen=True)
class VideoPlan:
    width: int
    height: int
    seconds: float
    fps: int
    variant: int


def photo_plan(kind: str, seed: int, target: int, shrink: int = 0) -> PhotoPlan:
    """The picture a photo of this seed and target size shows: shape, size and orientation."""
    rng = random.Random(f"photo:{seed}")
    shape_w, shape_h = rng.choice(_SHAPES)
    long_side = min(rng.choice(_LONG_SIDES), _MAX_LONG_SIDE.get(kind, 1 << 16))
    width, height = (
        (long_side, long_side * shape_h // shape_w)
        if shape_w >= shape_h
        else (
            long_side * shape_w // shape_h,
            long_side,
        )
    )
    budget = max(target, 1) / _BYTES_PER_PIXEL[kind]
    scale = min(1.0, math.sqrt(budget / (width * height))) * (0.75**shrink)
    width, height = max(32, int(width * scale)) & ~1, max(32, int(height * scale)) & ~1
    orientation = rng.choice(_ORIENTATIONS) if kind == "jpeg" else 1
    return PhotoPlan(width, height, orientation, seed % 997)


_VIDEO_SHAPES = [(320, 240), (640, 360), (360, 640), (480, 480), (1280, 720), (176, 144)]
_VIDEO_SECONDS = [2.0, 3.0, 0.6, 4.0]  # 0.6 s: shorter than the poster time, poster is the first frame


def video_plan(seed: int, target: int, shrink: int = 0) -> VideoPlan:
    rng = random.Random(f"video:{seed}")
    width, height = rng.choice(_VIDEO_SHAPES)
    seconds = rng.choice(_VIDEO_SECONDS)
    # About 0.1 byte per pixel-second fits the drawn scene at crf 30; shrink until the target holds it.
    budget = max(target, 1) / (0.1 * seconds)
    scale = min(1.0, math.sqrt(budget / (width * height))) * (0.75**shrink)
    width, height = max(64, int(width * scale)) & ~15, max(64, int(height * scale)) & ~15
    return VideoPlan(width, height, seconds, 10, seed % 997)


def size_bucket(size: int) -> int:
    """The largest power of two <= size: unlabelled files of similar sizes share one real part."""
    return 1 << (max(size, 1).bit_length() - 1)


def picture_label(station_id: str, location: str, kind: str) -> str:
    """What the picture shows written on it: station, record id and field (from the file's path)."""
    parts = [p for p in location.split(":", 1)[-1].split("/") if p]
    record_id = parts[-2] if len(parts) >= 2 else "?"
    field = "video" if kind in VIDEO_KINDS else "photo"
    return f"{station_id} / {record_id} / {field}"


# ----------------------------------------------------------------------------- drawing


@functools.lru_cache(maxsize=32)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def draw_scene(width: int, height: int, variant: int, label: str = "", frame: int | None = None):
    """A house with a solar roof under a sky, upright; the label written in the sky."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), SKY)
    draw = ImageDraw.Draw(image)
    ground_top, wall_top, roof_top = int(height * 0.85), int(height * 0.58), int(height * 0.32)
    draw.rectangle([0, ground_top, width, height], fill=GROUND)
    left, right = int(width * (0.12 + 0.02 * (variant % 3))), int(width * 0.88)
    draw.rectangle([left, wall_top, right, ground_top], fill=WALL)
    overhang = int(width * 0.05)
    inset = int(width * 0.12)
    roof = [
        (left - overhang, wall_top),
        (right + overhang, wall_top),
        (right - inset, roof_top),
        (left + inset, roof_top),
    ]
    draw.polygon(roof, fill=ROOF)
    # Panels: rows of dark rectangles inside the roof trapezoid.
    rows, cols = 2 + variant % 2, 4 + variant % 4
    for row in range(rows):
        y0 = roof_top + (wall_top - roof_top) * (row + 0.15) / rows
        y1 = roof_top + (wall_top - roof_top) * (row + 0.85) / rows
        t = (y0 - roof_top) / max(wall_top - roof_top, 1)  # 0 at the ridge, 1 at the eaves
        x_start = left + inset - (inset + overhang) * t + width * 0.02
        x_end = right - inset + (inset + overhang) * t - width * 0.02
        step = (x_end - x_start) / cols
        for col in range(cols):
            box = [x_start + col * step + 2, y0, x_start + (col + 1) * step - 2, y1]
            if box[2] > box[0] and box[3] > box[1]:  # tiny pictures have no room for every panel
                draw.rectangle(box, fill=PANEL, outline=PANEL_LINE)
    sun_r = max(4, min(width, height) // 14)
    sun_x = int(width * 0.8) if frame is None else int(width * (0.1 + 0.8 * ((frame * 7) % 100) / 100))
    draw.ellipse([sun_x - sun_r, sun_r, sun_x + sun_r, 3 * sun_r], fill=(250, 215, 60))
    if label:
        font = _font(max(8, min(width, height) // 16))
        draw.text((max(4, width // 40), max(4, height // 40)), label, fill=TEXT, font=font)
    if frame is not None:
        font = _font(max(8, min(width, height) // 10))
        draw.text((width // 20, int(height * 0.87)), f"t={frame}", fill=TEXT, font=font)
    return image


def stored_pixels(upright, orientation: int):
    """The pixels as a camera stores them for an EXIF orientation (what exif_transpose undoes)."""
    from PIL import Image

    return {
        1: upright,
        3: upright.transpose(Image.Transpose.ROTATE_180),
        6: upright.transpose(Image.Transpose.ROTATE_90),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }[orientation]


def camera_exif(orientation: int, variant: int):
    from PIL import Image

    exif = Image.Exif()
    exif[EXIF_MAKE] = CAMERA_MAKE
    exif[EXIF_MODEL] = f"Roof-{variant % 7}"
    exif[EXIF_DATETIME] = "2026:10:01 09:30:00"
    if orientation != 1:
        exif[EXIF_ORIENTATION] = orientation
    exif[EXIF_GPS_IFD] = {
        1: "N",
        2: (Fraction(31), Fraction(57), Fraction(variant % 60)),
        3: "E",
        4: (Fraction(118), Fraction(47), Fraction(variant % 60)),
    }
    return exif


# ----------------------------------------------------------------------------- encoding


def encode_photo(kind: str, plan: PhotoPlan, label: str) -> bytes:
    upright = draw_scene(plan.width, plan.height, plan.variant, label)
    exif = camera_exif(plan.orientation, plan.variant)
    buffer = io.BytesIO()
    if kind == "jpeg":
        stored_pixels(upright, plan.orientation).save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    elif kind == "png":
        upright.save(buffer, "PNG", exif=exif.tobytes())
    elif kind == "gif":
        upright.convert("P", palette=1, colors=32).save(buffer, "GIF", comment=b"pv-media simulator")
    elif kind == "heic":
        import pillow_heif

        pillow_heif.from_pillow(upright).save(buffer, format="HEIF", quality=60, exif=exif.tobytes())
    else:
        raise ValueError(f"not a photo kind: {kind!r}")
    return buffer.getvalue()


def encode_video(plan: VideoPlan) -> bytes:
    """An H.264 MP4 of the scene with a moving sun, a keyframe every second."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=plan.fps, options={"crf": "30", "preset": "veryfast", "threads": "1", "g": str(plan.fps)}
        )
        stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "yuv420p"
        for index in range(max(1, round(plan.seconds * plan.fps))):
            image = draw_scene(plan.width, plan.height, plan.variant, frame=index)
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@functools.lru_cache(maxsize=256)
def _fitted(kind: str, seed: int, budget: int, label: str) -> bytes:
    """The real file for the seed, shrunk until it fits in `budget` bytes."""
    for shrink in range(14):
        if kind in VIDEO_KINDS:
            data = encode_video(video_plan(seed, budget, shrink))
        else:
            data = encode_photo(kind, photo_plan(kind, seed, budget, shrink), label)
        if len(data) <= budget:
            return data
    raise CannotFit(f"a real {kind} file does not fit in {budget} bytes")


def real_part(kind: str, seed: int, size: int, label: str = "") -> bytes:
    """The decodable part of a file of `size` bytes; the rest is padding."""
    room = FREE_BOX_ROOM if kind in BMFF_KINDS else 0
    if label and kind in PHOTO_KINDS:
        return _fitted(kind, seed, size - room, label)
    # Videos and unlabelled photos: a few variants per size bucket, encoded once each.
    return _fitted(kind, seed % UNLABELLED_VARIANTS, size_bucket(size) - room, "")


def padding_header(kind: str, pad: int) -> bytes:
    """What starts the padding: nothing after an end marker, a `free` box header in ISO-BMFF."""
    if kind not in BMFF_KINDS or pad == 0:
        return b""
    if pad < 2**32:
        return struct.pack(">I", pad) + b"free"
    return struct.pack(">I", 1) + b"free" + struct.pack(">Q", pad)  # 64-bit largesize, 4 GiB and more


def real_pieces(kind: str, seed: int, size: int, label: str, noise) -> Iterator[bytes]:
    """The file as pieces: the real part, the padding header, then `noise(n)`'s pseudo-random bytes."""
    if size < MIN_SIZES[kind]:
        raise ValueError(f"a {kind} file needs at least {MIN_SIZES[kind]} bytes, got {size}")
    real = real_part(kind, seed, size, label)
    pad = size - len(real)
    header = padding_header(kind, pad)
    yield real
    if header:
        yield header
    yield from noise(pad - len(header))
