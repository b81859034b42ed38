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
    named = re.findall(r"^((?:pv_assets|resources|pv_simulator|pv_gallery|bench)[\w/.]*)", layout, re.M)
    assert len(named) >= 15
    for path in named:
        assert (ROOT / path).exists(), f"README layout names {path}, which does not exist"
