"""What a photo shows, drawn cheaply: a roof panorama, modules, an inverter, a meter box, a grid connection
point, a nameplate, a construction site, a document, or a screenshot of the installer's app.

Every scene is drawn from its seed alone, in coordinates relative to the picture, so the same seed at
another size is the same picture. Each seed places its objects, colours and viewpoint anew: two
installations' photos of the same kind differ in their low frequencies (what a perceptual hash sees),
not only in their details.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from PIL import Image, ImageChops

from .canvas import Canvas, jitter, panel_grid, sky_and_ground, tree
from .texture import lit_and_noisy


def roof_panorama(c: Canvas, rng: random.Random) -> None:
    if rng.random() < 0.3:  # from a drone: roofs seen from above
        c.rect((0, 0, 1, 1), fill=jitter(rng, (110, 120, 95), 25))
        for _ in range(rng.randint(2, 6)):
            x0, y0 = rng.uniform(-0.1, 0.8), rng.uniform(-0.1, 0.8)
            w, h = rng.uniform(0.15, 0.45), rng.uniform(0.12, 0.4)
            c.rect(
                (x0, y0, x0 + w, y0 + h),
                fill=jitter(rng, rng.choice([(170, 80, 60), (150, 150, 150), (200, 200, 195)])),
            )
            if rng.random() < 0.7:
                panel_grid(
                    c,
                    [
                        (x0 + 0.02, y0 + 0.02),
                        (x0 + w - 0.02, y0 + 0.02),
                        (x0 + w - 0.02, y0 + h - 0.02),
                        (x0 + 0.02, y0 + h - 0.02),
                    ],
                    rng.randint(2, 5),
                    rng.randint(3, 9),
                    rng,
                )
        return
    horizon = rng.uniform(0.35, 0.7)
    sky_and_ground(c, rng, horizon)
    for _ in range(rng.randint(0, 3)):  # neighbours' houses far away
        x, s = rng.uniform(-0.1, 1.0), rng.uniform(0.06, 0.14)
        c.rect((x, horizon - s, x + s * 1.6, horizon + 0.01), fill=jitter(rng, (225, 222, 210)))
    left, width = rng.uniform(0.0, 0.45), rng.uniform(0.4, 0.75)
    wall_top, ground = horizon + rng.uniform(-0.25, -0.05), min(0.98, horizon + rng.uniform(0.1, 0.3))
    c.rect((left, wall_top, left + width, ground), fill=jitter(rng, (230, 224, 205)))
    for k in range(rng.randint(2, 5)):  # windows
        x = left + width * (k + 0.3) / 5.5
        c.rect((x, wall_top + 0.05, x + width * 0.08, wall_top + 0.12), fill=(70, 90, 110))
    flat = rng.random() < 0.5  # flat concrete roofs with tilted racks, or a pitched tiled roof
    ridge = wall_top - rng.uniform(0.08, 0.2)
    if flat:
        c.rect((left - 0.01, wall_top - 0.02, left + width + 0.01, wall_top), fill=(180, 180, 175))
        panel_grid(
            c,
            [
                (left + 0.03, ridge),
                (left + width - 0.03, ridge),
                (left + width, wall_top - 0.02),
                (left, wall_top - 0.02),
            ],
            rng.randint(1, 3),
            rng.randint(5, 12),
            rng,
        )
    else:
        c.poly(
            [
                (left - 0.03, wall_top),
                (left + width + 0.03, wall_top),
                (left + width - 0.08, ridge),
                (left + 0.08, ridge),
            ],
            fill=jitter(rng, rng.choice([(150, 70, 50), (80, 80, 90)])),
        )
        panel_grid(
            c,
            [
                (left + 0.1, ridge + 0.01),
                (left + width - 0.1, ridge + 0.01),
                (left + width - 0.02, wall_top - 0.01),
                (left + 0.02, wall_top - 0.01),
            ],
            rng.randint(2, 4),
            rng.randint(4, 10),
            rng,
        )
    for _ in range(rng.randint(0, 3)):
        tree(c, rng, rng.random(), ground, rng.uniform(0.1, 0.3))


def modules(c: Canvas, rng: random.Random) -> None:
    """Modules close up: one or two big ones, a row seen along the roof, or the array's edge against the sky."""
    c.rect((0, 0, 1, 1), fill=jitter(rng, rng.choice([(150, 70, 50), (170, 170, 165), (110, 150, 205)]), 30))
    layout = rng.choice(["close", "row", "edge"])
    if layout == "edge":
        sky_and_ground(c, rng, rng.uniform(0.2, 0.6))
    count = {"close": rng.randint(1, 2), "row": rng.randint(3, 5), "edge": rng.randint(2, 3)}[layout]
    x, y = rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.5)
    width, height = rng.uniform(0.35, 0.9) / (1 if layout == "close" else 2), rng.uniform(0.3, 0.8)
    slope, shrink = rng.uniform(-0.2, 0.2), rng.uniform(0.75, 1.0)  # perspective: each further one smaller
    for _ in range(count):
        skew = rng.uniform(-0.15, 0.15)
        quad = [
            (x + skew, y),
            (x + width + skew, y + slope * width),
            (x + width, y + height + slope * width),
            (x, y + height),
        ]
        panel_grid(c, quad, rng.choice([6, 10, 12]), rng.choice([6, 10, 12]), rng)
        x, y = x + width + rng.uniform(0.01, 0.05), y + slope * width
        width, height = width * shrink, height * shrink
    if rng.random() < 0.5:  # the mounting rail under the modules
        c.line([(0, rng.uniform(0.5, 1)), (1, rng.uniform(0.5, 1))], fill=(170, 172, 175), width=0.02)
    gx, gy, gs = rng.random(), rng.random(), rng.uniform(0.05, 0.2)  # sun glare on the glass
    c.ellipse((gx - gs, gy - gs / 2, gx + gs, gy + gs / 2), fill=jitter(rng, (225, 230, 240), 10))


