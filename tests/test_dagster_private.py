"""Each Dagster API that Dagster does not document, as resources/dagster_private.py uses it: this fails,
naming the symbol, when a Dagster upgrade removes it, changes the parameters pv-media passes, or changes
what pv-media relies on. Then the adapter (and only it) must be looked at again."""

from __future__ import annotations

import inspect
import re

import pytest
from dagster import DagsterEventType, DagsterInstance, instance_for_test

from resources import dagster_private
from resources.dagster_private import PRIVATE_SYMBOLS, PrivateSymbol, keeps_runs_on_this_host


def private_api_problem(symbol: PrivateSymbol) -> str | None:
    """What changed about the symbol, naming it; None while it is as the adapter uses it."""
    try:
        found = symbol.resolve()
    except (ImportError, AttributeError) as exc:
        return f"Dagster private API {symbol.path} is gone ({exc}); pv-media uses it for {symbol.used_for}"
    if symbol.parameters is None:
        return None
    parameters = [name for name in inspect.signature(found).parameters if name != "self"]
    if parameters[: len(symbol.parameters)] != list(symbol.parameters):
        return (
            f"Dagster private API {symbol.path} now takes {parameters}; pv-media passes {list(symbol.parameters)} "
            f"for {symbol.used_for}"
        )
    return None


@pytest.mark.parametrize("symbol", PRIVATE_SYMBOLS, ids=[s.path for s in PRIVATE_SYMBOLS])
def test_each_private_symbol_exists_and_takes_the_parameters_passed(symbol):
    problem = private_api_problem(symbol)
    assert problem is None, problem


def test_a_removed_or_changed_symbol_is_named():
    gone = PrivateSymbol("dagster._cli.job:_create_run_v2", "queueing runs")
    assert private_api_problem(gone).startswith(
        "Dagster private API dagster._cli.job:_create_run_v2 is gone (module 'dagster._cli.job' has no attribute"
    )
    moved = PrivateSymbol("dagster._cli.jobs:_create_run", "queueing runs")
    assert "dagster._cli.jobs:_create_run is gone (No module named 'dagster._cli.jobs')" in private_api_problem(moved)
    changed = PrivateSymbol("dagster._cli.job:_create_run", "queueing runs", ("instance", "location"))
    assert private_api_problem(changed) == (
        "Dagster private API dagster._cli.job:_create_run now takes ['instance', 'code_location', 'remote_repo', "
        "'remote_job', 'run_config', 'tags', 'op_selection', 'run_id']; pv-media passes ['instance', 'location'] "
        "for queueing runs"
    )


def test_the_adapter_is_the_only_module_that_names_a_private_dagster_module():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    adapter = Path(dagster_private.__file__).resolve()
    offenders = []
    for path in sorted(root.glob("*/**/*.py")):
        if ".venv" in path.parts or path.resolve() == adapter or path.resolve() == Path(__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}:{node.lineno}: {n}" for n in names if n.startswith("dagster._")]
    assert offenders == []


def test_every_symbol_the_adapter_imports_from_a_private_module_is_listed():
    import ast

    imported = {
        f"{node.module}:{alias.name}"
        for node in ast.walk(ast.parse(inspect.getsource(dagster_private)))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("dagster._", "dagster_shared"))
        for alias in node.names
    }
    assert len(imported) == 15  # a change here means a symbol came or went: update PRIVATE_SYMBOLS too
    assert imported <= {s.path for s in PRIVATE_SYMBOLS}


def test_the_event_write_without_notify_follows_dagster_postgres_step_for_step():
    """store_event_without_notify copies dagster-postgres's store_event minus its NOTIFY: when an upgrade
    changes the original's steps, this fails, and the copy must be looked at again."""
    from dagster_postgres import PostgresEventLogStorage

    def calls(function) -> list[str]:
        return re.findall(r"(?:self|storage)\.(\w+)\(", inspect.getsource(function))

    original = PostgresEventLogStorage.store_event
    assert calls(original) == calls(dagster_private.store_event_without_notify), (
        "dagster_postgres PostgresEventLogStorage.store_event changed its steps"
    )
    assert "NOTIFY" in inspect.getsource(original), "PostgresEventLogStorage.store_event no longer sends NOTIFY"


def test_the_asset_event_sets_hold_the_events_indexed():
    from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
    from dagster._core.storage.event_log import SqlEventLogStorageTable

    assert {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION} <= set(ASSET_EVENTS)
    assert DagsterEventType.ASSET_CHECK_EVALUATION in set(ASSET_CHECK_EVENTS)
    assert "id" in SqlEventLogStorageTable.c


def test_local_run_storages_are_told_from_shared_ones(tmp_path):
    with instance_for_test() as sqlite:
        assert keeps_runs_on_this_host(sqlite)
    assert keeps_runs_on_this_host(DagsterInstance.ephemeral())

    class Shared:
        run_storage = object()  # e.g. PostgresRunStorage

    assert not keeps_runs_on_this_host(Shared())


def test_the_instance_file_reads_as_dagster_validates_it(tmp_path):
    (tmp_path / "dagster.yaml").write_text("run_queue:\n  max_concurrent_runs: 3\n")
    assert dagster_private.instance_file_config(tmp_path)["run_queue"]["max_concurrent_runs"] == 3
    (tmp_path / "dagster.yaml").write_text("run_queue:\n  max_concurent_runs: 3\n")
    with pytest.raises(Exception, match="max_concurent_runs"):
        dagster_private.instance_file_config(tmp_path)
