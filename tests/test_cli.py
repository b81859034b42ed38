"""`pv-media collect` and `pv-media demo` as a user runs them."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from bench.evidence_truth import late_on_reused_copies, visible_installations
from bench.evidence_truth import score as score_evidence
from pv_assets.cli.main import main
from pv_assets.collection.staging import leftover_files
from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions
from pv_assets.gallery.previews.gallery_store import read_index
from pv_assets.operations.station_run import HOST_TAG, PID_TAG
from pv_demo.demo import DEMO_SEED
from pv_gallery.health import read_health
from pv_model.dialect import load_interface
from pv_model.evidence_contract import EVIDENCE_FACTS_KEY, FINDINGS_KEY
from pv_model.gallery_contract import HEALTH_HISTORY_KEY, HEALTH_KEY
from pv_simulator import SimStationSpec, world_ref
from pv_simulator.world_station import world_of
from resources.object_store import LocalDirObjectStore
from resources.registry import load_registry
from tests.conftest import write_registry

pytestmark = pytest.mark.integration  # the CLI against the simulator, and the demo as a subprocess (tests/tiers.py)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_env(tmp_path, monkeypatch, staging_dir):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("PV_LOCAL_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    return tmp_path


def test_collect_all_registers_partitions_runs_and_summarizes(
    simulator_factory, project_env, monkeypatch, capsys, staging_dir
):
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=12, seed=4), SimStationSpec("ST-0002", records=6, seed=6)]
    )
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch, wrong_password_for=["ST-0002"])
    code = main(["collect", "--all", "--stations", str(registry)])
    printed = capsys.readouterr().out
    assert code == 1  # one station failed
    assert "ST-0002 failed: station ST-0002: login failed: code 1001: 账号或密码错误" in printed
    row = next(line for line in printed.splitlines() if "ST-0001" in line and " ok " in line)
    numbers = [int(x) for x in row.replace("│", " ").split() if x.isdigit()]
    records, picked_up, media_items, uploaded, skipped, failed, size = numbers[-7:]
    assert records == 12 and uploaded + skipped + failed == media_items and uploaded > 0 and size > 0
    assert failed == sum(1 for m in sim.expected_media("ST-0001") if m.picked_up and m.outcome != "ok")
    # The failures by reason without -v: as many as the table's failed column.
    line = next(line for line in printed.splitlines() if line.startswith("ST-0001: media items failed - "))
    assert sum(int(n) for n in re.findall(r" (\d+)(?:,|$| \()", line)) == failed > 0

    instance = DagsterInstance.get()
    assert sorted(instance.get_dynamic_partitions("station")) == ["ST-0001", "ST-0002"]
    runs = instance.get_runs(RunsFilter(job_name="collect_station"))
    assert sorted((r.tags["dagster/partition"], r.status) for r in runs) == [
        ("ST-0001", DagsterRunStatus.SUCCESS),
        ("ST-0002", DagsterRunStatus.FAILURE),
    ]
    assert leftover_files(staging_dir) == []

    # Again, only one station (it runs: its failed items are tried again): nothing new is downloaded.
    gets = sim.station("ST-0001").media_gets
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 0
    assert sim.station("ST-0001").media_gets == gets

    # The same station failing alone (its password changed): the health table the gallery reads says so at once.
    write_registry(sim, project_env / "stations.yaml", monkeypatch, wrong_password_for=["ST-0001", "ST-0002"])
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 1
    health = pq.read_table(pa.BufferReader(LocalDirObjectStore(project_env / "store").get_bytes(HEALTH_KEY)))
    assert {row["station_id"]: row["last_outcome"] for row in health.to_pylist()} == {
        "ST-0001": "failed",
        "ST-0002": "failed",
    }
    # ... and this month's line of the health history (the dashboard's series) says so too: the last run wins.
    history = LocalDirObjectStore(project_env / "store").get_bytes(HEALTH_HISTORY_KEY)
    month = datetime.now(UTC).strftime("%Y-%m")
    assert {
        (r["month"], r["station_id"], r["last_outcome"]) for r in pq.read_table(pa.BufferReader(history)).to_pylist()
    } == {
        (month, "ST-0001", "failed"),
        (month, "ST-0002", "failed"),
    }


def test_a_station_with_nothing_new_gets_no_run(simulator_factory, project_env, monkeypatch, capsys, staging_dir):
    sim = simulator_factory([SimStationSpec("ST-0001", records=4, seed=4, quirks=False)])
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch)
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 0
    instance = DagsterInstance.get()
    [first_run] = instance.get_runs(RunsFilter(job_name="collect_station"))
    gets, logins = sim.station("ST-0001").media_gets, sim.station("ST-0001").logins
    capsys.readouterr()
    # The daily pass's look: same records, settings and code, every object in place - no run, an observation.
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 0
    printed = capsys.readouterr().out
    assert f"ST-0001: nothing new (records, registry, dialect, settings, code, stored objects); run {first_run.run_id}"\
        " stands" in printed and "gallery index" not in printed  # fmt: skip
    assert len(instance.get_runs(RunsFilter(job_name="collect_station"))) == 1
    assert sim.station("ST-0001").media_gets == gets and sim.station("ST-0001").logins == logins + 1
    observed = instance.fetch_observations(AssetKey("infrastructure_records"), limit=1).records
    assert observed[0].asset_observation.metadata["unchanged_since_run"].value == first_run.run_id
    # --force runs it anyway (and finds everything stored).
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry), "--force"]) == 0
    assert len(instance.get_runs(RunsFilter(job_name="collect_station"))) == 2
    assert sim.station("ST-0001").media_gets == gets


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect"], "name stations with --station ID, or collect them all with --all"),
        (["collect", "--station", "ST-404"], "no station ST-404 in the registry"),
    ],
)
def test_collect_usage_errors(simulator_factory, project_env, monkeypatch, capsys, args, message):
    sim = simulator_factory([SimStationSpec("ST-0001", records=2, seed=4)])
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch)
    assert main([*args, "--stations", str(registry)]) == 2
    assert message in capsys.readouterr().err


def test_collect_with_a_broken_registry_names_the_file_and_line(project_env, capsys):
    broken = project_env / "stations.yaml"
    broken.write_text("stations:\n  - id: ST-1\n    base_url: ftp://x\n    account_env: A\n    password_env: B\n")
    assert main(["collect", "--all", "--stations", str(broken)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{broken}:2: station ST-1: field 'base_url'" in err


# The demo in two shapes: the interface standard, and OAuth2 with typed attachment objects. Every dialect
# collects end to end in tests/test_dialects.py and serves the same world in tests/test_world_served.py.
@pytest.mark.parametrize("dialect", ["default", "enphase"])
def test_demo_runs_from_a_fresh_directory_and_exits_zero(tmp_path, dialect):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "PV_", "DAGSTER_"))}
    env["PV_STAGING_DIR"] = str(tmp_path / "staging")
    done = subprocess.run(
        [sys.executable, "-m", "pv_assets.cli", "demo", "--dir", str(tmp_path / "demo"), "--dialect", dialect]
        + ["--world", "tiny", "--photos", "tiny"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Demo behaved as designed" in done.stdout
    iface = load_interface(dialect)
    refusal = "invalid_client" if iface.auth_scheme == "oauth2" else sorted(iface.envelope.bad_credentials)[0]
    world = world_of(world_ref("tiny", DEMO_SEED))
    failing = next(plan.station_id for plan in world.stations if plan.health == "login_fails")
    assert f"{failing} failed: station {failing}: login failed: code {refusal}" in done.stdout
    truth = json.loads((tmp_path / "demo" / "world-truth.json").read_text("utf-8"))
    assert truth["figures"]["failing_stations"] == [failing]
    registry = load_registry(tmp_path / "demo" / "stations.yaml")
    assert registry.region_names == {region.code: region.name for region in world.regions}
    index = read_index(LocalDirObjectStore(tmp_path / "demo" / "object-store"))
    codes, named = index.column("region_company_code").to_pylist(), index.column("region_company_name").to_pylist()
    names = dict(zip(codes, named, strict=True))
    assert names == {code: registry.region_names[code] for code in names} and len(names) >= 2
    objects = [
        p
        for p in (tmp_path / "demo" / "object-store").rglob("*")
        if p.is_file() and "_pv-media" not in p.parts and ".pv-meta" not in p.parts
    ]
    assert len(objects) > 20
    assert not list((tmp_path / "staging").rglob("*.part"))
    gallery_figures_equal_the_truth(LocalDirObjectStore(tmp_path / "demo" / "object-store"), truth)
    completeness_check_was_run(tmp_path / "demo", truth)
    stale_in_the_health_table_as_in_the_world(LocalDirObjectStore(tmp_path / "demo" / "object-store"), truth)
    evidence_equals_the_truth(LocalDirObjectStore(tmp_path / "demo" / "object-store"), truth, world)


def evidence_equals_the_truth(store: LocalDirObjectStore, truth: dict, world) -> None:
    """Issue 27 on the small world: every planted reuse found as its exact set of installations, no other
    cluster; every far, early and camera-less photo found and nothing else; a captured_late finding only where
    a reused copy brought its source's date along. The facts were read in staging, not from the store."""
    findings = pq.read_table(io.BytesIO(store.get_bytes(FINDINGS_KEY))).to_pylist()
    scores = {s.kind: s for s in score_evidence(findings, truth, visible_installations(world))}
    assert scores["reuse"].planted >= 3
    assert set(scores) == {"reuse", "gps_far", "captured_early", "no_camera_data"}
    for figures in scores.values():
        assert (figures.found, figures.true) == (figures.planted, figures.planted), figures
    late, on_copies = late_on_reused_copies(findings, truth)
    assert late == on_copies
    # The simulator's clips are a few variants of one drawn scene, so videos cluster (not scored: the truth
    # plants no video reuse) - among themselves only, never with a photo.
    reuse = [f for f in findings if f["kind"] == "reuse"]
    video_clusters = {f["cluster"] for f in reuse if f["media_kind"] == "video"}
    assert all(f["media_kind"] == "video" for f in reuse if f["cluster"] in video_clusters)
    facts = pq.read_table(io.BytesIO(store.get_bytes(EVIDENCE_FACTS_KEY))).to_pylist()
    assert facts and {f["facts_outcome"] for f in facts} == {"computed"}  # from staging: no read of the store
    assert all(f["installation_lat"] is not None for f in facts)


