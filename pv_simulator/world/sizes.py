"""World sizes: how many stations and installations a world has, and the checks on what a user asks for."""

from __future__ import annotations

from dataclasses import dataclass

HEALTH_KINDS = ("healthy", "broken_links", "login_fails", "slow", "stale")
MIN_STATIONS = 6  # one of each kind of trouble and two healthy stations
MIN_PER_STATION = 3
MAX_INSTALLATIONS = 2_000_000
MAX_SEED = 2**32 - 1


class WorldSizeError(ValueError):
    """A world that cannot be made; the message says what to ask for instead."""


@dataclass(frozen=True)
class WorldSize:
    name: str
    stations: int
    installations: int  # about this many in all (the long tail is rounded per station)
    regions: int
    video_share: float  # share of picked-up installations with a video

    @property
    def label(self) -> str:
        named = SIZES.get(self.name)
        if named is not None and (named.stations, named.installations) == (self.stations, self.installations):
            return self.name
        return f"{self.stations}x{self.installations}"


SIZES: dict[str, WorldSize] = {
    # tests: every kind of station and planted problem, pictures drawn in a few seconds
    "tiny": WorldSize("tiny", 6, 60, 3, 0.10),
    # `pv-media demo`: about a minute on 2 cores
    "small": WorldSize("small", 8, 150, 4, 0.08),
    # `pv-media demo --world medium`: tens of stations, thousands of installations
    "medium": WorldSize("medium", 36, 2_400, 8, 0.05),
    # `pv-media simulate --world large` and the benchmarks
    "large": WorldSize("large", 400, 40_000, 10, 0.04),
}


def world_size(name: str = "small", *, stations: int | None = None, installations: int | None = None) -> WorldSize:
    """A named size, optionally with its station or installation count changed; WorldSizeError when it cannot be."""
    base = SIZES.get(name)
    if base is None:
        raise WorldSizeError(f"unknown world size {name!r}: choose one of {', '.join(SIZES)}")
    stations = base.stations if stations is None else stations
    if installations is None:
        installations = (
            base.installations if stations == base.stations else stations * base.installations // base.stations
        )
    if stations < MIN_STATIONS:
        raise WorldSizeError(
            f"a world needs at least {MIN_STATIONS} stations (one of each: {', '.join(HEALTH_KINDS)}, "
            f"and two healthy ones), got {stations}"
        )
    if installations < MIN_PER_STATION * stations:
        raise WorldSizeError(
            f"{stations} stations need at least {MIN_PER_STATION * stations} installations "
            f"({MIN_PER_STATION} per station), got {installations}"
        )
    if installations > MAX_INSTALLATIONS:
        raise WorldSizeError(f"at most {MAX_INSTALLATIONS:,} installations, got {installations:,}")
    regions = min(base.regions + max(0, stations - base.stations) // 40, 10, stations // 2)
    return WorldSize(name, stations, installations, max(regions, 2), base.video_share)


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise WorldSizeError(f"a world seed is a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return seed
