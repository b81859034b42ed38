"""Every Dagster API pv-media uses that Dagster does not document, and nothing else.

No other module imports `dagster._*` or calls an underscore method of a Dagster object; the methods
patched on the PostgreSQL storages (instance_pool.py) are named here too. Each is for a job Dagster has no
public API for, at the cost it has now:
- queueing runs through a code location from Python, as `dagster job launch` does (the GraphQL client
  would need a webserver beside the daemon and a round trip per run);
- telling whether an instance keeps its runs on this host (SQLite, in memory);
- writing a run's events on PostgreSQL without the NOTIFY that nothing listens to, and answering the
  storages' schema lookups once per process (docs/daily-pass.md: 7 % of a station run's CPU);
- reading the instance file as Dagster validates it, and reconstructing a job from the code location as a
  run worker does (tests); asking a code server whether its definitions loaded (bench).

PRIVATE_SYMBOLS lists them with the parameters passed here; tests/test_dagster_private.py fails naming
the symbol when an upgrade removes one, changes those parameters or changes what is relied on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PrivateSymbol:
    path: str  # "module:attribute[.attribute]"
    used_for: str
    parameters: tuple[str, ...] | None = None  # the leading parameters pv-media passes (self left out)

    def resolve(self) -> Any:
        module_name, _, attributes = self.path.partition(":")
        found: Any = importlib.import_module(module_name)
        for name in attributes.split("."):
            found = getattr(found, name)
        return found


_CLI_TARGET = "dagster._cli.workspace.cli_target"
_PG_EVENTS = "dagster_postgres:PostgresEventLogStorage"
_PG_RUNS = "dagster_postgres:PostgresRunStorage"
_QUEUE = "queueing runs through a code location"
_POOL = "the run's pooled PostgreSQL connections (pv_assets/operations/instance_pool.py)"
_RECONSTRUCT = "dagster._core.definitions.reconstruct"
_WORKER = "a job reconstructed as a run worker does (tests)"

PRIVATE_SYMBOLS = (
    PrivateSymbol(
        "dagster._cli.job:_create_run",
        _QUEUE,
        ("instance", "code_location", "remote_repo", "remote_job", "run_config", "tags", "op_selection", "run_id"),
    ),
    PrivateSymbol(f"{_CLI_TARGET}:get_workspace_from_cli_opts", _QUEUE, ("instance", "version", "workspace_opts")),
    PrivateSymbol(f"{_CLI_TARGET}:get_code_location_from_workspace", _QUEUE, ("workspace", "code_location_name")),
    PrivateSymbol(
        f"{_CLI_TARGET}:get_remote_repository_from_code_location", _QUEUE, ("code_location", "provided_repo_name")
    ),
    PrivateSymbol(f"{_CLI_TARGET}:get_remote_job_from_remote_repo", _QUEUE, ("remote_repo", "provided_name")),
    PrivateSymbol("dagster_shared.cli:WorkspaceOpts", _QUEUE, ()),
    PrivateSymbol("dagster:DagsterInstance.submit_run", _QUEUE, ("run_id", "workspace")),
    PrivateSymbol("dagster._core.storage.runs:SqliteRunStorage", "runs kept on this host"),
    PrivateSymbol("dagster._core.storage.runs:InMemoryRunStorage", "runs kept on this host"),
    PrivateSymbol("dagster._core.events:ASSET_EVENTS", _POOL),
    PrivateSymbol("dagster._core.events:ASSET_CHECK_EVENTS", _POOL),
    PrivateSymbol("dagster._core.storage.event_log:SqlEventLogStorageTable", _POOL),
    PrivateSymbol(f"{_PG_EVENTS}.store_event", _POOL, ("event",)),
    PrivateSymbol(f"{_PG_EVENTS}.prepare_insert_event", _POOL, ("event",)),
    PrivateSymbol(f"{_PG_EVENTS}._connect", _POOL, ()),
    PrivateSymbol(f"{_PG_EVENTS}.index_transaction", _POOL, ()),
    PrivateSymbol(f"{_PG_EVENTS}._store_asset_event_tags", _POOL, ("conn", "events", "event_ids")),
    PrivateSymbol(f"{_PG_EVENTS}._store_asset_event", _POOL, ("conn", "event", "event_id")),
    PrivateSymbol(f"{_PG_EVENTS}.store_asset_check_event", _POOL, ("event", "event_id")),
    PrivateSymbol(f"{_PG_EVENTS}.has_table", _POOL, ("table_name",)),
    PrivateSymbol(f"{_PG_EVENTS}._has_asset_key_col_on_connection", _POOL, ("conn", "column_name")),
    PrivateSymbol(f"{_PG_EVENTS}.has_dynamic_partition", _POOL, ("partitions_def_name", "partition_key")),
    PrivateSymbol(f"{_PG_RUNS}.has_run_stats_index_cols", _POOL, ()),
    PrivateSymbol(f"{_PG_RUNS}.has_backfill_id_column", _POOL, ()),
    PrivateSymbol(
        "dagster:DagsterInstance.optimize_for_webserver", _POOL, ("statement_timeout", "pool_recycle", "max_overflow")
    ),
    PrivateSymbol(
        "dagster._core.instance.config:dagster_instance_config", "the instance file as Dagster reads it", ("base_dir",)
    ),
    PrivateSymbol(f"{_RECONSTRUCT}:ReconstructableRepository", _WORKER),
    PrivateSymbol(f"{_RECONSTRUCT}:ReconstructableJob", _WORKER),
    PrivateSymbol(
        f"{_RECONSTRUCT}:ReconstructableRepository.for_module", _WORKER, ("module", "fn_name", "working_directory")
    ),
    PrivateSymbol(f"{_RECONSTRUCT}:ReconstructableRepository.get_reconstructable_job", _WORKER, ("name",)),
    PrivateSymbol(f"{_RECONSTRUCT}:ReconstructableJob.get_definition.cache_clear", _WORKER),
    PrivateSymbol(f"{_RECONSTRUCT}:ReconstructableJob.get_repository_definition.cache_clear", _WORKER),
    PrivateSymbol("dagster._grpc.client:DagsterGrpcClient", "a code server's readiness (bench)", ("port",)),
    PrivateSymbol("dagster._grpc.client:DagsterGrpcClient.ping", "a code server's readiness (bench)", ("echo",)),
    PrivateSymbol("dagster._grpc.client:DagsterGrpcClient.list_repositories", "a code server's readiness (bench)", ()),
)


def keeps_runs_on_this_host(instance: Any) -> bool:
    """True when the instance keeps its runs in SQLite or in memory, not in a database server."""
    from dagster._core.storage.runs import InMemoryRunStorage, SqliteRunStorage

    return isinstance(instance.run_storage, (SqliteRunStorage, InMemoryRunStorage))


class CodeLocationNotLoaded(RuntimeError):
    """The workspace's code location reported an error instead of its definitions."""