def stale_in_the_health_table_as_in_the_world(store, truth) -> None:
    """The world's stale station was collected with the clock turned back: its last success is weeks old,
    so the gallery flags it (at the default 72 h) and no other station."""
    health = read_health(store.get_bytes(HEALTH_KEY))
    now, age = datetime.now(UTC), timedelta(hours=72)
    assert truth["figures"]["stale_stations"]
    assert sorted(sid for sid, (_, h) in health.items() if h.stale(now, age)) == truth["figures"]["stale_stations"]
    for station_id in truth["figures"]["stale_stations"]:
        since = datetime.fromisoformat(health[station_id][1].last_success_at)
        assert timedelta(days=20) < now - since < timedelta(days=30)


def completeness_check_was_run(demo, truth: dict) -> None:
    """The gallery job ran the completeness check: the Dagster UI shows the world's complete installations
    (the stale station's as it was weeks ago: the truth has it for now only, so the gallery's figure)."""
    from dagster import AssetCheckKey, AssetKey

    from pv_gallery.index import GalleryIndex

    stations = GalleryIndex(LocalDirObjectStore(demo / "object-store")).snapshot().stations
    stale = sum(stations[s["id"]].complete for s in truth["stations"] if s["health"] == "stale")
    with DagsterInstance.from_config(str(demo / "dagster_home")) as instance:
        key = AssetCheckKey(AssetKey("gallery_index"), "required_photos_complete")
        record = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)[0]
        evaluation = record.event.dagster_event.event_specific_data
        collected = [s for s in truth["stations"] if s["health"] not in ("login_fails", "stale")]
        assert evaluation.metadata["complete"].value == stale + sum(s["complete_and_served"] for s in collected)
        assert not evaluation.passed  # the world plants missing types