def _wall(c: Canvas, rng: random.Random) -> None:
    color = jitter(rng, rng.choice([(215, 212, 205), (190, 175, 160), (170, 90, 70), (200, 200, 190)]), 20)
    c.rect((0, 0, 1, 1), fill=color)
    if rng.random() < 0.4:  # bricks
        rows = rng.randint(10, 22)
        darker = tuple(max(0, v - 35) for v in color)
        for r in range(rows):
            c.line([(0, r / rows), (1, r / rows)], fill=darker, width=0.004)
    _clutter(c, rng)
    floor = rng.uniform(0.75, 1.0)
    c.rect((0, floor, 1, 1), fill=jitter(rng, (120, 115, 105), 20))


def _clutter(c: Canvas, rng: random.Random) -> None:
    """What else is on a wall or a module's back: a door, a window, a pipe, a sign, a bracket."""
    for _ in range(rng.randint(2, 4)):
        x, y = rng.uniform(-0.1, 0.9), rng.uniform(-0.1, 0.9)
        w, h = rng.uniform(0.05, 0.45), rng.uniform(0.05, 0.6)
        color = rng.choice(
            [(60, 50, 45), (90, 110, 130), (200, 200, 200), (150, 40, 30), (40, 70, 50), (235, 235, 230)]
        )
        c.rect((x, y, x + w, y + h), fill=jitter(rng, color, 20))


def inverter(c: Canvas, rng: random.Random) -> None:
    _wall(c, rng)
    w, h = rng.uniform(0.3, 0.6), rng.uniform(0.35, 0.65)
    x0, y0 = rng.uniform(0.02, 0.98 - w), rng.uniform(0.02, 0.95 - h)
    body = jitter(rng, rng.choice([(235, 235, 232), (200, 204, 208), (60, 62, 66)]), 10)
    c.rect((x0 - 0.02, y0 + 0.03, x0 + w + 0.02, y0 + h + 0.03), fill=(90, 90, 90))  # shadow
    c.rect((x0, y0, x0 + w, y0 + h), fill=body, outline=(120, 120, 120), width=0.004)
    for k in range(rng.randint(4, 9)):  # cooling fins
        fx = x0 + w * (0.08 + 0.84 * k / 9)
        c.line([(fx, y0 + h * 0.7), (fx, y0 + h * 0.95)], fill=(150, 150, 150), width=0.006)
    dx, dy = x0 + w * rng.uniform(0.15, 0.5), y0 + h * rng.uniform(0.1, 0.35)
    c.rect((dx, dy, dx + w * 0.35, dy + h * 0.15), fill=(20, 30, 30))
    c.text(dx + 0.01, dy + 0.01, f"{rng.uniform(2, 40):.1f}kW", fill=(80, 240, 120), size=0.035)
    brand = rng.choice(["SUNGROW", "GROWATT", "HUAWEI", "GoodWe", "SOLIS", "SMA", "DEYE"])
    c.text(x0 + w * 0.1, y0 + h * 0.55, brand, fill=rng.choice([(200, 30, 30), (30, 60, 160), (20, 20, 20)]), size=0.05)
    for k in range(rng.randint(2, 4)):  # cables to the floor
        cx = x0 + w * (0.2 + 0.2 * k)
        c.line(
            [(cx, y0 + h), (cx + rng.uniform(-0.1, 0.1), 1.0)],
            fill=rng.choice([(20, 20, 20), (170, 30, 30)]),
            width=0.012,
        )


