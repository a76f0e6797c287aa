"""Render the hook reference for plugin authors from the hookspecs' docstrings.

``python -m bankcrm.hookdoc > docs/hooks.md``; a test keeps the file current and fails
when a hook has no contract.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from bankcrm import hookspecs


def hook_functions(module: ModuleType = hookspecs) -> list[tuple[str, object]]:
    return [
        (name, function)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if getattr(function, "bankcrm_spec", None) is not None
    ]


def render(module: ModuleType = hookspecs, title: str = "Kernel hooks") -> str:
    lines = [
        f"# {title}",
        "",
        "Generated from `platform/src/bankcrm/hookspecs.py` by `python -m bankcrm.hookdoc`;"
        " do not edit by hand.",
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
    print(render(), end="")
