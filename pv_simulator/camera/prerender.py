"""Draw a world's photos into the disk cache ahead of serving, on every core: serving then only reads files."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from ..world.model import GroupWorld
from .cache import picture_file
from .render import PictureSpec, picture_spec


def _render_all(specs: list[PictureSpec]) -> int:
    for spec in specs:
        picture_file(spec)
    return len(specs)


def prerender(world: GroupWorld, profile: str, *, workers: int | None = None, picked_up_only: bool = False) -> dict:
    """Render every photo of the world (of picked-up installations only, if asked) that is not cached yet."""
    started = time.perf_counter()
    specs = sorted(
        {
            picture_spec(photo, profile)
            for _plan, installation, photo in world.photos()
            if installation.picked_up or not picked_up_only
        },
        key=repr,
    )
    workers = max(1, workers or os.cpu_count() or 1)
    if workers == 1 or len(specs) < 50:
        _render_all(specs)
    else:
        batches = [specs[i :: workers * 4] for i in range(workers * 4)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_render_all, batches))
    return {"pictures": len(specs), "seconds": round(time.perf_counter() - started, 1), "workers": workers}
