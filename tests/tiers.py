"""The two test tiers (docs/testing.md), decided here for the whole suite.

- integration: over real sockets or other processes - the station simulator, moto's S3 server,
  PostgreSQL, the Dagster webserver and code server, Chromium, the CLI and the bench as subprocesses.
  A test is marked when it uses one of SOCKET_FIXTURES (directly or through another fixture), or by its
  module's `pytestmark` when it starts such a thing itself.
- fast: everything else - pure code, and assets called directly with in-memory fakes.
  `pytest -m "not integration"` (make test-fast) runs it alone.

A fast test that opens an internet socket fails, naming itself and the address: it uses a server that
is not in SOCKET_FIXTURES, so it would have slipped into the fast tier unmarked.
"""

from __future__ import annotations

import socket

import pytest

INTEGRATION = "integration"

# Fixtures that start or reach a server. Fixtures built on them (s3_store, minio_env, s3_resource, the
# modules' station/world fixtures) are covered through pytest's fixture closure.
SOCKET_FIXTURES = frozenset(
    {
        "s3_endpoint",  # moto's S3 server (conftest.py)
        "simulator_factory",  # the station simulator (conftest.py)
        "sim",  # test_simulator.py: a simulator of its own
        "small",  # test_simulator.py
        "pg_server",  # test_postgres.py: the machine's PostgreSQL
        "served",  # test_gallery_browser.py: the gallery under uvicorn
        "supervised",  # test_gallery_browser_supervisor.py: the gallery under uvicorn
        "browser",  # conftest.py: Chromium, one per session
        "webserver",  # test_lineage_graphql.py: dagster-webserver
    }
)


class UnmarkedSocket(AssertionError):
    """A test outside the integration tier opened an internet socket."""


def is_integration(fixturenames: list[str] | tuple[str, ...]) -> bool:
    return not SOCKET_FIXTURES.isdisjoint(fixturenames)


def mark_tiers(items: list[pytest.Item]) -> None:
    for item in items:
        if is_integration(getattr(item, "fixturenames", ())):
            item.add_marker(INTEGRATION)


def _guarded(original, test_id: str):
    def guarded(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise UnmarkedSocket(
                f"{test_id} opens a socket ({original.__name__} {address!r}) but is not in the integration tier: "
                "use a fixture of tests/tiers.py SOCKET_FIXTURES (add a new server's fixture there), or mark the "
                "module with pytestmark = pytest.mark.integration"
            )
        return original(self, address, *args)

    return guarded


@pytest.fixture(autouse=True)
def fast_tests_open_no_socket(request, monkeypatch):
    if request.node.get_closest_marker(INTEGRATION) is None:
        for name in ("connect", "connect_ex", "bind"):
            monkeypatch.setattr(socket.socket, name, _guarded(getattr(socket.socket, name), request.node.nodeid))
    yield