def gallery_figures_equal_the_truth(store: LocalDirObjectStore, truth: dict) -> None:
    """What the supervisor's overview is computed from (issue 25) against the world's truth: every registry
    station with its health, the failing one by its login; per station the complete installations and the
    missing required types (missing, or every file of that type dead); failed items by category."""
    from pv_gallery.index import GalleryIndex

    stations = GalleryIndex(store).snapshot().stations
    assert sorted(stations) == sorted(s["id"] for s in truth["stations"])
    failing = sorted(sid for sid, s in stations.items() if s.health.failing)
    assert failing == truth["figures"]["failing_stations"]
    assert {stations[sid].health.failure_category for sid in failing} == {"login_failed"}
    outcome_category = {"not_found": "link_dead", "gone": "file_deleted", "html": "not_media"}
    for world in truth["stations"]:
        summary = stations[world["id"]]
        if world["health"] in ("login_fails", "stale"):  # nothing collected / collected as it was weeks ago
            expected_picked = 0 if world["health"] == "login_fails" else world["picked_up_as_of_stale_since"]
            assert summary.picked_up == expected_picked, world["id"]
            continue
        missing = {t: world["missing_types"][t] + world["unavailable_types"][t] for t in world["missing_types"]}
        assert (summary.picked_up, summary.complete) == (world["picked_up"], world["complete_and_served"]), world["id"]
        assert summary.missing == {t: n for t, n in missing.items() if n}, world["id"]
        assert summary.reasons == {outcome_category[o]: n for o, n in world["failing_by_outcome"].items()}, world["id"]


