"""Every knob of pv-media in one place: its environment variable, its default, what it does.

Read when used (`settings()`), never at import time, so a test or a process that sets a
variable sees it. Paths are relative to the working directory: run pv-media and `dagster dev`
from the project folder, or set the variables. Station credentials are not here: the
registry names the variables that hold them, read at run time for that station only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """pv-media's settings. The README's "Settings" table lists the same names and defaults."""

    # An empty variable counts as unset, as it always did.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_ignore_empty=True)

    # -- where things are ---------------------------------------------------------------------
    stations_file: Path = Field(Path("conf/stations.yaml"), validation_alias="PV_STATIONS_FILE")
    staging_dir: Path = Field(Path("conf/staging"), validation_alias="PV_STAGING_DIR")
    local_store: Path = Field(
        Path("var/object-store"),
        validation_alias="PV_LOCAL_STORE",
        description="the embedded object store, used when MINIO_ENDPOINT is unset",
    )
    dagster_home: Path = Field(Path(".dagster_home"), validation_alias="DAGSTER_HOME")
    instance_config: Path = Field(
        Path("conf/dagster.yaml"),
        validation_alias="PV_DAGSTER_YAML",
        description="copied into DAGSTER_HOME when it has no dagster.yaml",
    )
    cache_dir: Path = Field(
        Path("var/cache"),
        validation_alias="PV_CACHE_DIR",
        description="parsed registries, keyed by the file's sha256 (safe to delete)",
    )
    dialects_dir: Path | None = Field(
        None,
        validation_alias="PV_DIALECTS_DIR",
        description="the group's dialect files, looked at before the shipped ones (a name there wins)",
    )
    # Read by pv_model.dialect.hooks itself (the models import nothing of pv-media); declared here for the README.
    dialect_hook_modules: str | None = Field(
        None,
        validation_alias="PV_DIALECT_HOOK_MODULES",
        description="modules a dialect's `hook: module:function` may name (comma-separated); a hook is code",
    )

    # -- the object store (MinIO / S3); keys reach the resource as dagster.EnvVar ---------------
    minio_endpoint: str | None = Field(None, validation_alias="MINIO_ENDPOINT")
    minio_bucket: str = Field("pv-media", validation_alias="MINIO_BUCKET")
    minio_secure: bool = Field(False, validation_alias="MINIO_SECURE")
    # The Dagster resources take the keys as dagster.EnvVar; processes outside Dagster (the gallery) read them here.
    minio_access_key: SecretStr | None = Field(None, validation_alias="MINIO_ACCESS_KEY")
    minio_secret_key: SecretStr | None = Field(None, validation_alias="MINIO_SECRET_KEY")

    # -- the collection ---------------------------------------------------------------------------
    workers_per_connection: int = Field(
        2,
        ge=1,
        le=16,
        validation_alias="PV_WORKERS_PER_CONNECTION",
        description="collector workers per station connection: some upload while others download",
    )
    id_pseudonym_key: SecretStr | None = Field(
        None,
        validation_alias="PV_ID_PSEUDONYM_KEY",
        description="when set, object keys carry an HMAC of the ID number instead of the number",
    )

    # -- bounds on what a station sends (issue 9) ----------------------------------------------------
    api_reply_max_mib: int = Field(
        64,
        ge=1,
        validation_alias="PV_API_REPLY_MAX_MIB",
        description="cap on one API reply, counted on the decoded bytes (a small gzip page can expand to GBs)",
    )
    records_max_mib: int = Field(
        512,
        ge=1,
        validation_alias="PV_RECORDS_MAX_MIB",
        description="cap on the records one station run fetches, counted on their JSON text: a station that pages "
        "forever with big fields is stopped here before the page limit (the run fails naming the station)",
    )
    call_deadline_s: float = Field(
        120.0, gt=0, validation_alias="PV_CALL_DEADLINE_S", description="total time one API call may take"
    )
    media_deadline_s: float = Field(
        3600.0, gt=0, validation_alias="PV_MEDIA_DEADLINE_S", description="total time one media download may take"
    )
    preview_max_pixels: int = Field(
        64_000_000,
        ge=1_000_000,
        validation_alias="PV_PREVIEW_MAX_PIXELS",
        description="pixels one picture may decode to when previews are made (checked on the header, before "
        "decoding); also the budget of pixels all preview workers decode at once",
    )

    # -- evidence: what makes a photo suspicious (issue 27, docs/evidence.md) ----------------------------
    evidence_duplicate_bits: int = Field(
        8,
        ge=0,
        le=16,
        validation_alias="PV_EVIDENCE_DUPLICATE_BITS",
        description="pHash bits (of 64) at or below which two photos are the same picture (a reuse when they "
        "belong to different installations)",
    )
    evidence_dhash_bits: int = Field(
        10,
        ge=0,
        le=32,
        validation_alias="PV_EVIDENCE_DHASH_BITS",
        description="dHash bits (of 64) at or below which a pHash match is confirmed as the same picture",
    )
    evidence_gps_far_m: float = Field(
        1000.0,
        gt=0,
        validation_alias="PV_EVIDENCE_GPS_FAR_M",
        description="metres between a photo's GPS and its installation's coordinates beyond which it is suspicious",
    )
    evidence_early_days: int = Field(
        30,
        ge=0,
        validation_alias="PV_EVIDENCE_EARLY_DAYS",
        description="days a photo may be taken before the install date (no install date: the pickup date)",
    )
    evidence_late_days: int = Field(
        365,
        ge=0,
        validation_alias="PV_EVIDENCE_LATE_DAYS",
        description="days a photo may be taken after the install date (no install date: the pickup date)",
    )
    # -- operating in Dagster -----------------------------------------------------------------------
    change_sensor_max_per_tick: int = Field(1000, ge=1, validation_alias="PV_CHANGE_SENSOR_MAX_PER_TICK")
    change_sensor_workers: int = Field(
        16, ge=1, validation_alias="PV_CHANGE_SENSOR_WORKERS", description="stations the change sensor probes at once"
    )
    registry_first_runs_per_tick: int = Field(
        500,
        ge=1,
        validation_alias="PV_REGISTRY_FIRST_RUNS_PER_TICK",
        description="first runs the registry sensor requests per tick; the rest follow on later ticks",
    )
    daily_priority: int = Field(
        -1,
        ge=-1000,
        validation_alias="PV_DAILY_PRIORITY",
        description="dagster/priority of the daily pass's runs: sensor runs (0) are launched first",
    )
    daily_batch_size: int = Field(
        50,
        ge=1,
        validation_alias="PV_DAILY_BATCH_SIZE",
        description="stations each run of the daily pass collects, one collect_station run each, in one run worker",
    )
    daily_skip_unchanged: bool = Field(
        True,
        validation_alias="PV_DAILY_SKIP_UNCHANGED",
        description="the daily pass fetches each station's records and leaves out the run of a station whose run "
        "could change nothing (docs/daily-pass.md); 0 runs every station",
    )
    daily_stations_per_minute: float = Field(
        60.0,  # make scale: 76 stations a minute with nothing new, one batch at a time on 2 cores
        gt=0,
        validation_alias="PV_DAILY_STATIONS_PER_MINUTE",
        description="stations the daily pass collects a minute (measured by make scale): how long a pass takes",
    )
    change_sensor_budget_s: float = Field(40.0, gt=0, validation_alias="PV_CHANGE_SENSOR_BUDGET_S")
    refresh_cron: str = Field("0 2 * * *", validation_alias="PV_REFRESH_CRON")
    refresh_timezone: str = Field("Asia/Shanghai", validation_alias="PV_REFRESH_TIMEZONE")

    # -- the deployment: embedded (SQLite, in-process collect) or production (PostgreSQL, the daemon) -------
    deployment: str = Field(
        "embedded",
        validation_alias="PV_DEPLOYMENT",
        description="embedded, or production (refuses the local store; collect queues runs)",
    )
    workspace: Path = Field(
        Path("workspace.yaml"),
        validation_alias="PV_WORKSPACE",
        description="the workspace collect submits runs through (production: deploy/workspace-grpc.yaml)",
    )

    # -- the gallery (pv-media gallery) ---------------------------------------------------------------
    gallery_password: SecretStr | None = Field(
        None, validation_alias="PV_GALLERY_PASSWORD", description="the gallery's login password or token"
    )
    gallery_trusted_user_header: str | None = Field(
        None,
        validation_alias="PV_GALLERY_TRUSTED_USER_HEADER",
        description="instead of a password: the header a trusted reverse proxy sets to the signed-in user",
    )
    gallery_session_secret: SecretStr | None = Field(
        None,
        validation_alias="PV_GALLERY_SESSION_SECRET",
        description="signs the known-browser cookie and keys the opaque installation links; unset: one per process",
    )
    gallery_secure_cookie: bool = Field(
        False, validation_alias="PV_GALLERY_SECURE_COOKIE", description="session cookie only over https"
    )
    gallery_public_url: str | None = Field(
        None,
        validation_alias="PV_GALLERY_PUBLIC_URL",
        description="the gallery's address as people reach it: Dagster materializations link to it, and its host "
        "is the Host name the gallery answers to (besides loopback names)",
    )
    gallery_trusted_proxies: str | None = Field(
        None,
        validation_alias="PV_GALLERY_TRUSTED_PROXIES",
        description="addresses or networks of the reverse proxies whose X-Forwarded-For the gallery believes; "
        "unset: none (the connecting address is the client)",
    )
    gallery_time_zone: str = Field(
        "Asia/Shanghai",
        validation_alias="PV_GALLERY_TIME_ZONE",
        description="the group's time zone (IANA name): every time on the gallery's pages is shown in it",
    )
    dagster_ui_url: str | None = Field(
        None,
        validation_alias="PV_DAGSTER_UI_URL",
        description="the Dagster UI's address as engineers reach it (e.g. https://dagster.example.cn): the gallery "
        "links a failed station's run to it; unset: the run id is shown as text",
    )
    gallery_stale_after_h: float = Field(
        72.0,
        gt=0,
        validation_alias="PV_GALLERY_STALE_AFTER_H",
        description="a station whose last successful collection is older than this many hours is flagged stale",
    )
    gallery_map_tiles: str | None = Field(
        None,
        validation_alias="PV_GALLERY_MAP_TILES",
        description="the dashboard map's approved tile service, an http(s) URL template with {z}, {x} and {y} "
        "(e.g. an internal server or Tianditu); empty: points on a plain coordinate canvas, no base map",
    )
    gallery_map_attribution: str | None = Field(
        None,
        validation_alias="PV_GALLERY_MAP_ATTRIBUTION",
        description="the tile service's attribution, shown on the map",
    )


_last: tuple[int, Settings] | None = None
_last_guard = threading.Lock()


def settings() -> Settings:
    """The settings as the environment says now: parsed again whenever the environment changed, else the
    last parse (a run worker collecting a batch of stations asks a few hundred times; each parse took ~2 ms)."""
    global _last
    key = hash(frozenset(os.environ.items()))
    with _last_guard:
        if _last is None or _last[0] != key:
            _last = (key, Settings())
        return _last[1]


def env_name(field_name: str) -> str:
    """The environment variable of a setting, for messages and the README."""
    return str(Settings.model_fields[field_name].validation_alias)


def stations_file() -> Path:
    return settings().stations_file.expanduser().absolute()


def staging_root() -> Path:
    return settings().staging_dir.expanduser().absolute()


def local_store_root() -> Path:
    """The embedded object store used when MINIO_ENDPOINT is unset."""
    return settings().local_store.expanduser().absolute()


def dagster_home() -> Path:
    return settings().dagster_home.expanduser().absolute()


def instance_config_file() -> Path:
    return settings().instance_config.expanduser().absolute()
