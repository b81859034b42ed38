"""Real parts for the tests: moto's S3 server over HTTP, the station simulator, a temporary
Dagster instance - and helpers to run real materializations against them."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_sensor_context, instance_for_test
from moto.server import ThreadedMotoServer

from pv_assets.cli.signals import restore_termination_signals
from pv_assets.definitions import COLLECT_JOB_NAME, STATION_TAG, make_definitions
from pv_assets.partitions import STATION_PARTITIONS_NAME
from pv_simulator import SimStationSpec, StationSimulator
from pv_simulator import write_registry as write_registry_file
from resources.dagster_resources import MinioResource, StationApiResource
from resources.object_store import MinioObjectStore
from tests.tiers import fast_tests_open_no_socket, mark_tiers  # noqa: F401 - the guard applies to every test

S3_ACCESS_KEY = "pv-test-access-key"
S3_SECRET_KEY = "pv-test-secret-key-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    # Run in the background by a shell without job control, the suite would start every daemon, code server
    # and compute-log tail with SIGTERM ignored, as `pv-media` would (pv_assets/cli/signals.py).
    restore_termination_signals()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tiers(items)


@pytest.fixture(autouse=True)
def registry_cache(tmp_path, monkeypatch) -> Path:
    """Parsed registries go to the test's own folder, never to the project's var/cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("PV_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def bucket() -> str:
    return f"pv-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_store(s3_endpoint, bucket) -> MinioObjectStore:
    store = MinioObjectStore(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket)
    store.ensure_ready()
    return store


@pytest.fixture
def minio_env(s3_endpoint, bucket, monkeypatch) -> dict[str, str]:
    env = {
        "MINIO_ENDPOINT": s3_endpoint,
        "MINIO_ACCESS_KEY": S3_ACCESS_KEY,
        "MINIO_SECRET_KEY": S3_SECRET_KEY,
        "MINIO_BUCKET": bucket,
        "MINIO_SECURE": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def staging_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "staging"
    monkeypatch.setenv("PV_STAGING_DIR", str(path))
    return path


@pytest.fixture
def dagster_instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance


def start_simulator(specs: list[SimStationSpec], **kwargs) -> StationSimulator:
    kwargs.setdefault("retry_after", "0")
    return StationSimulator(specs, **kwargs).start()


@pytest.fixture
def simulator_factory() -> Iterator:
    started: list[StationSimulator] = []

    def factory(specs: list[SimStationSpec], **kwargs) -> StationSimulator:
        sim = start_simulator(specs, **kwargs)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


def write_registry(
    sim: StationSimulator, path: Path, monkeypatch, *, wrong_password_for=(), overrides: dict[str, dict] | None = None
) -> Path:
    """A registry for the simulator's stations, with their credentials in the environment."""
    entries, env = sim.registry_entries(wrong_password_for=tuple(wrong_password_for))
    for entry in entries:
        entry.update((overrides or {}).get(entry["id"], {}))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_registry_file(path, entries)
    monkeypatch.setenv("PV_STATIONS_FILE", str(path))
    return path


# Fast retries for tests: the behaviour is the same, the waits are short.
def fast_station_api(stations_file: Path, **overrides) -> StationApiResource:
    settings = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "read_timeout_s": 5.0, "max_attempts": 4}
    settings.update(overrides)
    return StationApiResource(stations_file=str(stations_file), **settings)


def run_station(instance: DagsterInstance, station_api: StationApiResource, store_resource, station_id: str):
    """One real materialization of the four assets for a station partition."""
    defs = make_definitions(station_api=station_api, object_store=store_resource)
    if station_id not in instance.get_dynamic_partitions(STATION_PARTITIONS_NAME):
        instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, [station_id])
    job = defs.resolve_job_def(COLLECT_JOB_NAME)
    return job.execute_in_process(
        partition_key=station_id, instance=instance, raise_on_error=False, tags={STATION_TAG: station_id}
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def media_objects(store) -> list:
    """The stored media, without the audit manifests, previews and gallery index under _pv-media/."""
    return [o for o in store.list_prefix("") if not o.key.startswith("_pv-media/")]


def expected_sha256s(sim, station_id: str) -> list[str]:
    """sha256 of every file the simulator serves for a picked-up record and expects to be stored, sorted."""
    return sorted(m.sha256 for m in sim.expected_media(station_id) if m.picked_up and m.outcome == "ok")


@pytest.fixture
def s3_resource(s3_endpoint, s3_store) -> MinioResource:
    """The Dagster resource of this test's bucket on the moto S3 server."""
    return MinioResource(
        endpoint=s3_endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, bucket=s3_store.bucket
    )


def evaluate_sensor(sensor, instance, registry: Path, cursor: str | None = None):
    """One tick of a sensor over the registry's stations (short client timeouts)."""
    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"station_api": fast_station_api(registry)}
    ) as context:
        return sensor(context)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's, /usr/bin/chromium) for every browser test of the run."""
    from tests.test_gallery_browser import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
