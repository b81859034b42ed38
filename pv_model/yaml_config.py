"""The one reader of pv-media's YAML files - the station registry and the dialect files - so both mean the
same by the same text.

YAML 1.2 (ryaml, a Rust parser): `yes`/`on` stay text, `0012` and `010` stay `0012` and `010` (PyYAML's
YAML 1.1 reads the octal numbers 10 and 8), and `01:` and `1:` are two keys. A duplicate key is refused with
its line, never "the last one wins". `<<: *anchor` merge keys work as in YAML 1.1. Line numbers come from a
second parse (PyYAML keeps every node's line), made only when a message needs one. Messages leave out the
values ryaml quotes: a value may be a secret written in the wrong place.
"""

from __future__ import annotations

import re
from typing import Any

import ryaml
import yaml

MERGE_KEY = "<<"
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(ValueError):
    """'file:line: not valid YAML: what' (the line where one is known)."""


def read_yaml(text: str, source: str) -> Any:
    """The document of a YAML 1.2 text; a text that is not YAML, or has a duplicate key, raises YamlError."""
    try:
        document = ryaml.loads(text)
    except (ryaml.InvalidYamlError, ValueError, TypeError) as exc:
        # ryaml names no line for some errors (a duplicate key): the line-keeping parse explains them.
        explain_yaml_error(text, source)
        raise YamlError(f"{source}: not valid YAML: {without_values(str(exc))}") from None
    return apply_merge_keys(document) if MERGE_KEY in text else document


def without_values(message: str) -> str:
    """ryaml's message with the values it quotes left out."""
    return re.sub(r"`[^`]*`", "(a value)", message)


def apply_merge_keys(node: Any) -> Any:
    """YAML 1.1's `<<: *anchor` merge keys (YAML 1.2 has none): a mapping's own keys win over merged ones,
    and of several merged mappings the first wins, as in PyYAML."""
    if isinstance(node, list):
        return [apply_merge_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    merged: dict[Any, Any] = {}
    if MERGE_KEY in node:
        sources = node[MERGE_KEY] if isinstance(node[MERGE_KEY], list) else [node[MERGE_KEY]]
        for source in reversed(sources):
            if isinstance(source, dict):
                merged.update(apply_merge_keys(source))
    merged.update({key: apply_merge_keys(value) for key, value in node.items() if key != MERGE_KEY})
    return merged


class LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's C parser where installed
    """Keeps every node's line, and refuses duplicate keys naming the line."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a key must be text", key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
    # A mapping's own keys win over `<<: *anchor` merged ones, as PyYAML's own constructor has it.
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=True)


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def explain_yaml_error(text: str | bytes, source: str) -> None:
    """Raise this text's YAML error with its line, if PyYAML sees one."""
    try:
        yaml.load(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YamlError(yaml_error_text(source, exc)) from None


def yaml_error_text(source: str, exc: yaml.YAMLError) -> str:
    """'file:line: not valid YAML: what' for a PyYAML error (the line when PyYAML marks one)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        return f"{source}{line}: not valid YAML: {exc.problem or exc}"
    return f"{source}: not valid YAML: {exc}"


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """(key path) -> 1-based line, for every mapping key and list item of a YAML document."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = (*path, str(index))
                lines[child] = value.start_mark.line + 1
                walk(value, child)

    if root is not None:
        walk(root, ())
    return lines
