"""What every dialect section shares: unknown keys refused, frozen; value types compared as text."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from pv_model.dialect.paths import check_api_path, check_field_path


def _codes(value: Any) -> Any:
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("must be a list of codes")
    return frozenset(str(v).strip() for v in value)


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _text(value: Any) -> Any:
    """Scalars compared as text: a YAML 2 and "2" are the same station value."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


FieldPath = Annotated[str, Field(min_length=1), AfterValidator(check_field_path)]
ApiPath = Annotated[str, Field(min_length=1), AfterValidator(check_api_path)]
Codes = Annotated[frozenset[str], BeforeValidator(_codes)]
Method = Annotated[Literal["GET", "POST"], BeforeValidator(_upper)]
NonEmpty = Annotated[str, Field(min_length=1)]
TextValue = Annotated[str, BeforeValidator(_text)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
