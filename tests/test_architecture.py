"""The shape of the house: which package may import which, and nothing read from the
environment at import time. Read from the source (ast), so a violation fails here even on a
path no other test happens to import."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, at any depth (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _first_party(name: str) -> str | None:
    top = name.split(".")[0]
    first_party = {"pv_model", "pv_assets", "resources", "pv_simulator", "pv_gallery", "pv_demo", "bench", "tests"}
    return top if top in first_party else None


@pytest.mark.parametrize("path", modules("pv_model"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_models_import_nothing_of_pv_media(path):
    """The shared models sit below everything: every side imports them, they import no side."""
    offending = {name for name in imported_names(path) if _first_party(name) not in (None, "pv_model")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", modules("resources"), ids=lambda p: str(p.relative_to(ROOT)))
def test_resources_never_import_pv_assets(path):
    offending = {name for name in imported_names(path) if _first_party(name) not in (None, "resources", "pv_model")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", modules("pv_simulator"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_simulator_depends_on_the_dialect_definitions_only(path):
    offending = {
        name
        for name in imported_names(path)
        if _first_party(name) not in (None, "pv_simulator") and not name.startswith("pv_model.dialect")
    }
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", modules("pv_gallery"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_gallery_reads_stored_data_and_needs_no_pipeline(path):
    offending = {
        name for name in imported_names(path) if _first_party(name) not in (None, "pv_gallery", "resources", "pv_model")
    }
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def _reads_environment(node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr in ("environ", "getenv", "environb"):
            return True
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "settings":
            return True
    return False


def _import_time_statements(tree: ast.Module):
    """Statements that run when the module is imported: the module body and class bodies, not functions."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # Decorators and default values run at import; the body does not.
            pending.extend(node.decorator_list)
            pending.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.ClassDef):
            pending.extend(node.body)
            pending.extend(node.decorator_list)
            continue
        if isinstance(node, ast.If) and _is_main_guard(node):
            continue  # runs when the module is the program, not when it is imported
        if isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            pending.extend(ast.iter_child_nodes(node))
            continue
        yield node


