"""The production configuration, checked for what can be checked without a cluster: the instance file
validates against Dagster's schema with the same run limits as the embedded default, the Helm values
parse and carry those limits, and the user-code image copies files that exist and starts a module that
loads."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from resources.dagster_private import instance_file_config

ROOT = Path(__file__).resolve().parents[1]
# The module `dg check defs` (tests/test_dg.py) and `dagster dev` (workspace.yaml) load.
CODE_LOCATION_MODULE = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["dg"]["project"][
    "code_location_target_module"
]


def assert_loads_the_pipeline(module_name: str) -> None:
    """The module's `defs` resolve, as the code server loads them, to definitions with pv-media's jobs."""
    from dagster import Definitions

    loaded = importlib.import_module(module_name).defs
    defs = loaded if isinstance(loaded, Definitions) else loaded()  # @definitions: loaded lazily
    Definitions.validate_loadable(defs)
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    expected = {"collect_station", "collect_station_batch", "build_gallery_index"}
    assert expected <= jobs, f"{module_name} defines the jobs {sorted(jobs)}"


def test_production_instance_file_validates_and_keeps_the_embedded_run_limits(tmp_path, monkeypatch):
    for name, value in {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "u",
                        "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": "d"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    shutil.copyfile(ROOT / "conf" / "dagster-postgres.yaml", tmp_path / "dagster.yaml")
    config = instance_file_config(tmp_path)
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_monitoring"]["enabled"] and config["run_monitoring"]["max_resume_run_attempts"] == 0
    assert config["run_retries"]["enabled"] and config["run_retries"]["max_retries"] >= 1
    embedded = yaml.safe_load((ROOT / "conf" / "dagster.yaml").read_text("utf-8"))
    assert (
        config["concurrency"]["runs"]["tag_concurrency_limits"]
        == embedded["concurrency"]["runs"]["tag_concurrency_limits"]
    )


def test_helm_values_carry_the_same_limits_and_the_k8s_run_launcher():
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text("utf-8"))
    instance = yaml.safe_load((ROOT / "conf" / "dagster-postgres.yaml").read_text("utf-8"))
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    helm_limits = values["concurrency"]["runs"]["tagConcurrencyLimits"]
    assert helm_limits == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    [deployment] = values["dagster-user-deployments"]["deployments"]
    module = deployment["dagsterApiGrpcArgs"][deployment["dagsterApiGrpcArgs"].index("-m") + 1]
    assert module == CODE_LOCATION_MODULE
    assert_loads_the_pipeline(module)
    env = {e["name"]: e.get("value") for e in deployment["env"]}
    assert env["PV_DEPLOYMENT"] == "production" and env["MINIO_ENDPOINT"]  # production refuses the local store
    assert not any(re.search(r"(PASSWORD|SECRET|ACCESS_KEY)", name) for name in env)  # secrets only from Secrets
    # Every pv-media variable the chart sets is a setting pv-media reads (a renamed one would be ignored).
    from resources.settings import Settings, env_name

    known = {env_name(field) for field in Settings.model_fields}
    assert {name for name in env if name.startswith("PV_")} <= known


def test_the_user_code_image_copies_files_that_exist_and_starts_the_definitions_module():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    copies = re.findall(r"^COPY\s+(.+)$", dockerfile, flags=re.MULTILINE)
    assert copies
    for line in copies:
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which does not exist"
    # Every package the project installs is in the image: the definitions import more than pv_assets.
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]["find"]
    copied = {line.split()[0] for line in copies}
    assert {pattern.rstrip("*") for pattern in packages["include"]} <= copied
    cmd = yaml.safe_load(re.search(r"^CMD\s+(\[.+\])$", dockerfile, flags=re.MULTILINE).group(1))
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert cmd[cmd.index("-m") + 1] == CODE_LOCATION_MODULE
    assert_loads_the_pipeline(cmd[cmd.index("-m") + 1])
    local = yaml.safe_load((ROOT / "workspace.yaml").read_text("utf-8"))
    assert local["load_from"][0]["python_module"]["module_name"] == CODE_LOCATION_MODULE
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace-grpc.yaml").read_text("utf-8"))
    assert workspace["load_from"][0]["grpc_server"]["location_name"] == "pv_media"


def test_an_unknown_deployment_mode_is_refused_with_the_variable_and_the_choices(monkeypatch):
    import pytest

    from pv_assets.operations.deployment import DeploymentError, deployment_mode

    monkeypatch.setenv("PV_DEPLOYMENT", "prod")
    with pytest.raises(DeploymentError, match=r"PV_DEPLOYMENT='prod': expected one of embedded, production"):
        deployment_mode()
    monkeypatch.setenv("PV_DEPLOYMENT", "Production")
    assert deployment_mode() == "production"


@pytest.mark.integration
def test_the_image_finds_the_shipped_dialects_where_the_dockerfile_puts_them(tmp_path):
    """Installed as a wheel (as `uv sync --no-editable` does in the image) the package carries no conf/, and
    the working directory is never searched: the image's PV_DIALECTS_DIR names where it copies them."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    workdir = re.search(r"^WORKDIR\s+(\S+)$", dockerfile, flags=re.MULTILINE).group(1)
    target = re.search(r"^COPY conf/dialects\s+(\S+)$", dockerfile, flags=re.MULTILINE).group(1)
    declared = re.search(r"PV_DIALECTS_DIR=(\S+)", dockerfile).group(1)
    assert declared == str(Path(workdir) / target)
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ and *.egg-info there
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]["find"]
    for package in (pattern.rstrip("*") for pattern in packages["include"]):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("pv_media-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = "from pv_model.dialect import load_interface\nprint(load_interface('default').name)\n"
    env = {k: v for k, v in os.environ.items() if k != "PV_DIALECTS_DIR"} | {"PYTHONPATH": str(site)}
    alone = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert alone.returncode != 0 and "unknown dialect 'default'" in alone.stderr
    env["PV_DIALECTS_DIR"] = str(ROOT / "conf" / "dialects")  # what the image's variable points at
    found = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert found.returncode == 0 and found.stdout.strip() == "default", found.stderr[-2000:]
