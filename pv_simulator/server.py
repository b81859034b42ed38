"""HTTP servers of the station simulator: one per station plus one shared CDN.

Each station server speaks docs/station-api.md (login, station info, records, media
on its own host behind the bearer token), or the dialect of its spec (`SimStationSpec.dialect`,
rendered by `dialect.Dialect`). A dialect with regional hosts (`login.api_base`) gets a second
server per station that serves the API; the login and the media stay on the first. The CDN
serves signed URLs on another host name ("localhost" instead of "127.0.0.1") without auth, so a
client that leaks the station token across hosts is caught in `StationSimulator.requests`.

Tests steer faults through `StationState` (scripts, token death, locking, paging
trouble) while the servers run.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import yaml

from pv_model.dialect import load_interface

from .dialect import REGIONAL_PREFIX, Dialect
from .http_base import Server
from .spec import ExpectedMedia, SimStationSpec
from .state import RequestLogEntry, StationState
from .station_world import build_world

__all__ = ["RequestLogEntry", "StationSimulator", "StationState", "write_registry"]


# ----------------------------------------------------------------------------- simulator


class StationSimulator:
    """A set of simulated station clouds plus one CDN, each on its own loopback port."""

    def __init__(
        self,
        stations: list[SimStationSpec],
        *,
        host: str = "127.0.0.1",
        latency_ms: float = 0.0,
        bandwidth_bytes_per_s: float | None = None,
        retry_after: str = "1",
        token_ttl_s: int = 7200,
    ):
        ids = [spec.station_id for spec in stations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"station ids must be unique: {ids}")
        for dialect in {spec.dialect for spec in stations}:
            load_interface(dialect)  # an unknown or broken dialect fails here, not in a server thread
        self.specs = list(stations)
        self.host = host
        self.latency_ms = latency_ms
        self.bandwidth_bytes_per_s = bandwidth_bytes_per_s
        self.retry_after = retry_after
        self.token_ttl_s = token_ttl_s
        self.requests: list[RequestLogEntry] = []
        self.cdn_host = ""
        self._log_lock = threading.Lock()
        self._servers: dict[str, Server] = {}
        self._states: dict[str, StationState] = {}
        self._threads: list[threading.Thread] = []

    # -- lifecycle

    def start(self) -> StationSimulator:
        if self._servers:
            return self
        self._start_cdn()
        for spec in self.specs:
            server = Server(self.host, self, spec.station_id)
            base_url = f"http://{self.host}:{server.server_port}"
            world = build_world(spec, base_url, f"http://{self.cdn_host}")
            dialect = Dialect(load_interface(spec.dialect), url_shapes=spec.url_shapes)
            state = StationState(spec, world, token_ttl_s=self.token_ttl_s, dialect=dialect)
            server.attach(state)
            self._servers[spec.station_id] = server
            self._states[spec.station_id] = state
            if dialect.has_regional_host:  # the API lives on another host, named by the login
                regional = Server(self.host, self, spec.station_id)
                regional.attach(state, regional=True)
                self._servers[spec.station_id + "@regional"] = regional
                state.regional_host = f"{self.host}:{regional.server_port}"
                state.api_url = f"http://{state.regional_host}{REGIONAL_PREFIX}/"
        self._serve_all()
        return self

    def _start_cdn(self) -> None:
        cdn = Server(self.host, self, "cdn")
        self._servers["cdn"] = cdn
        # The CDN must be another host name than the stations' 127.0.0.1.
        cdn_name = "localhost" if self.host.startswith("127.") else self.host
        self.cdn_host = f"{cdn_name}:{cdn.server_port}"

    def _serve_all(self) -> None:
        for name, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sim-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> StationSimulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- lookups

    def base_url(self, station_id: str) -> str:
        """The station's login host (its registry base_url), which also serves its media."""
        return self.station(station_id).world.base_url

    def api_url(self, station_id: str) -> str:
        """Where the station's API calls other than login go, without a trailing slash: the regional
        host ("http://127.0.0.1:8002/api") for a dialect with regional hosts, else base_url()."""
        state = self.station(station_id)
        return state.api_url.rstrip("/") if state.api_url else state.world.base_url

    def station(self, station_id: str) -> StationState:
        try:
            return self._states[station_id]
        except KeyError:
            raise KeyError(f"unknown station {station_id!r} (is the simulator started?)") from None

    def expected_media(self, station_id: str) -> list[ExpectedMedia]:
        return self.station(station_id).expected_media()

    def records(self, station_id: str) -> list[dict]:
        return self.station(station_id).records_snapshot()

    # -- request log

    def _log(self, entry: RequestLogEntry) -> None:
        with self._log_lock:
            self.requests.append(entry)

    def clear_requests(self) -> None:
        with self._log_lock:
            self.requests.clear()

    # -- registry

    def registry_entries(self, *, wrong_password_for=()) -> tuple[list[dict], dict[str, str]]:
        """Entries for conf/stations.yaml and the environment variables holding the secrets."""
        entries, env = [], {}
        for index, spec in enumerate(self.specs):
            env_id = re.sub(r"[^0-9A-Za-z]", "_", spec.station_id).upper()
            state = self.station(spec.station_id)
            entry = {"id": spec.station_id, "name": spec.name, "base_url": self.base_url(spec.station_id)}
            if spec.dialect != "default":
                entry["dialect"] = spec.dialect
            iface = state.dialect.iface
            if index % 2 == 0 or not (iface.region_from_station_info or iface.region_from_records):
                # every second station leaves it to the station info call (where the dialect has one)
                entry["region_company_code"] = spec.region_company_code
            entry.update(
                {
                    "account_env": f"{env_id}_ACCOUNT",
                    "password_env": f"{env_id}_PASSWORD",
                    "max_connections": spec.max_connections,
                    # The regional API host is not public either: the client only talks to listed hosts.
                    "media_hosts": [self.cdn_host, *([state.regional_host] if state.regional_host else [])],
                }
            )
            entries.append(entry)
            wrong = spec.station_id in wrong_password_for or spec.password_changed
            env[f"{env_id}_ACCOUNT"] = spec.account
            env[f"{env_id}_PASSWORD"] = "wrong-" + spec.password if wrong else spec.password
        return entries, env

    def region_names(self) -> dict[str, str]:
        """The regional companies of the simulated stations by code, as their station info names them."""
        return {
            state.world.info["regionCompanyCode"]: state.world.info["regionCompanyName"]
            for state in self._states.values()
        }


def write_registry(path: Path, entries: list[dict], regions: dict[str, str] | None = None) -> None:
    """A conf/stations.yaml for the simulated stations (their secrets stay in the environment), with the
    regional companies' names when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"regions": dict(sorted(regions.items()))} if regions else {}
    text = yaml.safe_dump({**document, "stations": entries}, allow_unicode=True, sort_keys=False)
    path.write_text("# written by the station simulator; secrets are in the environment\n" + text, encoding="utf-8")
