"""What the code imports against what pyproject.toml declares (tests/test_dependencies.py runs it).

The first-party packages are the ones `[tool.setuptools.packages.find]` ships, so a package added or
moved there is checked without touching this file. Every absolute import of a module outside the
standard library and the project must come from a distribution declared for that code: the runtime
packages from `[project] dependencies`, a package named in PACKAGE_EXTRAS also from its extra, tests/
and bench/ from every extra. Every declared distribution must be imported somewhere it is allowed, or be
named with its reason in the *_WITHOUT_IMPORT tables (a plugin, a command, a driver named in a config).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

# Packages that may also import an extra's distributions: the simulated world encodes HEIC with pillow-heif;
# the demo runs that world and turns the clock back for its stale station (time-machine).
PACKAGE_EXTRAS = {"pv_simulator": ("simulator",), "pv_demo": ("simulator",)}
# Code that is not shipped and may import every extra.
DEV_TREES = ("tests", "bench")

# Declared and needed, but never imported by name.
RUNTIME_WITHOUT_IMPORT = {
    "dagster-webserver": "`pv-media ui` runs `dagster dev`, which serves the UI from it",
    "dagster-postgres": "conf/dagster-postgres.yaml names its storage classes",
    "psycopg2-binary": "the SQLAlchemy driver conf/dagster-postgres.yaml names (postgresql+psycopg2)",
    "jinja2": "Starlette's Jinja2Templates renders the gallery's pages with it",
}
DEV_WITHOUT_IMPORT = {
    "pytest-timeout": "a pytest plugin, configured in [tool.pytest.ini_options]",
    "ruff": "`make lint`",
    "uv": "`make install` syncs from uv.lock; tests/test_dependencies.py checks the lock",
    "dagster-dg-cli": "the `dg` command (tests/test_dg.py)",
    "httpx2": "Starlette's TestClient",
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalize(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1))


@dataclass(frozen=True)
class Declared:
    runtime: frozenset[str]
    extras: Mapping[str, frozenset[str]]  # extra -> its distributions (self-references left out)

    def allowed(self, area: str, package_extras: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
        if area in DEV_TREES:
            return self.runtime.union(*self.extras.values())
        return self.runtime.union(*(self.extras[extra] for extra in package_extras.get(area, ())))


def declared(pyproject: Mapping) -> Declared:
    project = pyproject["project"]
    own = normalize(project["name"])
    extras = {
        extra: frozenset(n for n in map(requirement_name, specs) if n != own)
        for extra, specs in project.get("optional-dependencies", {}).items()
    }
    return Declared(frozenset(map(requirement_name, project.get("dependencies", []))), extras)


def shipped_packages(pyproject: Mapping, root: Path) -> list[str]:
    """The top-level packages `[tool.setuptools.packages.find]` finds under root (namespace packages too)."""
    find = pyproject["tool"]["setuptools"]["packages"]["find"]
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])
    found = []
    for where in find.get("where", ["."]):
        for path in sorted((root / where).iterdir()):
            if not (path.is_dir() and path.name.isidentifier() and any(path.rglob("*.py"))):
                continue
            if any(fnmatch(path.name, p) for p in include) and not any(fnmatch(path.name, p) for p in exclude):
                found.append(path.name)
    return found


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # the top-level name


def imports(path: Path) -> Iterator[Import]:
    """Every absolute import in the file, wherever it stands (inside functions and TYPE_CHECKING too)."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(path, node.lineno, node.module.split(".")[0])


def check(
    root: Path, pyproject: Mapping, *, package_extras: Mapping[str, tuple[str, ...]] = PACKAGE_EXTRAS
) -> list[str]:
    """The problems, one line each; empty when the imports and the declarations agree."""
    distributions = importlib.metadata.packages_distributions()
    wanted = declared(pyproject)
    packages = shipped_packages(pyproject, root)
    first_party = {*packages, *DEV_TREES}
    problems = [f"PACKAGE_EXTRAS names {name}, which pyproject does not ship" for name in package_extras
                if name not in packages]  # fmt: skip
    used: dict[str, set[str]] = {}  # distribution -> the areas that import it
    for area in [*packages, *(t for t in DEV_TREES if (root / t).is_dir())]:
        for path in sorted((root / area).rglob("*.py")):
            for found in imports(path):
                if found.module in sys.stdlib_module_names or found.module in first_party:
                    continue
                providers = {normalize(d) for d in distributions.get(found.module, ())}
                where = f"{path.relative_to(root)}:{found.line}"
                if not providers:
                    problems.append(f"{where}: imports {found.module}, which no installed distribution provides")
                    continue
                for provider in providers:
                    used.setdefault(provider, set()).add(area)
                if not providers & wanted.allowed(area, package_extras):
                    problems.append(
                        f"{where}: imports {found.module} (distribution {', '.join(sorted(providers))}), "
                        f"which pyproject.toml does not declare for {area}"
                    )
    shipped_areas = set(packages)
    unused = {
        "dependencies": (wanted.runtime, shipped_areas, RUNTIME_WITHOUT_IMPORT),
        **{
            f"optional-dependencies.{extra}": (
                names,
                {p for p, extras in package_extras.items() if extra in extras} | set(DEV_TREES),
                DEV_WITHOUT_IMPORT,
            )
            for extra, names in wanted.extras.items()
        },
    }
    for table, (names, areas, without_import) in unused.items():
        for name in sorted(names):
            importers = used.get(name, set()) & areas
            if name in without_import:
                if importers:
                    problems.append(f"{table}: {name} is imported by {sorted(importers)}; drop its entry here")
            elif not importers:
                problems.append(f"{table}: {name} is declared but nothing imports it (remove it, or say why it stays)")
    return problems