def meter_box(c: Canvas, rng: random.Random) -> None:
    _wall(c, rng)
    w, h = rng.uniform(0.35, 0.7), rng.uniform(0.4, 0.75)
    x0, y0 = rng.uniform(0.02, 0.98 - w), rng.uniform(0.02, 0.98 - h)
    c.rect((x0, y0, x0 + w, y0 + h), fill=jitter(rng, (165, 170, 172), 15), outline=(90, 90, 90), width=0.006)
    meters = rng.randint(1, 4)
    for k in range(meters):
        mx = x0 + w * (0.08 + 0.9 * k / meters)
        mw = w * 0.8 / meters
        c.rect((mx, y0 + h * 0.15, mx + mw, y0 + h * 0.6), fill=(238, 238, 232), outline=(60, 60, 60), width=0.003)
        c.rect((mx + mw * 0.15, y0 + h * 0.22, mx + mw * 0.85, y0 + h * 0.32), fill=(140, 160, 120))
        c.text(mx + mw * 0.18, y0 + h * 0.23, f"{rng.randint(0, 99999):05d}", fill=(20, 20, 20), size=0.025)
        c.text(mx + mw * 0.15, y0 + h * 0.4, "kWh", fill=(30, 30, 30), size=0.025)
    c.rect((x0 + w * 0.1, y0 + h * 0.7, x0 + w * 0.9, y0 + h * 0.85), fill=(40, 40, 40))  # breakers
    c.line([(x0 + w * 0.5, y0 + h), (x0 + w * 0.5 + rng.uniform(-0.2, 0.2), 1.0)], fill=(30, 30, 30), width=0.02)


def grid_connection(c: Canvas, rng: random.Random) -> None:
    horizon = rng.uniform(0.55, 0.85)
    sky_and_ground(c, rng, horizon)
    pole = rng.uniform(0.15, 0.85)
    c.rect((pole - 0.025, 0.0, pole + 0.025, horizon + 0.05), fill=jitter(rng, (160, 160, 155), 10))
    arm = rng.uniform(0.05, 0.25)
    c.rect((pole - 0.2, arm, pole + 0.2, arm + 0.02), fill=(90, 90, 90))
    for k in range(3):  # wires sagging across the picture
        y = arm + 0.01 + k * 0.005
        sag = rng.uniform(0.02, 0.12)
        c.line(
            [(0, y + sag), (pole - 0.15 + k * 0.15, y), (1, y + sag * rng.uniform(0.5, 1.5))],
            fill=(30, 30, 30),
            width=0.004,
        )
    bw, bh = rng.uniform(0.15, 0.3), rng.uniform(0.2, 0.35)
    bx, by = pole + rng.choice([-1, 1]) * rng.uniform(0.05, 0.15) - bw / 2, horizon - bh * rng.uniform(0.2, 1.2)
    c.rect((bx, by, bx + bw, by + bh), fill=jitter(rng, (185, 190, 185), 10), outline=(80, 80, 80), width=0.004)
    c.poly(
        [(bx + bw / 2, by + bh * 0.15), (bx + bw * 0.7, by + bh * 0.5), (bx + bw * 0.3, by + bh * 0.5)],
        fill=(245, 200, 20),
    )
    c.text(bx + bw * 0.1, by + bh * 0.62, "并网点" if rng.random() < 0.5 else "GRID", fill=(200, 20, 20), size=0.03)


