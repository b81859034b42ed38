"""The fault matrix in docs/ names tests that exist, so the table stays true."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMED = sorted(set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", (ROOT / "docs" / "fault-matrix.md").read_text("utf-8"))))


def test_the_matrix_names_tests():
    assert len(NAMED) >= 30


@pytest.mark.parametrize(("path", "name"), NAMED)
def test_every_named_test_exists(path, name):
    assert re.search(rf"^def {name}\(", (ROOT / path).read_text("utf-8"), re.M), f"{path}::{name}"


def test_the_readme_lists_every_setting_with_its_default():
    from resources.settings import Settings, env_name

    readme = (ROOT / "README.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+?) \|", readme, re.M))
    for name, field in Settings.model_fields.items():
        variable = env_name(name)
        assert variable in rows, f"README's settings table has no {variable}"
        default = field.get_default(call_default_factory=True)
        shown = "(none)" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        if isinstance(default, float) and default.is_integer():
            shown = f"`{int(default)}`"
        assert rows[variable] == shown, f"{variable}: README says {rows[variable]}, the code {shown}"


def test_the_readme_layout_names_paths_that_exist():
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    named = re.findall(r"^((?:pv_model|pv_assets|resources|pv_simulator|pv_gallery|bench)[\w/.]*)", layout, re.M)
    assert len(named) >= 15
    for path in named:
        assert (ROOT / path).exists(), f"README layout names {path}, which does not exist"


DOC_REFERENCE = re.compile(r"(?<![\w/])docs/[\w/.-]+?\.md\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def referenced_docs() -> dict[str, set[str]]:
    """doc path -> the files that name it: `docs/x.md` anywhere in the code, the configuration and the docs,
    and relative Markdown links inside README.md and docs/."""
    found: dict[str, set[str]] = {}
    sources = [*ROOT.glob("*.md"), *ROOT.glob("*.toml"), ROOT / "Makefile"]
    for folder in ("pv_assets", "pv_gallery", "pv_simulator", "pv_demo", "resources", "bench", "tests", "conf", "docs",
                   "deploy"):  # fmt: skip
        sources += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md", ".yaml", ".toml", ".html")]
    for path in sources:
        if not path.is_file() or path == Path(__file__).resolve():  # its own examples are not references
            continue
        text = path.read_text("utf-8", errors="replace")
        named = set(DOC_REFERENCE.findall(text))
        if path.suffix == ".md":
            named |= {
                (path.parent / link).resolve().relative_to(ROOT).as_posix()
                for link in MARKDOWN_LINK.findall(text)
                if "://" not in link
            }
        for doc in named:
            found.setdefault(doc, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_document_the_code_and_the_docs_refer_to_exists():
    references = referenced_docs()
    assert {"docs/station-api.md", "docs/gallery-contract.md", "docs/operations.md"} <= set(references)
    missing = {doc: sorted(where) for doc, where in references.items() if not (ROOT / doc).is_file()}
    assert missing == {}, "documents referred to but missing (doc: where)"


def test_the_reference_finder_sees_both_forms(tmp_path):
    assert DOC_REFERENCE.findall("see docs/x-y.md and shared/docs/z.md") == ["docs/x-y.md"]
    assert MARKDOWN_LINK.findall("[a](a.md#part) [b](https://e.org/b.md) [c](../c.md)") == [
        "a.md",
        "https://e.org/b.md",
        "../c.md",
    ]


def test_the_readme_reads_in_five_minutes():
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: operations and figures belong in docs/"
