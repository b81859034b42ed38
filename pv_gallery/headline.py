"""The overview's headline figures and each station's state, as of the moment a page is drawn.

Stale is judged at each request against the configured age (PV_GALLERY_STALE_AFTER_H): a station turns
stale while the index stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pv_gallery.summaries import StationOverview
from pv_model.photo_types import completeness

STATES = ("failing", "never", "stale", "ok", "unknown")  # worst first: the sort order of the state column


def station_state(summary: StationOverview, now: datetime, stale_after: timedelta) -> str:
    """failing (its latest collection failed), never (no collection ever succeeded), stale, ok; unknown
    when the health table does not list it (an index written before station health existed)."""
    health = summary.health
    if health is None:
        return "unknown"
    if health.failing:
        return "failing"
    if health.never_succeeded:
        return "never"
    return "stale" if health.stale(now, stale_after) else "ok"


@dataclass(frozen=True)
class Headline:
    stations: int
    reporting: int  # latest collection succeeded and not stale
    failing: int
    stale: int
    never: int
    picked_up: int
    complete: int
    typed: bool = True  # False: an index without photo types, where completeness is not known

    @property
    def incomplete(self) -> int:
        """Picked-up installations missing at least one required photo type."""
        return self.picked_up - self.complete

    @property
    def completeness(self) -> float | None:
        return completeness(self.complete, self.picked_up) if self.typed else None


def headline(stations: Iterable[StationOverview], states: dict[str, str]) -> Headline:
    stations = list(stations)
    counts = {state: 0 for state in STATES}
    for s in stations:
        counts[states[s.station_id]] += 1
    return Headline(
        stations=len(stations),
        reporting=counts["ok"],
        failing=counts["failing"],
        stale=counts["stale"],
        never=counts["never"],
        picked_up=sum(s.picked_up for s in stations),
        complete=sum(s.complete for s in stations),
        typed=any(s.typed for s in stations),
    )