def test_the_same_station_is_never_collected_twice_at_once(simulator_factory, project_env, monkeypatch, capsys):
    sim = simulator_factory([SimStationSpec("ST-0001", records=4, seed=4)])
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch)
    main(["collect", "--station", "ST-0001", "--stations", str(registry)])
    instance = DagsterInstance.get()
    job = make_definitions().resolve_job_def(COLLECT_JOB_NAME)

    def started_run(pid: int):
        tags = {"dagster/partition": "ST-0001", PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
        return instance.create_run_for_job(job_def=job, tags=tags, status=DagsterRunStatus.STARTED)

    alive = started_run(os.getpid())  # a collection in progress in a live process
    logins = sim.station("ST-0001").logins
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 1
    assert f"already being collected by run {alive.run_id}; not started twice" in capsys.readouterr().out
    assert sim.station("ST-0001").logins == logins  # the station was not touched
    instance.report_run_failed(alive)

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = started_run(dead.pid)  # left STARTED by a process that was killed
    assert main(["collect", "--station", "ST-0001", "--stations", str(registry)]) == 0
    assert instance.get_run_by_id(orphan.run_id).status == DagsterRunStatus.FAILURE


def test_instance_config_limits_one_run_per_station_and_a_global_limit(tmp_path):
    from dagster import DagsterInstance as Instance

    (tmp_path / "dagster.yaml").write_text((ROOT / "conf" / "dagster.yaml").read_text())
    instance = Instance.from_config(str(tmp_path))
    queue = instance.get_concurrency_config().run_queue_config
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert queue.max_concurrent_runs == 4
    limits = {limit["key"]: limit for limit in queue.tag_concurrency_limits}
    for key in ("dagster/partition", "pv-media/station"):
        assert limits[key]["limit"] == 1 and limits[key]["value"] == {"applyLimitPerUniqueValue": True}


def test_collect_in_parallel_processes(simulator_factory, project_env, monkeypatch, capsys, staging_dir):
    sim = simulator_factory([SimStationSpec(f"ST-000{i}", records=5, seed=i) for i in (1, 2, 3)])
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch, wrong_password_for=["ST-0003"])
    assert main(["collect", "--all", "--parallel", "3", "--stations", str(registry)]) == 1
    printed = capsys.readouterr().out
    assert "ST-0003 failed: station ST-0003: login failed: code 1001" in printed
    runs = DagsterInstance.get().get_runs(RunsFilter(job_name="collect_station"))
    assert sorted((r.tags["dagster/partition"], r.status) for r in runs) == [
        ("ST-0001", DagsterRunStatus.SUCCESS),
        ("ST-0002", DagsterRunStatus.SUCCESS),
        ("ST-0003", DagsterRunStatus.FAILURE),
    ]
    assert len({r.tags["pv-media/pid"] for r in runs}) == 3  # three processes
    # The gallery index is merged once, by the parent, not by every child process as well.
    assert len(DagsterInstance.get().get_runs(RunsFilter(job_name="build_gallery_index"))) == 1
    for station_id in ("ST-0001", "ST-0002"):
        assert sim.station(station_id).media_gets > 0


def test_ui_sets_up_the_instance_and_hands_over_to_dagster_dev(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "pv_assets.cli", "ui", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == f"DAGSTER_HOME={tmp_path / 'home'}"
    assert done.stdout.splitlines()[0] == "Usage: python -m dagster dev [OPTIONS]"  # dagster dev's own help
    assert (tmp_path / "home" / "dagster.yaml").read_text() == (ROOT / "conf" / "dagster.yaml").read_text()


def test_an_unreachable_store_is_named_in_the_summary(simulator_factory, project_env, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MINIO_ENDPOINT", f"127.0.0.1:{port}")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "k")
    monkeypatch.setenv("MINIO_SECRET_KEY", "s3cret-key-value")
    sim = simulator_factory([SimStationSpec("ST-0001", records=2, seed=4)])
    registry = write_registry(sim, project_env / "stations.yaml", monkeypatch)
    assert main(["collect", "--all", "--stations", str(registry)]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert (
        f"ST-0001 failed: resources.object_store.ObjectStoreError: object store http://127.0.0.1:{port}/pv-media"
        in printed
    )
    assert f"objects and audit manifests: MinIO http://127.0.0.1:{port}/pv-media" in printed
    assert "s3cret-key-value" not in printed


def test_demo_without_the_simulator_says_what_to_install(monkeypatch, capsys):
    """The runtime does not ship the test double: `pv-media demo` on such an install fails with the fix."""
    monkeypatch.setitem(sys.modules, "pv_demo.demo", None)  # as if the package were not installed
    assert main(["demo", "--dir", "unused"]) == 2
    message = capsys.readouterr().err
    assert "`pv-media demo` needs the station simulator" in message and "uv sync --extra dev" in message
