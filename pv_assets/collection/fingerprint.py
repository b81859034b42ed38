"""The refresh fingerprint: what a station run's outputs depend on, besides the store. The records asset
records it; the daily pass's look before a run (unchanged.py) compares it. Its own module so the asset does
not import the look (which imports the jobs, which import the asset)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
from pathlib import Path

import pandas as pd
from pydantic import SecretStr

from pv_assets.io_manager import frame_to_parquet
from pv_model.dialect import load_interface
from pv_model.registry import Station
from resources.settings import settings

REFRESH_FINGERPRINT = "refresh_fingerprint"
# The repository root: pv_assets/collection/fingerprint.py -> three levels up.
_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def code_fingerprint() -> str:
    """sha256 of pv-media's Python files: a new release looks changed, so every station runs once. Taken when
    this module is imported (below), so files replaced under a running process do not pass for its code."""
    digest = hashlib.sha256()
    for path in sorted([*_ROOT.glob("pv_assets/**/*.py"), *_ROOT.glob("resources/**/*.py")]):
        digest.update(str(path.relative_to(_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_fingerprint() -> str:
    """The settings, secrets included as keyed hashes: a rotated PV_ID_PSEUDONYM_KEY changes object keys,
    and model_dump_json() prints every secret as '**********'."""
    knobs = settings()
    values = {}
    for name in type(knobs).model_fields:
        value = getattr(knobs, name)
        if isinstance(value, SecretStr):
            value = hmac.new(b"pv-media refresh fingerprint", value.get_secret_value().encode(), "sha256").hexdigest()
        values[name] = str(value)
    return json.dumps(values, sort_keys=True)


def refresh_fingerprint(records: pd.DataFrame, station: Station) -> str:
    """sha256 of everything a station run's outputs depend on, besides the store (looked at separately).
    The settings are in it whole (the pseudonym key changes object keys): one-way, so no secret shows."""
    digest = hashlib.sha256(code_fingerprint().encode())
    entry = {f.name: getattr(station, f.name) for f in dataclasses.fields(station) if f.compare}
    digest.update(repr(sorted(entry.items())).encode())
    digest.update(Path(load_interface(station.dialect).source).read_bytes())
    digest.update(settings_fingerprint().encode())
    digest.update(frame_to_parquet(records))
    return digest.hexdigest()


# Taken at import (see code_fingerprint): the code a process runs is the code it loaded.
code_fingerprint()
