"""The tiers hold (tests/tiers.py): no fast test reaches a server, and a fast test that opens an internet
socket fails naming itself."""

from __future__ import annotations

import ast
import re
import socket
from pathlib import Path

import pytest

from tests.tiers import INTEGRATION, SOCKET_FIXTURES, UnmarkedSocket, is_integration

TESTS = Path(__file__).resolve().parent


def test_no_test_left_in_the_fast_tier_uses_a_socket_fixture(request):
    items = request.session.items
    assert request.node in items
    unmarked = [
        item.nodeid
        for item in items
        if is_integration(getattr(item, "fixturenames", ())) and item.get_closest_marker(INTEGRATION) is None
    ]
    assert unmarked == []


def test_every_socket_fixture_named_is_a_fixture_of_the_suite():
    defined = set()
    for path in TESTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list):
                defined.add(node.name)
    assert SOCKET_FIXTURES <= defined, f"not fixtures any more: {sorted(SOCKET_FIXTURES - defined)}"


def test_a_fixture_built_on_a_socket_fixture_makes_its_tests_integration():
    assert is_integration(("tmp_path", "bucket", "s3_store", "s3_endpoint"))
    assert not is_integration(("tmp_path", "monkeypatch", "dagster_instance"))


def test_a_fast_test_that_opens_a_socket_fails_naming_itself(request):
    named = re.escape(f"{request.node.nodeid} opens a socket")
    with pytest.raises(UnmarkedSocket, match=named + re.escape(" (connect ('127.0.0.1', 9))")):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with socket.socket() as server, pytest.raises(UnmarkedSocket, match=named + re.escape(" (bind ('127.0.0.1', 0))")):
        server.bind(("127.0.0.1", 0))
    left, right = socket.socketpair()  # a local pipe is not a server
    left.close(), right.close()


@pytest.mark.integration
def test_an_integration_test_may_open_sockets():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        assert server.getsockname()[1] > 0


def test_a_hung_test_is_stopped_by_pytest_timeout(request):
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout is not installed (make install)"
    assert float(request.config.getini("timeout")) == 180
