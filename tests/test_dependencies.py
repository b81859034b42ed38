"""Dependencies: every import is declared in pyproject.toml, every declaration is used, and uv.lock is the
lock of exactly these declarations (the Makefile, .ci/run and deploy/Dockerfile install from it)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.dependency_check import check, shipped_packages

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
UV = Path(sys.executable).with_name("uv")


def line_of(relative: str, statement: str) -> str:
    """`relative:N` of the first line that is `statement` (other work moves these lines)."""
    lines = (ROOT / relative).read_text("utf-8").splitlines()
    return f"{relative}:{[line.strip() for line in lines].index(statement) + 1}"


def test_every_import_is_declared_and_every_declared_dependency_is_imported():
    assert check(ROOT, PYPROJECT) == []


def test_the_packages_checked_are_the_ones_pyproject_ships():
    assert {"pv_assets", "resources", "pv_gallery", "pv_simulator"} <= set(shipped_packages(PYPROJECT, ROOT))


def test_an_undeclared_import_in_the_project_is_named_with_its_file_and_line():
    without_numpy = copy.deepcopy(PYPROJECT)
    without_numpy["project"]["dependencies"] = [
        d for d in PYPROJECT["project"]["dependencies"] if not d.startswith("numpy")
    ]
    reports = check(ROOT, without_numpy)
    # Every numpy import is named with its file, line and the package that may not use it (other work adds some).
    assert (
        f"{line_of('pv_gallery/index.py', 'import numpy as np')}: imports numpy (distribution numpy), which "
        "pyproject.toml does not declare for pv_gallery" in reports
    )
    pattern = re.compile(
        r"^[\w/]+\.py:\d+: imports numpy \(distribution numpy\), which pyproject\.toml does not "
        r"declare for (\w+)$"
    )
    assert all(pattern.match(report) for report in reports), reports
    assert "bench" in {pattern.match(report).group(1) for report in reports}


def test_only_the_simulator_may_import_the_heic_encoder():
    # pillow-heif (it bundles the GPL x265 encoder) is the simulator extra's: without that grant, its imports are
    # refused, as they would be in any runtime package - and none is outside the simulator.
    reports = check(ROOT, PYPROJECT, package_extras={})
    heif = [report for report in reports if "pillow_heif" in report]
    assert heif and all(report.startswith("pv_simulator/") for report in heif), reports
    # the photos' own encoder is among them: the check reads the simulator, not only its old pictures module
    assert any(report.startswith("pv_simulator/camera/render.py:") for report in heif), heif


def test_a_new_package_an_undeclared_import_and_an_unused_dependency_are_found(tmp_path):
    # A project laid out like pv-media after a new top-level package (say pv_model/) joins packages.find.
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("import requests\nfrom . import sibling\n")
    (tmp_path / "app_model").mkdir()
    (tmp_path / "app_model" / "paths.py").write_text("import json\n\n\ndef f():\n    import numpy.linalg\n")
    (tmp_path / "not_shipped").mkdir()
    (tmp_path / "not_shipped" / "x.py").write_text("import pandas\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("import pytest\nimport app_model\n")
    pyproject = {
        "project": {
            "name": "app",
            "dependencies": ["requests>=2", "PyYAML"],
            "optional-dependencies": {"dev": ["pytest", "app[extra]"]},
        },
        "tool": {"setuptools": {"packages": {"find": {"include": ["app*"]}}}},
    }
    assert shipped_packages(pyproject, tmp_path) == ["app", "app_model"]
    assert check(tmp_path, pyproject, package_extras={}) == [
        "app_model/paths.py:5: imports numpy (distribution numpy), which pyproject.toml does not declare for app_model",
        "dependencies: pyyaml is declared but nothing imports it (remove it, or say why it stays)",
    ]


def uv_lock_check(project: Path) -> subprocess.CompletedProcess:
    # --offline: an unchanged pyproject is checked against the lock without asking the registry.
    return subprocess.run(
        [str(UV), "lock", "--check", "--offline"], cwd=project, capture_output=True, text=True, timeout=120
    )


def test_the_lock_matches_pyproject():
    done = uv_lock_check(ROOT)
    assert done.returncode == 0, f"uv.lock is stale: run `.venv/bin/uv lock` and commit it\n{done.stderr[-3000:]}"


def test_a_dependency_changed_without_the_lock_fails_the_lock_check(tmp_path):
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    text = (tmp_path / "pyproject.toml").read_text("utf-8")
    assert '    "tenacity>=9.2",\n' in text
    (tmp_path / "pyproject.toml").write_text(text.replace('    "tenacity>=9.2",\n', '    "tenacity>=9.2,<9.2.1",\n'))
    assert uv_lock_check(tmp_path).returncode != 0


def test_the_dagster_family_is_locked_at_one_tested_minor():
    lock = tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))
    versions = {p["name"]: p["version"] for p in lock["package"] if p["name"].startswith("dagster")}
    core = versions["dagster"]
    assert core.startswith("1.13.")
    for name, version in versions.items():
        # dagster's libraries are released with every core release: 1.13.27 goes with 0.29.27.
        expected = core if version.startswith("1.") else f"0.{int(core.split('.')[1]) + 16}.{core.split('.')[2]}"
        assert version == expected, f"{name} {version} is not released with dagster {core}"


def test_the_makefile_the_image_and_the_dev_tools_use_one_uv():
    [pinned] = [d for d in PYPROJECT["project"]["optional-dependencies"]["dev"] if d.startswith("uv==")]
    version = pinned.removeprefix("uv==")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert re.search(r"^UV_VERSION := (\S+)$", makefile, flags=re.MULTILINE).group(1) == version
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    assert re.findall(r"\buv==(\S+)", dockerfile) == [version]
    done = subprocess.run([str(UV), "--version"], capture_output=True, text=True, timeout=30)
    assert done.stdout.split()[:2] == ["uv", version]
