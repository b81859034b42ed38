"""The station registry read from its file: PV_STATIONS_FILE, else conf/stations.yaml (the models and their
checks are pv_model.registry; the YAML reader, one for every config file, is pv_model.yaml_config).

A group's registry holds thousands of stations and every run process reads it: the parsed document is kept
in a small cache keyed by the file's sha256 (and the parser's version), so a process that finds it there
skips the parse, and each process parses each version of the file once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pv_model.registry import Registry, RegistryError, build_registry
from pv_model.yaml_config import YamlError, read_yaml
from resources.settings import settings, stations_file

_RYAML_VERSION = importlib.metadata.version("ryaml")  # another parser version may read a file differently
CACHE_VERSION = 2  # 2: read as YAML 1.2 (ryaml), no line numbers in the document


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the registry from `path`, else PV_STATIONS_FILE, else conf/stations.yaml.

    Parsed once per version of the file and process: sensors and every step look stations up often.
    """
    file = Path(path) if path else stations_file()
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise RegistryError(f"{file}: station registry not found (set PV_STATIONS_FILE or pass --stations)") from None
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry: {exc.strerror}") from None
    return _load_version(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_version(file: Path, _mtime_ns: int, _size: int) -> Registry:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry: {exc.strerror}") from None
    return build_registry(_cached_document(data, str(file)), data, file)


def _cached_document(data: bytes, source: str) -> Any:
    """The parsed document, from the parse cache when this exact file was parsed before."""
    digest = hashlib.sha256(data).hexdigest()
    cache_dir = settings().cache_dir.expanduser().absolute()
    cached = cache_dir / f"registry-v{CACHE_VERSION}-ryaml{_RYAML_VERSION}-{digest[:32]}.json"
    try:
        return json.loads(cached.read_text("utf-8"))
    except (OSError, ValueError):
        pass
    try:
        document = read_yaml(_text(data, source), source)
    except YamlError as exc:
        raise RegistryError(str(exc)) from None
    try:  # best effort: a read-only disk only costs the next process a parse
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".registry-", dir=cache_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(document, ensure_ascii=False))  # json.dumps has the C encoder, json.dump not
        os.replace(tmp, cached)
    except (OSError, TypeError, ValueError):
        pass
    return document


def _text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")  # Windows editors (Notepad) start the file with a BOM
    except UnicodeDecodeError:
        raise RegistryError(f"{source}: not UTF-8 text") from None
