"""Temporary plugins for one test: a module-like object with a manifest and hooks."""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any

from bankcrm.plugin_api import PluginManifest, hookimpl
from bankcrm.plugins import PluginCandidate


def make_plugin(
    name: str,
    *,
    requires: Sequence[str] = (),
    version: str = "0.0.1",
    kernel_api: str = ">=1,<2",
    routes: Sequence[Any] = (),
    hooks: dict[str, Callable[..., Any]] | None = None,
    fail_import: BaseException | None = None,
) -> PluginCandidate:
    """A plugin candidate as if it came from an entry point.

    ``hooks`` maps hook names to plain functions; they are marked as implementations.
    ``fail_import`` makes loading raise, as a broken distribution would.
    """
    module = types.ModuleType(f"bankcrm_test_plugin_{name}")
    module.MANIFEST = PluginManifest(  # type: ignore[attr-defined]
        name=name,
        version=version,
        title=name,
        title_en=name,
        requires=tuple(requires),
        kernel_api=kernel_api,
    )
    all_hooks = dict(hooks or {})
    if routes:
        all_hooks["register_routes"] = lambda: list(routes)
    for hook_name, function in all_hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))

    def load() -> Any:
        if fail_import is not None:
            raise fail_import
        return module

    return PluginCandidate(name=name, load=load, distribution=f"test-{name}")
