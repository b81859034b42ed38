"""After a full run, no secret and no raw ID number is anywhere a person or a file can see it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pv_assets.cli.main import main
from pv_simulator import SimStationSpec
from resources.object_store import MinioObjectStore
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, write_registry


def everything_written(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def store_contents(store: MinioObjectStore) -> tuple[bytes, bytes]:
    """(media and metadata, audit manifests) of the bucket."""
    media, audit = [], []
    for obj in store.list_prefix(""):
        target = audit if obj.key.startswith("_pv-media/") else media
        target.append(obj.key.encode() + store.get_bytes(obj.key) + repr(store.stat(obj.key).metadata).encode())
    return b"\n".join(media), b"\n".join(audit)


@pytest.fixture
def full_run(simulator_factory, tmp_path, monkeypatch, minio_env, s3_store, staging_dir, caplog, capsys):
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=20, seed=41), SimStationSpec("ST-0002", records=6, seed=42)]
    )
    sim.station("ST-0001").token_max_uses = 3  # many tokens, many re-logins: many chances to leak one
    # Stations whose error messages echo the request: its Authorization header, the login's password.
    sim.station("ST-0001").script("media", ["echo", "echo"])
    sim.station("ST-0002").script("login", ["echo"])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch, wrong_password_for=["ST-0002"])
    caplog.set_level(logging.DEBUG)
    assert main(["collect", "--all", "-v", "--stations", str(registry)]) == 1  # ST-0002 fails to log in
    printed = capsys.readouterr()
    # Everything our process logged; moto's S3 server runs in this process too, but its request log
    # is the server's, not pv-media's.
    ours = [r for r in caplog.records if not r.name.startswith(("werkzeug", "moto"))]
    logged = "\n".join(f"{r.name}: {r.getMessage()}" for r in ours)
    seen_by_people = "\n".join([printed.out, printed.err, logged]).encode()
    return sim, home, seen_by_people, s3_store


def test_no_password_token_or_store_key_anywhere(full_run):
    sim, home, seen_by_people, store = full_run
    media, audit = store_contents(store)
    written = everything_written(home)
    secrets = {S3_ACCESS_KEY, S3_SECRET_KEY, "wrong-" + sim.station("ST-0002").spec.password}
    for station_id in ("ST-0001", "ST-0002"):
        secrets.add(sim.station(station_id).spec.password)
        secrets.update(sim.station(station_id).issued_tokens)
    assert len(sim.station("ST-0001").issued_tokens) > 5
    assert len(written) > 100_000 and len(audit) > 1000  # the places searched are not empty
    for secret in secrets:
        needle = secret.encode()
        assert needle not in written, "Dagster storage (event log, compute logs, runs)"
        assert needle not in seen_by_people, "console and log output"
        assert needle not in audit, "Parquet manifests and session records"
        assert needle not in media, "objects and their metadata"


def test_raw_id_numbers_never_appear_where_a_person_looks(full_run):
    sim, home, seen_by_people, _store = full_run
    written = everything_written(home)
    raw_ids = {r["idCardNo"].strip() for r in sim.records("ST-0001")}
    variants = {i for raw in raw_ids for i in (raw, raw.upper(), raw.lower())}
    assert b"********" in written and b"********" in seen_by_people  # masked numbers are shown
    leaked = [i for i in variants if i.encode() in written or i.encode() in seen_by_people]
    assert leaked == []


def test_pseudonymized_keys_hold_no_id_number(
    simulator_factory, tmp_path, monkeypatch, minio_env, s3_store, staging_dir
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PV_ID_PSEUDONYM_KEY", "group-privacy-key")
    sim = simulator_factory([SimStationSpec("ST-0001", records=10, seed=43)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    assert main(["collect", "--all", "--stations", str(registry)]) == 0
    keys = [o.key for o in s3_store.list_prefix("RC-")]
    raw_ids = {r["idCardNo"].strip().upper() for r in sim.records("ST-0001")}
    assert keys and not [k for k in keys if any(i in k.upper() for i in raw_ids)]
    assert all(len(k.rsplit("/", 1)[1].split("_")[0]) == 24 for k in keys)


def test_http_library_debug_logs_never_show_an_id_number_or_a_credential_parameter(caplog):
    """An API-key dialect (SolarEdge-like) sends its key in the query; urllib3 logs queries at DEBUG."""
    import logging

    from resources import log_masking

    log_masking.install()
    logger = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logger.debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "http",
            "st.example",
            80,
            "GET",
            "/site/1/records?api_key=K3y-9f8e7d&offset=0&sign=abcdef123&file=11010519491231002X.jpg",
            "HTTP/1.1",
            200,
            10,
        )
    logged = caplog.text
    assert "K3y-9f8e7d" not in logged and "abcdef123" not in logged and "11010519491231002X" not in logged
    assert "api_key=[redacted]" in logged and "offset=0" in logged and "110105********002X" in logged
