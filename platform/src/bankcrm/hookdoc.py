"""Render the hook reference for plugin authors from the hookspecs' docstrings.

``python -m bankcrm.hookdoc > docs/hooks.md``; a test keeps the file current and fails
when a hook has no contract. A plugin's published hooks (``add_hookspecs``) get the same:
``python -m bankcrm.hookdoc <plugin package>.hookspecs > <its folder>/hooks.md``, kept
current by the SDK's conformance check.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

from bankcrm import hookspecs


def hook_functions(module: ModuleType = hookspecs) -> list[tuple[str, object]]:
    return [
        (name, function)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if getattr(function, "bankcrm_spec", None) is not None
    ]


def reference_path(module: ModuleType) -> Path:
    """Where a plugin's hook reference lives: ``hooks.md`` beside its hookspecs module."""
    assert module.__file__ is not None
    return Path(module.__file__).with_name("hooks.md")


def render(module: ModuleType = hookspecs, title: str | None = None) -> str:
    if module is hookspecs:
        title = title or "Kernel hooks"
        source = "`platform/src/bankcrm/hookspecs.py` by `python -m bankcrm.hookdoc`"
    else:
        title = title or f"Hooks published by {module.__name__.split('.')[0]}"
        source = f"`{module.__name__}` by `python -m bankcrm.hookdoc {module.__name__}`"
    lines = [
        f"# {title}",
        "",
        f"Generated from {source}; do not edit by hand.",
        "",
        inspect.getdoc(module) or "",
        "",
    ]
    for name, function in hook_functions(module):
        options = getattr(function, "bankcrm_spec", {}) or {}
        signature = str(inspect.signature(function))  # type: ignore[arg-type]
        flags = " (first result wins)" if options.get("firstresult") else ""
        lines += [f"## `{name}{signature}`{flags}", "", inspect.getdoc(function) or "", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    target = importlib.import_module(sys.argv[1]) if len(sys.argv) > 1 else hookspecs
    print(render(target), end="")
