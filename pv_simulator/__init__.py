"""Station simulator: fake station clouds (docs/station-api.md) with their quirks and faults.

with StationSimulator([SimStationSpec("ST-0001")]) as sim:
    url = sim.base_url("ST-0001")
    sim.station("ST-0001").script("records", [503, "reset"])
    expected = sim.expected_media("ST-0001")

A station speaks v1 unless its spec names another dialect (conf/dialects/*.yaml):
SimStationSpec("ST-0002", dialect="sems"); its records stay v1-shaped in the world
(sim.records(), expected media) and are rendered per dialect on the wire (see dialect.py).

A group world (pv_simulator.world: regions, stations that differ, typed camera-like photos, planted
problems and their truth) is served the same way, one spec per station:

with StationSimulator(world_specs(world_ref("small", seed=1))) as sim: ...
"""

from .media_gen import html_login_page, iter_media, media_bytes, media_sha256
from .server import RequestLogEntry, StationSimulator, StationState, write_registry
from .spec import ExpectedMedia, SimStationSpec
from .world_station import world_ref, world_specs

__all__ = [
    "ExpectedMedia",
    "RequestLogEntry",
    "SimStationSpec",
    "StationSimulator",
    "StationState",
    "html_login_page",
    "iter_media",
    "media_bytes",
    "media_sha256",
    "world_ref",
    "world_specs",
    "write_registry",
]
