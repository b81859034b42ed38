"""Dialect hooks: Python a dialect names for what no key can say (resources/dialect_hooks.py has the example).

A dialect file that names a hook runs code, so a hook comes only from where the operator put code on
purpose: an entry point in the group `pv_media.dialect_hooks` (an installed plug-in), or a `module:function`
whose module is allowed - the shipped example's, or one listed in $PV_DIALECT_HOOK_MODULES.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

HOOK_GROUP = "pv_media.dialect_hooks"
HOOK_MODULES_ENV = "PV_DIALECT_HOOK_MODULES"
SHIPPED_HOOK_MODULES = ("resources.dialect_hooks",)


def allowed_hook_modules() -> tuple[str, ...]:
    """The modules a `module:function` hook may come from (read at call time, never at import)."""
    listed = [name.strip() for name in os.environ.get(HOOK_MODULES_ENV, "").split(",") if name.strip()]
    return (*SHIPPED_HOOK_MODULES, *listed)


def check_hook_reference(reference: str) -> str:
    """The reference when it names an allowed module or an entry point name; else ValueError with the fix."""
    if ":" not in reference:
        return reference  # an entry point name: looked up in HOOK_GROUP when first used
    module_name = reference.partition(":")[0]
    if module_name not in allowed_hook_modules():
        raise ValueError(
            f"hook {reference!r}: a hook is code, so its module must be allowed: install it as an entry point in "
            f"{HOOK_GROUP} and name that, or list {module_name!r} in ${HOOK_MODULES_ENV}"
        )
    return reference


@cache
def load_hook(reference: str) -> Callable[..., Any]:
    """A dialect hook: an allowed `package.module:function`, or the name of an entry point in HOOK_GROUP."""
    if ":" in reference:
        module_name, _, attribute = check_hook_reference(reference).partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target
    matches = [ep for ep in entry_points(group=HOOK_GROUP) if ep.name == reference]
    if not matches:
        raise LookupError(f"no dialect hook {reference!r} (module:function, or an entry point in {HOOK_GROUP})")
    return matches[0].load()
