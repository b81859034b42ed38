"""Many simulated stations behind one port: a 10,000-station world in one process.

Station `ST-0001` lives under `http://127.0.0.1:PORT/s/ST-0001` (its registry base_url): the
client calls `{base_url}/api/...`, and its media URLs carry the same prefix. The CDN keeps its
own port (another host name), as in `StationSimulator`. Each station keeps its own state,
politeness limit, tokens and faults; only the listening socket is shared.

Limits: clean worlds only (quirks=False: a quirky record writes media URLs relative to the host
root, which loses the prefix) and dialects without regional API hosts.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from pv_model.dialect import load_interface

from .dialect import Dialect
from .handler import Handler
from .http_base import Server
from .server import StationSimulator
from .state import StationState
from .station_world import build_world

PREFIX = "/s/"


class _PrefixHandler(Handler):
    def _admit_and_dispatch(self, state, raw_path: str, raw_query: str, body: bytes) -> None:
        # Dispatch as the station's own server would: on the path without /s/<station id>.
        self._station_state = state
        rest = raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else ""
        super()._admit_and_dispatch(state, "/" + rest, raw_query, body)

    def _route_name(self, raw_path: str) -> str | None:
        state = getattr(self, "_station_state", None)
        if state is None:
            return None
        routes = self.server.station_routes(state)
        if raw_path in routes:
            return routes[raw_path]
        return "media" if raw_path.startswith(("/files/", "/redirect/", "/moved/")) else None


class _PrefixServer(Server):
    def __init__(self, host: str, simulator: StationSimulator):
        super().__init__(host, simulator, "stations")
        self.RequestHandlerClass = _PrefixHandler
        self._routes_by_dialect: dict[str, dict[str, str]] = {}

    def station_for(self, raw_path: str) -> StationState | None:
        if not raw_path.startswith(PREFIX):
            return None
        station_id = unquote(raw_path[len(PREFIX) :].split("/", 1)[0])
        return self.simulator._states.get(station_id)

    def station_routes(self, state: StationState) -> dict[str, str]:
        name = state.spec.dialect
        if name not in self._routes_by_dialect:
            self._routes_by_dialect[name] = state.dialect.routes(regional=False)
        return self._routes_by_dialect[name]


class MultiStationSimulator(StationSimulator):
    """StationSimulator with every station on one port (path prefix /s/<station id>) plus the CDN."""

    def start(self) -> MultiStationSimulator:
        if self._servers:
            return self
        # One Dialect per dialect and URL shape: 10,000 stations share a handful.
        dialects: dict[tuple[str, str], Dialect] = {}
        for spec in self.specs:
            if spec.quirks:
                raise ValueError(f"station {spec.station_id}: one port needs quirks=False (relative media URLs)")
            shape = (spec.dialect, spec.url_shapes)
            if shape not in dialects:
                dialects[shape] = Dialect(load_interface(spec.dialect), url_shapes=spec.url_shapes)
                if dialects[shape].has_regional_host:
                    raise ValueError(f"dialect {spec.dialect!r} has regional API hosts: not served on one port")
        self._start_cdn()
        front = _PrefixServer(self.host, self)
        self._servers["stations"] = front
        for spec in self.specs:
            base_url = f"http://{self.host}:{front.server_port}{PREFIX}{quote(spec.station_id, safe='')}"
            world = build_world(spec, base_url, f"http://{self.cdn_host}")
            self._states[spec.station_id] = StationState(
                spec, world, token_ttl_s=self.token_ttl_s, dialect=dialects[(spec.dialect, spec.url_shapes)]
            )
        self._serve_all()
        return self
