"""The world's photos against an honest perceptual hash: unrelated photos apart, planted reuses together.

`python -m pv_simulator.camera.selfcheck --world medium` hashes every served photo of a world as a
detector would see it (decoded, turned by its EXIF orientation) with imagehash's pHash and dHash, and
reports the closest pair of photos that belong to different installations and are no planted reuse,
and the farthest planted copy from its source. A world is good when the first stays above the
duplicate threshold and the second below it. imagehash is a dev dependency, like the simulator.
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from ..world import group_world, world_size
from ..world.model import SERVED_OK, GroupWorld
from .cache import picture_bytes
from .render import picture_spec

DUPLICATE_AT = 8  # a pHash distance (of 64 bits) at or below which two photos count as the same picture


@dataclass(frozen=True)
class HashReport:
    photos: int
    pairs: int
    closest_unrelated: int  # pHash distance of the closest pair that must not be a duplicate
    closest_unrelated_dhash: int
    unrelated_at_or_below_threshold: int
    unrelated_both_hashes_at_or_below: int  # pairs that pHash and dHash both call duplicates
    farthest_copy: int  # pHash distance of the farthest planted copy from its source
    copies: int


def _hashes(image: Image.Image) -> tuple[int, int]:
    import imagehash

    upright = ImageOps.exif_transpose(image).convert("RGB")
    return int(str(imagehash.phash(upright)), 16), int(str(imagehash.dhash(upright)), 16)


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def hash_check(world: GroupWorld, profile: str) -> HashReport:
    """Hash every served photo of the world's picked-up installations; a photo and its planted copies are one group."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    groups, p_hashes, d_hashes, copies = [], [], [], []
    group_of: dict[str, int] = {}
    for plan, installation, photo in world.photos():
        if not installation.picked_up or photo.outcome != SERVED_OK:
            continue
        photo_id = photo.photo_id(plan.station_id, installation.record_id)
        root = photo.source or photo_id
        group = group_of.setdefault(root, len(group_of))
        with Image.open(io.BytesIO(picture_bytes(picture_spec(photo, profile)))) as image:
            p_hash, d_hash = _hashes(image)
        if photo.source:
            copies.append((len(groups), root))
        groups.append(group)
        p_hashes.append(p_hash)
        d_hashes.append(d_hash)
    p = np.array(p_hashes, dtype=np.uint64)
    d = np.array(d_hashes, dtype=np.uint64)
    g = np.array(groups)
    closest = closest_d = 64
    near = both = pairs = 0
    for i in range(len(p) - 1):
        other = slice(i + 1, None)
        unrelated = g[other] != g[i]
        dp = _popcount(p[other] ^ p[i])[unrelated]
        dd = _popcount(d[other] ^ d[i])[unrelated]
        if len(dp):
            closest, closest_d = min(closest, int(dp.min())), min(closest_d, int(dd.min()))
            near += int((dp <= DUPLICATE_AT).sum())
            both += int(((dp <= DUPLICATE_AT) & (dd <= DUPLICATE_AT)).sum())
            pairs += len(dp)
    first_of_group = {}
    for index, group in enumerate(groups):
        first_of_group.setdefault(group, index)
    farthest = 0
    for index, root in copies:
        source = first_of_group[group_of[root]]
        farthest = max(farthest, int(_popcount(np.array([p[index] ^ p[source]], dtype=np.uint64))[0]))
    return HashReport(len(p), pairs, closest, closest_d, near, both, farthest, len(copies))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pv_simulator.camera.selfcheck", description=__doc__)
    parser.add_argument("--world", default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--photos", default="small")
    args = parser.parse_args(argv)
    report = hash_check(group_world(world_size(args.world), args.seed), args.photos)
    print(json.dumps(report.__dict__, indent=1))
    good = report.closest_unrelated > DUPLICATE_AT and report.farthest_copy <= DUPLICATE_AT
    print("ok" if good else f"NOT ok: unrelated photos must be over {DUPLICATE_AT}, planted copies at most that")
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
