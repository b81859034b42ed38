"""Field paths, one syntax for every dialect key that points into a JSON document: dotted names
(`owner.idNumber`), a number indexes a list (`attachments.0.url`, also `attachments[0].url`), `[*]`
takes every item of a list (`attachments[*].url`), and `$` is the document itself."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

ROOT_PATH = "$"
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]|\.")


@cache
def parse_path(path: str) -> tuple[str, ...]:
    """A field path as its segments: names, list indexes (digits) and `*` (every item)."""
    if path == ROOT_PATH:
        return ()
    parts: list[str] = []
    position = 0
    for match in _PATH_PART.finditer(path):
        if match.start() != position:
            raise ValueError(f"field path {path!r} cannot be read at position {position}")
        position = match.end()
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(match.group(2))
    if position != len(path) or not parts or path.startswith(".") or path.endswith(".") or ".." in path:
        raise ValueError(f"{path!r} is not a field path (names joined by '.', [N] or [*] for lists, '$' for all)")
    return tuple(parts)


def check_field_path(path: str) -> str:
    parse_path(path)
    return path


def check_api_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"must start with '/', got {path!r}")
    return path


def dig(document: Any, path: str | None) -> Any:
    """The value at a field path of a decoded JSON document, or None. A `[*]` gives a list."""
    if not path:
        return None
    values = dig_all(document, path)
    if "*" in parse_path(path):
        return values
    return values[0] if values else None


def dig_all(document: Any, path: str) -> list[Any]:
    """Every value a field path reaches (one at most without `[*]`); missing parts give nothing."""
    nodes = [document]
    for part in parse_path(path):
        following: list[Any] = []
        for node in nodes:
            if part == "*":
                if isinstance(node, list):
                    following.extend(node)
            elif isinstance(node, dict):
                if part in node:
                    following.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                following.append(node[int(part)])
        nodes = following
    return [node for node in nodes if node is not None]


def top_field(path: str) -> str:
    """The record's top-level field a path starts at (for the columns kept as they are)."""
    parts = parse_path(path)
    return parts[0] if parts else path


def list_paths(document: Any, max_depth: int = 3) -> list[tuple[str, int]]:
    """(field path, length) of every non-empty list of objects in a document, shallowest first: what a
    wrong `records.items` path may have meant."""
    found: list[tuple[str, int]] = []
    pending: list[tuple[str, Any, int]] = [("", document, 0)]
    while pending:
        path, node, depth = pending.pop(0)
        if isinstance(node, list) and node and isinstance(node[0], dict):
            found.append((path or ROOT_PATH, len(node)))
        elif isinstance(node, dict) and depth < max_depth:
            pending.extend((f"{path}.{key}" if path else str(key), value, depth + 1) for key, value in node.items())
    return found