def nameplate(c: Canvas, rng: random.Random) -> None:
    c.rect((0, 0, 1, 1), fill=jitter(rng, rng.choice([(240, 240, 236), (40, 40, 45), (180, 182, 185)]), 12))
    _clutter(c, rng)
    edge = rng.choice(["left", "right", "top", "bottom", None])  # the module's aluminium frame in the picture
    if edge:
        depth = rng.uniform(0.05, 0.2)
        box = {
            "left": (0, 0, depth, 1),
            "right": (1 - depth, 0, 1, 1),
            "top": (0, 0, 1, depth),
            "bottom": (0, 1 - depth, 1, 1),
        }
        c.rect(box[edge], fill=jitter(rng, (175, 178, 182), 10))
    if rng.random() < 0.6:  # the junction box and its cables
        jx, jy = rng.uniform(0.0, 0.8), rng.uniform(0.0, 0.8)
        c.rect((jx, jy, jx + 0.2, jy + 0.14), fill=(25, 25, 28))
        c.line([(jx + 0.05, jy + 0.14), (rng.random(), 1.0)], fill=(15, 15, 15), width=0.012)
        c.line([(jx + 0.15, jy + 0.14), (rng.random(), 1.0)], fill=(15, 15, 15), width=0.012)
    w, h = rng.uniform(0.35, 0.85), rng.uniform(0.35, 0.85)
    x0, y0 = rng.uniform(0.02, 0.98 - w), rng.uniform(0.02, 0.98 - h)
    tilt = rng.uniform(-0.08, 0.08)
    label = rng.choice([(228, 228, 220), (200, 205, 212), (245, 235, 190), (235, 240, 245)])
    c.poly(
        [(x0 + tilt, y0), (x0 + w + tilt, y0 + tilt), (x0 + w, y0 + h + tilt), (x0, y0 + h)],
        fill=jitter(rng, label, 8),
    )
    if rng.random() < 0.5:  # a coloured band with the maker's name
        c.rect(
            (x0, y0 + h * 0.02, x0 + w, y0 + h * 0.12), fill=rng.choice([(30, 80, 160), (200, 40, 40), (20, 130, 80)])
        )
    watts = rng.choice([440, 450, 540, 550, 575, 590, 620])
    lines = [
        rng.choice(["PV MODULE", "光伏组件", "GRID-TIED INVERTER"]),
        f"Model: {rng.choice(['LR5', 'JAM72', 'TSM', 'CS6W'])}-{watts}M",
        f"Pmax {watts}W",
        f"Voc {rng.uniform(40, 52):.1f}V  Isc {rng.uniform(11, 14):.2f}A",
        f"S/N {rng.getrandbits(40):010X}",
    ]
    for k, words in enumerate(lines):
        c.text(x0 + w * 0.06 + tilt / 2, y0 + h * (0.06 + 0.12 * k), words, fill=(25, 25, 25), size=0.035)
    bar_x = x0 + w * 0.08
    for _ in range(rng.randint(25, 45)):  # a barcode
        bw = rng.choice([0.002, 0.004, 0.006])
        c.rect((bar_x, y0 + h * 0.7, bar_x + bw, y0 + h * 0.9), fill=(10, 10, 10))
        bar_x += bw + rng.choice([0.002, 0.004])


def site(c: Canvas, rng: random.Random) -> None:
    horizon = rng.uniform(0.3, 0.6)
    sky_and_ground(c, rng, horizon)
    for _ in range(rng.randint(1, 4)):  # pallets of modules
        x, y, s = rng.random(), rng.uniform(horizon, 0.95), rng.uniform(0.08, 0.2)
        c.rect((x, y - s, x + s * 1.5, y), fill=jitter(rng, (40, 50, 80)))
    for _ in range(rng.randint(1, 3)):  # workers in orange vests
        x, y, s = rng.random(), rng.uniform(horizon + 0.1, 0.95), rng.uniform(0.1, 0.25)
        c.ellipse((x - s * 0.12, y - s, x + s * 0.12, y - s * 0.76), fill=(220, 180, 150))
        c.rect((x - s * 0.18, y - s * 0.76, x + s * 0.18, y - s * 0.3), fill=(240, 120, 20))
        c.rect((x - s * 0.15, y - s * 0.3, x + s * 0.15, y), fill=(40, 50, 90))
    c.line([(rng.random(), 1.0), (rng.random(), horizon - 0.2)], fill=(200, 180, 60), width=0.015)  # a ladder


