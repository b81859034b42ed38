"""pv-media's evidence findings scored against a world's planted truth (pv_simulator/world/truth.py) - pure.

Installations are the unit: the truth names photos by file, the findings by opaque item id, and both name
the station and record. A reuse cluster is the set of installations its photos claim to show; it counts as
found when a found cluster spans exactly those installations. The other kinds count findings per
installation (a multiset), so two far photos of one house are two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Truth lists -> finding kinds; captured_late has no planted counterpart (scored apart: reused copies only).
KINDS = {"gps_far": "gps_far", "captured_early": "captured_early", "no_exif": "no_camera_data"}


@dataclass(frozen=True)
class Score:
    kind: str
    planted: int
    found: int
    true: int

    @property
    def precision(self) -> float:
        return self.true / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true / self.planted if self.planted else 1.0


def _visible(refs: Iterable[dict[str, Any]], visible: set[tuple[str, str]] | None) -> list[dict[str, Any]]:
    return [r for r in refs if visible is None or (r["station_id"], r["record_id"]) in visible]


def planted_clusters(truth: dict, visible: set[tuple[str, str]] | None = None) -> set[frozenset]:
    clusters = set()
    for cluster in truth["planted"]["reuse"]:
        members = _visible([cluster["source"], *cluster["copies"]], visible)
        installations = frozenset((m["station_id"], m["record_id"]) for m in members)
        if len(installations) > 1:
            clusters.add(installations)
    return clusters


def found_clusters(findings: Iterable[dict[str, Any]]) -> set[frozenset]:
    """Clusters of photos (the world plants no reused video, and its simulator's clips are a few variants of one
    drawn scene, so videos cluster without a truth entry: not scored)."""
    members: dict[int, set] = {}
    for f in findings:
        if f["kind"] == "reuse" and f.get("media_kind") != "video":
            members.setdefault(f["cluster"], set()).add((f["station_id"], f["record_id"]))
    return {frozenset(m) for m in members.values()}


def score(findings: list[dict[str, Any]], truth: dict, visible: set[tuple[str, str]] | None = None) -> list[Score]:
    """Precision and recall per kind; `visible`: the installations the collection could see (a stale station's)."""
    planted, found = planted_clusters(truth, visible), found_clusters(findings)
    scores = [Score("reuse", len(planted), len(found), len(planted & found))]
    for truth_kind, kind in KINDS.items():
        want = Counter((r["station_id"], r["record_id"]) for r in _visible(truth["findings"][truth_kind], visible))
        got = Counter((f["station_id"], f["record_id"]) for f in findings if f["kind"] == kind)
        scores.append(Score(kind, sum(want.values()), sum(got.values()), sum((want & got).values())))
    return scores


def late_on_reused_copies(findings: list[dict[str, Any]], truth: dict) -> tuple[int, int]:
    """(captured_late findings, those on an installation that received a reused copy: the source's date came along)."""
    copies = {(c["station_id"], c["record_id"]) for cluster in truth["planted"]["reuse"] for c in cluster["copies"]}
    late = [f for f in findings if f["kind"] == "captured_late"]
    return len(late), sum((f["station_id"], f["record_id"]) in copies for f in late)


def visible_installations(world) -> set[tuple[str, str]]:
    """Installations a collection of the world sees: not the failing station's; the stale one's as they were."""
    seen = set()
    for plan in world.stations:
        if plan.health == "login_fails":
            continue
        for installation in plan.installations:
            if plan.stale_since is None or installation.updated_at <= plan.stale_since:
                seen.add((plan.station_id, installation.record_id))
    return seen
