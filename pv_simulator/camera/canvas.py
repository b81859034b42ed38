"""Drawing in coordinates relative to the picture, and the pieces several scenes share (module arrays, sky)."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from .texture import fonts

Box = tuple[float, float, float, float]


def jitter(rng: random.Random, color: tuple[int, int, int], amount: int = 25) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


class Canvas:
    """An image with drawing in relative coordinates (0..1 of width and height)."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int]):
        self.image = Image.new("RGB", (width, height), background)
        self.draw = ImageDraw.Draw(self.image)
        self.w, self.h = width, height

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return x * self.w, y * self.h

    def rect(self, box: Box, fill, outline=None, width: float = 0.0) -> None:
        x0, y0, x1, y1 = box
        self.draw.rectangle(
            [x0 * self.w, y0 * self.h, max(x0 * self.w, x1 * self.w), max(y0 * self.h, y1 * self.h)],
            fill=fill,
            outline=outline,
            width=max(1, round(width * self.w)) if outline else 0,
        )

    def poly(self, points, fill, outline=None) -> None:
        self.draw.polygon([self.xy(x, y) for x, y in points], fill=fill, outline=outline)

    def ellipse(self, box: Box, fill) -> None:
        x0, y0, x1, y1 = box
        self.draw.ellipse([x0 * self.w, y0 * self.h, x1 * self.w, y1 * self.h], fill=fill)

    def line(self, points, fill, width: float) -> None:
        self.draw.line([self.xy(x, y) for x, y in points], fill=fill, width=max(1, round(width * min(self.w, self.h))))

    def text(self, x: float, y: float, words: str, fill, size: float) -> None:
        self.draw.text(self.xy(x, y), words, fill=fill, font=fonts(max(6, round(size * min(self.w, self.h)))))

    def gradient_sky(self, horizon: float, top, bottom) -> None:
        rows = max(1, int(horizon * self.h))
        for row in range(0, rows, 2):
            t = row / rows
            color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            self.draw.line([(0, row), (self.w, row)], fill=color, width=2)


def panel_grid(c: Canvas, quad, rows: int, cols: int, rng: random.Random) -> None:
    """A module array in perspective: quad = four corners (top-left, top-right, bottom-right, bottom-left)."""
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = quad

    def at(u: float, v: float) -> tuple[float, float]:
        top = (ax + (bx - ax) * u, ay + (by - ay) * u)
        bottom = (dx + (cx - dx) * u, dy + (cy - dy) * u)
        return top[0] + (bottom[0] - top[0]) * v, top[1] + (bottom[1] - top[1]) * v

    base = jitter(rng, rng.choice([(28, 44, 92), (22, 24, 30), (35, 55, 110)]), 12)  # poly blue, mono black
    c.poly(quad, fill=(190, 195, 200))
    for r in range(rows):
        for k in range(cols):
            shade = tuple(min(255, v + rng.randint(0, 18)) for v in base)
            inset = 0.04
            cell = [
                at((k + inset) / cols, (r + inset) / rows),
                at((k + 1 - inset) / cols, (r + inset) / rows),
                at((k + 1 - inset) / cols, (r + 1 - inset) / rows),
                at((k + inset) / cols, (r + 1 - inset) / rows),
            ]
            c.poly(cell, fill=shade)


def sky_and_ground(c: Canvas, rng: random.Random, horizon: float) -> None:
    c.gradient_sky(horizon, jitter(rng, (70, 130, 205), 30), jitter(rng, (185, 210, 235), 20))
    ground = rng.choice([(96, 140, 70), (120, 112, 90), (150, 150, 145), (110, 130, 60)])
    c.rect((0, horizon, 1, 1), fill=jitter(rng, ground, 20))
    for _ in range(rng.randint(0, 4)):  # clouds
        x, y, s = rng.random(), rng.uniform(0.02, horizon * 0.7), rng.uniform(0.05, 0.18)
        c.ellipse((x - s, y - s / 3, x + s, y + s / 3), fill=jitter(rng, (240, 242, 246), 8))


def tree(c: Canvas, rng: random.Random, x: float, ground: float, size: float) -> None:
    c.rect((x - size * 0.08, ground - size * 0.6, x + size * 0.08, ground), fill=(92, 64, 40))
    c.ellipse(
        (x - size * 0.5, ground - size * 1.5, x + size * 0.5, ground - size * 0.4), fill=jitter(rng, (40, 90, 40))
    )