def document(c: Canvas, rng: random.Random) -> None:
    c.rect((0, 0, 1, 1), fill=jitter(rng, (150, 110, 70), 25))  # the desk
    x0, y0 = rng.uniform(0.02, 0.25), rng.uniform(0.02, 0.15)
    x1, y1 = rng.uniform(0.75, 0.98), rng.uniform(0.85, 0.98)
    c.rect((x0, y0, x1, y1), fill=(247, 246, 240))
    for k in range(rng.randint(8, 20)):
        y = y0 + 0.05 + k * 0.04
        if y < y1 - 0.05:
            c.rect((x0 + 0.05, y, x0 + 0.05 + (x1 - x0 - 0.1) * rng.uniform(0.4, 1.0), y + 0.012), fill=(90, 90, 90))
    sx, sy, s = rng.uniform(x0 + 0.1, x1 - 0.1), rng.uniform(y0 + 0.3, y1 - 0.1), 0.08
    c.ellipse((sx - s, sy - s, sx + s, sy + s), fill=(215, 60, 60))  # the red stamp


def screenshot(c: Canvas, rng: random.Random) -> None:
    c.rect((0, 0, 1, 1), fill=(245, 246, 248))
    c.rect((0, 0, 1, 0.04), fill=(20, 20, 20))
    c.rect((0, 0.04, 1, 0.1), fill=rng.choice([(22, 119, 255), (7, 193, 96), (250, 140, 22)]))
    c.text(0.05, 0.055, f"安装记录 {rng.randint(1000, 9999)}", fill=(255, 255, 255), size=0.04)
    top, bottom = rng.uniform(0.12, 0.3), rng.uniform(0.55, 0.85)
    inner = Canvas(c.w, max(8, round((bottom - top) * c.h)), (200, 200, 200))
    rng.choice([roof_panorama, modules, inverter, meter_box])(inner, rng)
    c.image.paste(inner.image, (0, round(top * c.h)))
    for k in range(rng.randint(2, 5)):
        c.rect(
            (0.05, bottom + 0.03 + k * 0.035, rng.uniform(0.4, 0.95), bottom + 0.045 + k * 0.035), fill=(150, 150, 150)
        )


SCENES: dict[str, Callable[[Canvas, random.Random], None]] = {
    "roof_panorama": roof_panorama,
    "modules": modules,
    "inverter": inverter,
    "meter_box": meter_box,
    "grid_connection": grid_connection,
    "nameplate": nameplate,
    "site": site,
    "document": document,
    "screenshot": screenshot,
}


def _shadows(c: Canvas, rng: random.Random) -> None:
    """Shade from a tree, an eave or a neighbour: big soft-edged dark shapes across part of the picture."""
    for _ in range(rng.randint(1, 3)):
        x, y = rng.uniform(-0.2, 1.0), rng.uniform(-0.2, 1.0)
        w, h = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        c.poly(
            [(x, y), (x + w, y + rng.uniform(-0.2, 0.2)), (x + w + rng.uniform(-0.3, 0.3), y + h), (x, y + h)],
            fill=(0, 0, 0),
        )


_OVERSIZE = 1.2  # drawn larger, turned by the hand's tilt, cut back to size


def draw(scene: str, seed: int, width: int, height: int) -> Image.Image:
    """The upright picture of `scene` for this seed, lit and with a camera's noise (not screenshots)."""
    rng = random.Random(f"scene:{scene}:{seed}")
    if scene == "screenshot":
        canvas = Canvas(width, height, (128, 128, 128))
        SCENES[scene](canvas, rng)
        return canvas.image
    big_w, big_h = round(width * _OVERSIZE), round(height * _OVERSIZE)
    canvas = Canvas(big_w, big_h, (128, 128, 128))
    SCENES[scene](canvas, rng)
    shade = Canvas(big_w, big_h, (255, 255, 255))
    _shadows(shade, rng)
    darkness = rng.uniform(0.25, 0.55)
    image = Image.blend(canvas.image, ImageChops.multiply(canvas.image, shade.image), darkness)
    image = image.rotate(rng.uniform(-7, 7), resample=Image.Resampling.NEAREST)
    left, top = (big_w - width) // 2, (big_h - height) // 2
    return lit_and_noisy(image.crop((left, top, left + width, top + height)), rng)
