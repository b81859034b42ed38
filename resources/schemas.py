"""JSON Schema files for the dialect files and the station registry, generated from their models.

`python -m resources.schemas` writes conf/schema/dialect.schema.json and registry.schema.json;
tests/test_dialect_models.py fails when the published files drift from the models. Editors
pick them up with a `# yaml-language-server: $schema=...` line at the top of a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pv_model.dialect import SCHEMA_DIR, dialect_schema, schema_text
from pv_model.registry import StationEntry, StationSettings

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class RegistryFile(BaseModel):
    """conf/stations.yaml: `defaults:` for every station, and the stations."""

    model_config = ConfigDict(extra="forbid", title="pv-media station registry")

    defaults: StationSettings | None = None
    regions: dict[str, str] | None = Field(None, description="regional company names by code: RC-320100: 南京区域公司")
    region_photo_types: dict[str, list[str]] | None = Field(
        None, description="required photo types per region code: RC-320100: [roof_panorama, inverter]"
    )
    stations: list[StationEntry] = Field(min_length=0)


def registry_schema() -> dict[str, Any]:
    schema = RegistryFile.model_json_schema(mode="validation")
    schema["$schema"] = DRAFT
    return schema


def schemas() -> dict[str, dict[str, Any]]:
    return {"dialect.schema.json": dialect_schema(), "registry.schema.json": registry_schema()}


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        (directory / name).write_text(schema_text(schema), encoding="utf-8")
        written.append(directory / name)
    return written


if __name__ == "__main__":
    for path in write_schemas():
        print(path)
