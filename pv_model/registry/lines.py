"""Where the registry's entries start, for messages: found by a second, line-keeping parse, only when asked."""

from __future__ import annotations

import functools

import yaml

from pv_model.registry.models import RegistryError
from pv_model.yaml_config import LineLoader, YamlError, explain_yaml_error


class EntryLines:
    """Where the registry's entries start, found by a second parse the first time a message asks."""

    def __init__(self, text: str | bytes, source: str):
        self._text = text
        self.source = source

    def explain_yaml_error(self) -> None:
        """Raise the YAML error of this text with its line, if PyYAML sees one."""
        try:
            explain_yaml_error(self._text, self.source)
        except YamlError as exc:
            raise RegistryError(str(exc)) from None

    @functools.cached_property
    def _lines(self) -> tuple[int | None, list[int]]:
        try:
            root = yaml.compose(self._text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
        except (yaml.YAMLError, UnicodeDecodeError):
            return None, []
        if not isinstance(root, yaml.MappingNode):
            return None, []
        found = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
        defaults = found.get("defaults")
        stations = found.get("stations")
        entries = stations.value if isinstance(stations, yaml.SequenceNode) else []
        return (defaults.start_mark.line + 1 if defaults else None), [entry.start_mark.line + 1 for entry in entries]

    def defaults(self) -> str:
        line = self._lines[0]
        return f"{self.source}:{line}" if line else self.source

    def station(self, index: int) -> str:
        lines = self._lines[1]
        return f"{self.source}:{lines[index]}" if index < len(lines) else f"{self.source} (stations[{index}])"
