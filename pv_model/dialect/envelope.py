"""How a vendor says success and failure (the `envelope:` section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pv_model.dialect.base import Codes, FieldPath, TextValue, _Section
from pv_model.dialect.paths import ROOT_PATH


class Envelope(_Section):
    """How the vendor says success and failure. Four styles:

    - `codes`: a business code at `code`, success when it is in `success` (v1);
    - `flag`: a boolean at `success_flag` says success, `code` explains failures (FusionSolar);
    - `field`: success when `success_field` equals `success_value` (`status: OK`);
    - `none`: plain REST, no envelope: 2xx success, 401/403 token trouble, 429 rate limited,
      5xx transient; the error text from `message`, an error code (if any) from `code`.

    In every style the code lists below name token-expired, rate-limited, transient and
    bad-credential answers, compared as text (`0` and `"0"` are the same).
    """

    style: Literal["codes", "flag", "field", "none"] | None = Field(
        None, description="codes | flag | field | none; inferred from the keys given when left out"
    )
    code: FieldPath | None = Field(None, description="path of the business code")
    message: FieldPath | None = Field(None, description="path of the message / error text")
    data: FieldPath = Field(ROOT_PATH, description="path of the payload; '$' is the whole answer")
    success_flag: FieldPath | None = Field(None, description="style flag: a boolean field that says success")
    success_field: FieldPath | None = Field(None, description="style field: the field compared with success_value")
    success_value: TextValue | None = None
    success: Codes = frozenset()
    token_expired: Codes = frozenset()
    rate_limited: Codes = frozenset()
    transient: Codes = frozenset()
    bad_credentials: Codes = frozenset()

    @model_validator(mode="after")
    def _style(self) -> Envelope:
        style = self.style or (
            "flag" if self.success_flag else "field" if self.success_field else "codes" if self.code else "none"
        )
        object.__setattr__(self, "style", style)
        if style == "codes" and (not self.code or not self.success):
            raise ValueError("style 'codes' needs 'code' and the 'success' codes")
        if style == "flag" and not self.success_flag:
            raise ValueError("style 'flag' needs 'success_flag'")
        if style == "field" and (not self.success_field or self.success_value is None):
            raise ValueError("style 'field' needs 'success_field' and 'success_value'")
        return self