@contextmanager
def run_submitter(instance: Any, workspace: Path, job_name: str) -> Iterator[Callable[[Mapping, Mapping], str]]:
    """`submit(run_config, tags) -> run id` for the job of the workspace's code location.

    Each run is created from the code location's own snapshot (as `dagster job launch` does) and handed to
    the instance's run coordinator, so the daemon launches it through that code location - in production
    the standalone code server.
    """
    from dagster import __version__ as dagster_version
    from dagster._cli.job import _create_run
    from dagster._cli.workspace.cli_target import (
        get_code_location_from_workspace,
        get_remote_job_from_remote_repo,
        get_remote_repository_from_code_location,
        get_workspace_from_cli_opts,
    )
    from dagster_shared.cli import WorkspaceOpts

    opts = WorkspaceOpts(workspace=[str(workspace)])
    with get_workspace_from_cli_opts(instance, dagster_version, opts) as context:
        errors = context.code_location_errors()
        if errors:
            raise CodeLocationNotLoaded(errors[0].message.strip().splitlines()[-1])
        location = get_code_location_from_workspace(context, None)
        repository = get_remote_repository_from_code_location(location, None)
        remote_job = get_remote_job_from_remote_repo(repository, job_name)

        def submit(run_config: Mapping, tags: Mapping) -> str:
            run = _create_run(
                instance=instance,
                code_location=location,
                remote_repo=repository,
                remote_job=remote_job,
                run_config=run_config,
                tags=tags,
                op_selection=None,
                run_id=None,
            )
            instance.submit_run(run.run_id, context)
            return run.run_id

        yield submit


def replace_asset_key_column_lookup(storage: Any, wrap: Callable[[Callable], Callable]) -> None:
    """Wrap the event log's per-materialization column lookup (`_has_asset_key_col_on_connection`)."""
    storage._has_asset_key_col_on_connection = wrap(storage._has_asset_key_col_on_connection)  # noqa: SLF001


def store_event_without_notify(storage: Any, event: Any) -> None:
    """dagster-postgres's `PostgresEventLogStorage.store_event`, step for step, without its NOTIFY
    (tests/test_dagster_private.py fails if an upgrade changes the original's steps)."""
    from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
    from dagster._core.storage.event_log import SqlEventLogStorageTable

    insert = storage.prepare_insert_event(event)
    with storage._connect() as conn:  # noqa: SLF001
        event_id = int(conn.execute(insert.returning(SqlEventLogStorageTable.c.id)).scalar_one())
    if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS and event.dagster_event.asset_key:
        with storage.index_transaction() as conn:
            storage._store_asset_event_tags(conn, [event], [event_id])  # noqa: SLF001
            storage._store_asset_event(conn, event, event_id)  # noqa: SLF001
    if event.is_dagster_event and event.dagster_event_type in ASSET_CHECK_EVENTS:
        storage.store_asset_check_event(event, event_id)


def instance_file_config(directory: Path) -> Mapping[str, Any]:
    """The directory's dagster.yaml as Dagster reads and validates it (environment variables resolved)."""
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(directory))
    return config


def reconstructable_job(module: str, attribute: str, job_name: str, working_directory: Path) -> Any:
    """The job as a run worker reconstructs it from the code location (`module.attribute`), loaded afresh:
    Dagster keeps the definitions it reconstructed in a process, with the settings they were loaded with."""
    from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

    ReconstructableJob.get_repository_definition.cache_clear()
    ReconstructableJob.get_definition.cache_clear()
    repository = ReconstructableRepository.for_module(module, attribute, str(working_directory))
    return repository.get_reconstructable_job(job_name)


def code_server_loaded(host: str, port: int) -> bool:
    """Whether the code server at host:port answers and has loaded its definitions; raises while it does not
    listen yet."""
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=port, host=host)
    client.ping("up")
    return client.list_repositories() is not None