@pytest.mark.parametrize(
    "path",
    [
        *modules("pv_model"),
        *modules("pv_assets"),
        *modules("resources"),
        *modules("pv_simulator"),
        *modules("pv_gallery"),
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_reads_the_environment_at_import_time(path):
    tree = ast.parse(path.read_text("utf-8"), str(path))
    offending = [node.lineno for node in _import_time_statements(tree) if _reads_environment(node)]
    assert not offending, f"{path.relative_to(ROOT)} reads the environment at import time (lines {offending})"


def _is_main_guard(node: ast.If) -> bool:
    return "__name__" in ast.unparse(node.test)


def test_the_checks_above_can_fail():
    """The detectors themselves: a module-level read and a pv_assets import are found."""
    bad = ast.parse("import os\nX = os.environ.get('A')\ndef f():\n    return os.environ['B']\n")
    assert [n.lineno for n in _import_time_statements(bad) if _reads_environment(n)] == [2]
    main_guard = ast.parse("import os\nif __name__ == '__main__':\n    print(os.environ['A'])\n")
    assert [n for n in _import_time_statements(main_guard) if _reads_environment(n)] == []
    assert _first_party("pv_assets.registry") == "pv_assets" and _first_party("requests") is None


# pv-media's own packages (the test double and the demo included: a cycle through them is a cycle too).
PACKAGES = ("pv_model", "pv_assets", "resources", "pv_gallery", "pv_simulator", "pv_demo")
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (module level or inside functions), not those under TYPE_CHECKING."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return found


def import_graph(paths: list[Path]) -> dict[str, set[str]]:
    """module -> the first-party modules it imports; `from pkg import name` points at pkg.name when that is a
    module, else at pkg."""
    known = {module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        edges = graph.setdefault(module_name(path), set())
        for node in _runtime_imports(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in known)
            elif node.module and node.level == 0 and node.module in known:
                for alias in node.names:
                    edges.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_pv_medias_modules():
    """Also through imports inside functions: a cycle broken only by a deferred import is still a cycle."""
    graph = import_graph([p for package in PACKAGES for p in modules(package)])
    assert len(graph) > 100
    assert cycles(graph) == []


def test_the_cycle_detector_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def _module_level_imports(path: Path) -> set[str]:
    """What a module imports when it is imported (not inside functions, not under TYPE_CHECKING)."""
    names: set[str] = set()
    for node in _import_time_statements(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", [*modules("pv_model"), *modules("pv_assets"), *modules("resources")], ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_runtime_imports_neither_the_test_double_nor_the_viewer_at_import(path):
    offending = {n for n in _module_level_imports(path) if _first_party(n) in ("pv_simulator", "pv_gallery", "pv_demo")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)} when it is imported"


@pytest.mark.parametrize("path", modules("pv_gallery"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_viewer_never_imports_the_pipeline(path):
    offending = {name for name in imported_names(path) if _first_party(name) == "pv_assets"}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.integration
def test_building_the_definitions_loads_neither_the_simulator_nor_the_gallery(tmp_path):
    """In a fresh interpreter: the code location Dagster loads ships without the test double and the viewer."""
    probe = (
        "import sys\n"
        "import pv_assets.definitions as d\n"
        "d.defs()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pv_simulator', 'pv_gallery', 'pv_demo'}))\n"
    )
    env = {**os.environ, "PV_LOCAL_STORE": str(tmp_path / "store"), "DAGSTER_HOME": str(tmp_path)}
    env.pop("PV_DEPLOYMENT", None)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _over_limit() -> list[str]:
    too_long = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("tests", "bench") or relative.parts[0].startswith(".") or "egg-info" in str(relative):
            continue
        count = len(path.read_text("utf-8").splitlines())
        if count > MAX_MODULE_LINES:
            too_long.append(f"{relative}: {count} lines")
    return too_long


def test_no_module_is_over_400_lines():
    """Outside tests/ and bench/: a module that long holds more than one responsibility; split it by them."""
    assert _over_limit() == []


# The seed's step codes (S1-S8, b-g, d1/d2): "S2/b", "d2/S4-S5/e". S3 is left out: it names the object store.
STEP_CODE = re.compile(r"\bS[124-8]\b|\bd[12]\b|\b[a-g]/S\d\b|^[a-g]\d?: |\(steps? [a-g]")


def test_what_the_dagster_ui_shows_speaks_to_its_users(monkeypatch, tmp_path):
    """Asset, check, job, sensor and schedule descriptions say what a thing is, not which seed step it was."""
    monkeypatch.setenv("PV_LOCAL_STORE", str(tmp_path))
    from pv_assets.definitions import make_definitions

    defs = make_definitions()
    repo = defs.get_repository_def()
    shown = {f"asset {spec.key.to_user_string()}": spec.description for spec in defs.resolve_all_asset_specs()}
    for assets_def in repo.asset_graph.assets_defs:
        shown.update({f"check {spec.name}": spec.description for spec in assets_def.check_specs})
    shown.update({f"job {job.name}": job.description for job in repo.get_all_jobs()})
    shown.update({f"sensor {s.name}": s.description for s in repo.sensor_defs})
    shown.update({f"schedule {s.name}": s.description for s in repo.schedule_defs})
    assert len(shown) > 20
    coded = {where: text for where, text in shown.items() if text and STEP_CODE.search(text)}
    assert coded == {}


def test_the_step_code_pattern_finds_the_old_descriptions():
    assert STEP_CODE.search("S2/b: fetch every record") and STEP_CODE.search("else d2/S4-S5/e: stream")
    assert STEP_CODE.search("c: keep the records") and not STEP_CODE.search("uploaded to S3 under a key")
