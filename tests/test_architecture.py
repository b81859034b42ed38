"""The shape of the house: which package may import which, and nothing read from the
environment at import time. Read from the source (ast), so a violation fails here even on a
path no other test happens to import."""

from __future__ import annotations

import ast
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
    return top if top in {"pv_assets", "resources", "pv_simulator", "pv_gallery", "bench", "tests"} else None


@pytest.mark.parametrize("path", modules("resources"), ids=lambda p: str(p.relative_to(ROOT)))
def test_resources_never_import_pv_assets(path):
    offending = {name for name in imported_names(path) if _first_party(name) not in (None, "resources")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", modules("pv_simulator"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_simulator_depends_on_the_dialect_definitions_only(path):
    offending = {
        name
        for name in imported_names(path)
        if _first_party(name) not in (None, "pv_simulator") and name != "resources.interface"
    }
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", modules("pv_gallery"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_gallery_reads_stored_data_and_needs_no_pipeline(path):
    offending = {name for name in imported_names(path) if _first_party(name) not in (None, "pv_gallery", "resources")}
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
    [*modules("pv_assets"), *modules("resources"), *modules("pv_simulator"), *modules("pv_gallery")],
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
