"""The asset lineage as the Dagster UI sees it: the real webserver over `workspace.yaml`, queried
through its GraphQL API (dagster-graphql's client), against a temporary instance that knows the
station partitions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance
from dagster_graphql import DagsterGraphQLClient

from bench.stack import free_port
from pv_assets.partitions import STATION_PARTITIONS_NAME

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STATIONS = ["ST-0001", "ST-0002", "ST-0003"]
LOCATION_NAME = "pv_media"  # workspace.yaml
STARTUP_DEADLINE_S = 90.0

EXPECTED_DEPENDENCIES = {
    "station_token": set(),
    "infrastructure_records": {"station_token"},
    "media_manifest": {"infrastructure_records"},
    "uploaded_media": {"media_manifest"},
    "media_previews": {"uploaded_media"},
    "gallery_piece": {"infrastructure_records", "uploaded_media", "media_previews"},
    "gallery_index": {"gallery_piece"},
    "photo_facts": {"uploaded_media"},  # made in uploaded_media's step, from the staging files
    "evidence_piece": {"photo_facts", "infrastructure_records"},
    "photo_evidence": {"evidence_piece"},
    "station_health": set(),  # read from the run history, every registry station's
}
# the fan-ins over every station's piece; every station
UNPARTITIONED = {"gallery_index", "station_health", "photo_evidence"}
EXPECTED_CHECKS = {
    "station_token": set(),
    "infrastructure_records": {"unique_record_ids", "known_pickup_statuses", "records_not_vanished"},
    "media_manifest": {
        "unique_object_keys",
        "absolute_http_urls",
        "valid_id_card_numbers",
        "no_identity_collisions",
    },
    "uploaded_media": {"no_failed_items", "stored_objects_match"},
    "media_previews": {"every_object_has_previews"},
    "gallery_piece": {"piece_matches_stored_objects"},
    "gallery_index": {"index_matches_pieces", "required_photos_complete"},
    "photo_facts": set(),
    "evidence_piece": set(),
    "photo_evidence": {"no_photo_reused_across_households", "gps_within_threshold", "capture_time_within_window"},
    "station_health": set(),
}

WORKSPACE_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

ASSET_NODES_QUERY = """
query {
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    isPartitioned
    partitionKeys
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
      ... on Error { message }
    }
  }
}
"""

REPOSITORIES_QUERY = """
query {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } jobs { name } }
    }
    ... on PythonError { message }
  }
}
"""


def _fail_if_exited(proc: subprocess.Popen, log_path: Path) -> None:
    if proc.poll() is not None:
        output = log_path.read_text(encoding="utf-8", errors="replace")
        pytest.fail(f"dagster-webserver exited early with code {proc.returncode}:\n{output[-8000:]}")


def _wait_until_serving(proc: subprocess.Popen, port: int, log_path: Path, deadline: float) -> None:
    url = f"http://127.0.0.1:{port}/server_info"
    while True:
        _fail_if_exited(proc, log_path)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"dagster-webserver did not answer {url} within {STARTUP_DEADLINE_S:.0f} s")
        time.sleep(0.25)


def _wait_until_location_loaded(
    proc: subprocess.Popen, client: DagsterGraphQLClient, log_path: Path, deadline: float
) -> None:
    entry = None
    while True:
        _fail_if_exited(proc, log_path)
        workspace = client._execute(WORKSPACE_QUERY)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entry = next((e for e in workspace["locationEntries"] if e["name"] == LOCATION_NAME), None)
        if entry is not None and entry["loadStatus"] == "LOADED":
            loaded = entry["locationOrLoadError"]
            if loaded is None or loaded["__typename"] != "RepositoryLocation":
                pytest.fail(f"code location {LOCATION_NAME!r} failed to load: {loaded}")
            return
        if time.monotonic() > deadline:
            pytest.fail(f"code location {LOCATION_NAME!r} not loaded within {STARTUP_DEADLINE_S:.0f} s: {entry}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Iterator[DagsterGraphQLClient]:
    """The real dagster-webserver on a free loopback port, over a temporary DAGSTER_HOME that has
    the three station partitions; yields a GraphQL client once the code location is loaded."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("", encoding="utf-8")
    instance = DagsterInstance.from_config(str(home))
    try:
        instance.add_dynamic_partitions(STATION_PARTITIONS_NAME, STATIONS)
        assert instance.get_dynamic_partitions(STATION_PARTITIONS_NAME) == STATIONS
    finally:
        instance.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "PV_"))}
    env["DAGSTER_HOME"] = str(home)
    port = free_port()
    log_path = home / "webserver.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        _wait_until_serving(proc, port, log_path, deadline)
        # `_execute` runs a raw query through the client's own gql transport (POST /graphql).
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=30)
        _wait_until_location_loaded(proc, client, log_path, deadline)
        yield client
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def asset_nodes(webserver) -> dict[str, dict]:
    nodes = webserver._execute(ASSET_NODES_QUERY)["assetNodes"]
    return {"/".join(node["assetKey"]["path"]): node for node in nodes}


def test_exactly_the_collection_and_gallery_assets(asset_nodes):
    assert set(asset_nodes) == set(EXPECTED_DEPENDENCIES)


def test_lineage_dependencies(asset_nodes):
    dependencies = {key: {"/".join(dep["path"]) for dep in node["dependencyKeys"]} for key, node in asset_nodes.items()}
    assert dependencies == EXPECTED_DEPENDENCIES


def test_every_asset_is_partitioned_by_station(asset_nodes):
    for key, node in asset_nodes.items():
        if key in UNPARTITIONED:
            assert not node["isPartitioned"], key
            continue
        assert node["isPartitioned"], key
        assert node["partitionKeys"] == STATIONS, key


def test_asset_checks_per_asset(asset_nodes):
    checks = {}
    for key, node in asset_nodes.items():
        result = node["assetChecksOrError"]
        assert result["__typename"] == "AssetChecks", (key, result)
        checks[key] = {check["name"] for check in result["checks"]}
    assert checks == EXPECTED_CHECKS


def test_collect_station_job_in_repository(webserver):
    result = webserver._execute(REPOSITORIES_QUERY)["repositoriesOrError"]
    assert result["__typename"] == "RepositoryConnection", result
    jobs = {
        job["name"] for repo in result["nodes"] if repo["location"]["name"] == LOCATION_NAME for job in repo["jobs"]
    }
    assert {"collect_station", "build_gallery_index"} <= jobs, jobs
