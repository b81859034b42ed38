"""What makes a drawing look photographed: uneven light, a colour cast, lens vignetting and sensor noise.

The noise is what gives a JPEG its real weight (a 12-megapixel phone photo is several MB because of
it); it is made band by band, so a 4000x3000 picture never needs more than a few MB of arrays.
"""

from __future__ import annotations

import functools
import random

import numpy as np
from PIL import Image, ImageFont

_BAND_ROWS = 256
_TILE = 509  # prime: the noise does not line up with JPEG's 8x8 blocks
# A CJK font where the machine has one (fonts-noto-cjk), so Chinese labels are drawn; else Pillow's own.
_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


@functools.lru_cache(maxsize=64)
def fonts(size: int):
    for path in _CJK_FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    """Unit sensor noise, made once per process and read at a different offset by every picture (drawing a
    fresh normal sample per pixel costs more than drawing the scene)."""
    return np.random.default_rng(20_240_101).normal(0.0, 1.0, size=(_TILE, _TILE, 3)).astype(np.float32)


def lit_and_noisy(image: Image.Image, rng: random.Random) -> Image.Image:
    width, height = image.size
    gains = np.array([rng.uniform(0.9, 1.1), rng.uniform(0.95, 1.05), rng.uniform(0.88, 1.12)], np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    strength = rng.uniform(0.15, 0.5)
    sigma = np.float32(rng.uniform(2.5, 7.0))
    tile = _noise_tile()
    shift_y, shift_x = rng.randrange(_TILE), rng.randrange(_TILE)
    reps_x = -(-(width + shift_x) // _TILE)
    xs = (np.arange(width, dtype=np.float32) / max(width - 1, 1)) - 0.5
    pixels = np.asarray(image, dtype=np.uint8)
    out = np.empty_like(pixels)
    for top in range(0, height, _BAND_ROWS):
        rows = min(_BAND_ROWS, height - top)
        ys = ((np.arange(top, top + rows, dtype=np.float32) / max(height - 1, 1)) - 0.5)[:, None]
        light = 1.0 + strength * (np.cos(angle) * xs[None, :] + np.sin(angle) * ys)  # light from one side
        light -= 0.35 * (xs[None, :] ** 2 + ys**2)  # vignetting
        band = pixels[top : top + rows].astype(np.float32)
        band *= light[:, :, None] * gains
        row_index = (np.arange(top, top + rows) + shift_y) % _TILE
        noise = np.tile(tile[row_index], (1, reps_x, 1))[:, shift_x : shift_x + width]
        band += noise * sigma
        np.clip(band, 0, 255, out=band)
        out[top : top + rows] = band.astype(np.uint8)
    return Image.fromarray(out, "RGB")
