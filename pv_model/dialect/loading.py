"""Dialect files read, validated and explained: an error names the file, the line and the key."""

from __future__ import annotations

import difflib
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pv_model.dialect.model import StationInterface
from pv_model.yaml_config import YamlError, key_lines, read_yaml

# Where dialect files are found, in this order: $PV_DIALECTS_DIR (the group's own), then the shipped ones. The
# working directory is never searched: a conf/dialects/ there would silently shadow a shipped dialect.
DIALECTS_DIR_ENV = "PV_DIALECTS_DIR"
PROJECT_DIALECTS = Path(__file__).resolve().parents[2] / "conf" / "dialects"
# A dialect is named, never given as a path: `dialect: ../x` or an absolute path would load any YAML file.
_DIALECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class InterfaceError(ValueError):
    """A dialect file that cannot be used; the message names the file, the line and the key."""


def dialect_dirs() -> list[Path]:
    # Read at call time, never at import.
    configured = os.environ.get(DIALECTS_DIR_ENV)
    return [*([Path(configured)] if configured else []), PROJECT_DIALECTS]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that a location inside the document points into (for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return current if current is not None and isinstance(part, int) else None
        annotation = current.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return current


def _describe(error: dict[str, Any], model: type[BaseModel]) -> tuple[tuple[str, ...], str]:
    loc = tuple(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    loc = tuple(p for p in loc if p not in ("literal['GET', 'POST']",))
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, tuple(error["loc"][:-1]))
        known = [name for name in (parent.model_fields if parent else {}) if name != "source"]
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(known)})"
        return loc, f"is not a known key{hint}"
    if kind == "missing":
        return loc, "is missing"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    shown = f", got {value!r}" if isinstance(value, str | int | float | bool) and "got" not in message else ""
    return loc, f"{message}{shown}"


def _interface_error(exc: ValidationError, source: str, text: str | None) -> InterfaceError:
    lines = key_lines(text) if text is not None else {}
    messages = []
    for error in exc.errors():
        loc, problem = _describe(error, StationInterface)
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        where = f"{source}:{line}" if line else source
        key = ".".join(loc) or "(top level)"
        messages.append(f"{where}: key '{key}' {problem}")
    return InterfaceError("; ".join(messages))


def parse_interface(document: Any, source: str, text: str | None = None) -> StationInterface:
    """Validate a decoded dialect document into a StationInterface."""
    if not isinstance(document, dict):
        raise InterfaceError(f"{source}: a dialect file must be a mapping")
    try:
        return StationInterface.model_validate({**document, "source": source})
    except ValidationError as exc:
        raise _interface_error(exc, source, text) from None


def load_interface_file(path: Path) -> StationInterface:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors (Notepad) start the file with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise InterfaceError(f"{path}: cannot read dialect file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = read_yaml(text, str(path))
    except YamlError as exc:
        raise InterfaceError(str(exc)) from None
    if isinstance(document, dict) and "source" in document:
        raise InterfaceError(f"{path}: key 'source' is not a known key (it is set by the loader)")
    return parse_interface(document, str(path), text)


def known_dialects() -> list[str]:
    return sorted({p.stem for d in dialect_dirs() if d.is_dir() for p in d.glob("*.yaml")})


def load_interface(name: str = "default") -> StationInterface:
    """A dialect by name, from the first dialect directory that has it."""
    if not _DIALECT_NAME.fullmatch(name) or ".." in name:
        raise InterfaceError(
            f"dialect {name!r}: a dialect is named, not given as a path (letters, digits, '_', '-', '.'); put the "
            f"file in ${DIALECTS_DIR_ENV} and name it without '.yaml'"
        )
    for directory in dialect_dirs():
        path = directory / f"{name}.yaml"
        if path.is_file():
            return _load_cached(path.resolve(), path.stat().st_mtime_ns)
    known = known_dialects()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InterfaceError(f"unknown dialect {name!r}{hint} (known: {', '.join(known)})")


@cache
def _load_cached(path: Path, _mtime: int) -> StationInterface:
    return load_interface_file(path)
