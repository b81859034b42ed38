"""The group world: regional companies, stations that differ, installations with typed camera-like photos,
and planted problems with their ground truth. A pure, deterministic function of (size, seed)."""

from .generate import group_world
from .geography import REGION_NAMES, REGIONS
from .model import REQUIRED_PHOTO_TYPES, WORLD_NOW, GroupWorld, Installation, Photo, StationPlan
from .sizes import SIZES, WorldSize, WorldSizeError, check_seed, world_size

__all__ = [
    "REGIONS",
    "REGION_NAMES",
    "REQUIRED_PHOTO_TYPES",
    "SIZES",
    "WORLD_NOW",
    "GroupWorld",
    "Installation",
    "Photo",
    "StationPlan",
    "WorldSize",
    "WorldSizeError",
    "check_seed",
    "group_world",
    "world_size",
]
