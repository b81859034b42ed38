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
