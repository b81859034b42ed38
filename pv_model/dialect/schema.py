"""The JSON Schema of a dialect file, for editors (conf/schema/dialect.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pv_model.dialect.model import StationInterface

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "conf" / "schema"


def dialect_schema() -> dict[str, Any]:
    """The JSON Schema of a dialect file, for editors (conf/schema/dialect.schema.json)."""
    schema = StationInterface.model_json_schema(mode="validation")
    schema["properties"].pop("source", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
