"""pv-media's Dagster resources: the station API and the object store, as ConfigurableResources.

They sit on top of the plain client and store classes, which import no Dagster, so the media
path can run (and be measured) without it.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import PrivateAttr

from pv_model.dialect import load_interface
from pv_model.registry import Registry, Station
from resources.dagster_private import keeps_runs_on_this_host
from resources.object_store import LocalDirObjectStore, MinioObjectStore, ObjectStore, store_from_settings
from resources.registry import load_registry
from resources.settings import Settings, settings
from resources.station_api import ClientSettings, StationClient, station_endpoint


def instance_is_shared(instance: Any) -> bool:
    """True when the instance keeps its runs in a database server (PostgreSQL, MySQL), not SQLite or memory:
    its runs may be launched in other processes and on other hosts."""
    return not keeps_runs_on_this_host(instance)


def local_store_refusal(reason: str) -> str:
    return (
        f"the local-directory object store cannot be used in production ({reason}): run workers on other hosts "
        "would each write to their own disk. Set MINIO_ENDPOINT, MINIO_ACCESS_KEY, MINIO_SECRET_KEY and "
        "MINIO_BUCKET, or unset PV_DEPLOYMENT to run embedded"
    )


class ObjectStoreResource(ConfigurableResource):
    """The object store as a Dagster resource; `open()` gives the store, built once per resource.

    The IO manager calls it for every output and input: a new store each time meant a new
    connection pool and a bucket check per call.
    """

    _store: Any = PrivateAttr(default=None)

    def open(self) -> ObjectStore:
        if self._store is None:
            self._store = self._connect()
        return self._store

    def _connect(self) -> ObjectStore:
        raise NotImplementedError


class MinioResource(ObjectStoreResource):
    """The group's MinIO (or any S3 endpoint). Keys come in as dagster.EnvVar, never shown in the UI."""

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "pv-media"
    secure: bool = False
    region: str | None = None

    def _connect(self) -> ObjectStore:
        return shared_minio_store(
            self.endpoint, self.access_key, self.secret_key, self.bucket, self.secure, self.region
        )


@functools.lru_cache(maxsize=8)
def shared_minio_store(
    endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool, region: str | None
) -> MinioObjectStore:
    """One store per endpoint, account and bucket in a process: every run a batch worker executes (and each of
    their resources) reuses its connection pool and its bucket check instead of opening new ones."""
    return MinioObjectStore(endpoint, access_key, secret_key, bucket, secure=secure, region=region)


class LocalStoreResource(ObjectStoreResource):
    """The embedded store: a local directory, used when MINIO_ENDPOINT is unset."""

    root: str

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # A run of a shared (PostgreSQL) instance may be launched on any host: a local directory is not shared.
        if context.instance is not None and instance_is_shared(context.instance):
            storage = type(context.instance.run_storage).__name__
            raise RuntimeError(local_store_refusal(f"the Dagster instance keeps its runs in {storage}"))

    def _connect(self) -> ObjectStore:
        return LocalDirObjectStore(Path(self.root))


def object_store_from_env(knobs: Settings | None = None) -> ObjectStoreResource:
    """MinIO when MINIO_ENDPOINT is set (keys as EnvVar, read at run time), else the local directory store."""
    knobs = knobs or settings()
    if knobs.minio_endpoint:
        return MinioResource(
            endpoint=EnvVar("MINIO_ENDPOINT"),
            access_key=EnvVar("MINIO_ACCESS_KEY"),
            secret_key=EnvVar("MINIO_SECRET_KEY"),
            bucket=knobs.minio_bucket,
            secure=knobs.minio_secure,
        )
    return LocalStoreResource(root=str(knobs.local_store.expanduser().absolute()))


def describe_store(knobs: Settings | None = None) -> str:
    """Where objects go, for people: from the settings, no credentials, no connection needed."""
    knobs = knobs or settings()
    where = store_from_settings(knobs).describe()
    return f"MinIO {where}" if knobs.minio_endpoint else f"{where} (MINIO_ENDPOINT is not set)"


class StationApiResource(ConfigurableResource):
    """Station cloud clients for the stations of the registry, one per station and run.

    Station credentials are read at run time from the environment variables that the
    registry names; the registry itself holds no secret.
    """

    stations_file: str = ""
    # The client settings that can be configured per deployment (defaults: ClientSettings).
    connect_timeout_s: float = ClientSettings.connect_timeout_s
    read_timeout_s: float = ClientSettings.read_timeout_s
    max_attempts: int = ClientSettings.max_attempts
    backoff_initial_s: float = ClientSettings.backoff_initial_s
    backoff_max_s: float = ClientSettings.backoff_max_s
    max_retry_after_s: float = ClientSettings.max_retry_after_s
    max_redirects: int = ClientSettings.max_redirects
    max_media_mib: int = ClientSettings.max_media_bytes // (1024 * 1024)

    _clients: dict = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def settings(self) -> ClientSettings:
        shared = {f.name for f in dataclasses.fields(ClientSettings)} & set(type(self).model_fields)
        knobs = settings()  # read at run time, never at import
        return ClientSettings(
            **{name: getattr(self, name) for name in shared},
            max_media_bytes=self.max_media_mib * 1024 * 1024,
            max_reply_bytes=knobs.api_reply_max_mib * 1024 * 1024,
            max_records_bytes=knobs.records_max_mib * 1024 * 1024,
            call_deadline_s=knobs.call_deadline_s,
            media_deadline_s=knobs.media_deadline_s,
        )

    def registry(self) -> Registry:
        return load_registry(self.stations_file or None)

    def station(self, station_id: str) -> Station:
        return self.registry().get(station_id)

    def _new_client(
        self, station_id: str, settings: ClientSettings, max_connections: int | None = None, station: Any = None
    ):
        station = station or self.station(station_id)
        return StationClient(station_endpoint(station, max_connections), load_interface(station.dialect), settings)

    def quick_client(self, station_id: str, station: Any = None) -> StationClient:
        """A throw-away client for a sensor's look: short timeouts, one attempt, so a down station costs seconds.
        Pass the registry's `station` when you have it: a sensor probing thousands parses the registry once."""
        # The deployment's settings (reply cap, deadlines), with a quick look's timeouts on top.
        quick = dataclasses.replace(
            self.settings(), connect_timeout_s=3.0, read_timeout_s=10.0, max_attempts=1, call_deadline_s=15.0
        )
        return self._new_client(station_id, quick, max_connections=1, station=station)

    def fresh_client(self, station_id: str, station: Any = None) -> StationClient:
        """A client of its own, with the run's settings, for a look outside a run (the caller closes it)."""
        return self._new_client(station_id, self.settings(), station=station)

    def client(self, station_id: str) -> StationClient:
        """The station's client for this run; built once, so its token is shared by the run's steps."""
        with self._lock:
            if station_id not in self._clients:
                self._clients[station_id] = self._new_client(station_id, self.settings())
            return self._clients[station_id]

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
