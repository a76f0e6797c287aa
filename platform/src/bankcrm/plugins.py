"""Plugin discovery, manifests and the dependency graph.

Plugins are distributions registering an entry point in the ``bankcrm.plugins`` group;
the built-in plugins use exactly the mechanism a third party uses. A plugin that fails to
import, requires a missing plugin or sits on a dependency cycle is reported with the
reason and left out (with everything that depends on it); it never stops the kernel.
"""

from __future__ import annotations

import graphlib
import inspect
import logging
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bankcrm import KERNEL_API_VERSION, hookspecs
from bankcrm.plugin_api import PluginManifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "bankcrm.plugins"
KERNEL_PLUGIN_NAME = "bankcrm"


class PluginStatus:
    ACTIVE = "active"
    ERROR = "error"
    DISABLED = "disabled"


@dataclass
class PluginRecord:
    name: str
    status: str
    version: str = ""
    title: str = ""
    title_en: str = ""
    requires: tuple[str, ...] = ()
    reason: str = ""
    distribution: str = ""
    manifest: PluginManifest | None = None
    module: Any = None
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "version": self.version,
            "title": self.title,
            "title_en": self.title_en,
            "requires": list(self.requires),
            "reason": self.reason,
            "distribution": self.distribution,
            "hooks": sorted(self.hooks),
        }


@dataclass(frozen=True)
class PluginCandidate:
    """A plugin module (or object) offered to the registry, e.g. from an entry point."""

    name: str
    load: Any
    """Zero-argument callable returning the plugin module/object."""
    distribution: str = ""


class PluginRegistry:
    """The plugin manager plus what was found, in dependency order."""

    def __init__(self, pm: pluggy.PluginManager, records: dict[str, PluginRecord]) -> None:
        self.pm = pm
        self.records = records
        self.order: list[str] = [
            name for name, record in records.items() if record.status == PluginStatus.ACTIVE
        ]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def active(self) -> list[PluginRecord]:
        return [self.records[name] for name in self.order]

    def manifest(self, name: str) -> PluginManifest:
        record = self.records[name]
        assert record.manifest is not None
        return record.manifest

    def in_dependency_order(self, hook_name: str) -> list[tuple[str, Any]]:
        """The kernel's then each plugin's implementation of a hook, dependencies first."""
        caller = getattr(self.pm.hook, hook_name)
        by_plugin = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
        return [
            (name, by_plugin[name])
            for name in [KERNEL_PLUGIN_NAME, *self.order]
            if name in by_plugin
        ]

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook plugin by plugin, in dependency order, with who answered what.

        Implementations may accept any subset of the hook's arguments (pluggy passes
        only those they name).
        """
        return [
            (name, impl.function(**{arg: kwargs[arg] for arg in impl.argnames}))
            for name, impl in self.in_dependency_order(hook_name)
        ]

    async def call_in_order(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """:meth:`call_each` for hooks whose implementations may be async: each answer is
        awaited before the next plugin is called, so a plugin's work (demo data) can build
        on what the plugins it requires did first."""
        results: list[tuple[str, Any]] = []
        for name, impl in self.in_dependency_order(hook_name):
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if inspect.isawaitable(result):
                result = await result
            results.append((name, result))
        return results

    def impls(self, hook_name: str, plugins: frozenset[str] | None = None) -> list[Any]:
        """Implementations in pluggy's call order, optionally only of ``plugins``.

        The kernel's own implementations are always included.
        """
        caller = getattr(self.pm.hook, hook_name)
        found = list(reversed(caller.get_hookimpls()))
        if plugins is None:
            return found
        return [i for i in found if i.plugin_name == KERNEL_PLUGIN_NAME or i.plugin_name in plugins]

    async def call_first(
        self, hook_name: str, plugins: frozenset[str] | None = None, **kwargs: Any
    ) -> Any:
        """``firstresult`` semantics for hooks whose implementations may be async."""
        for impl in self.impls(hook_name, plugins):
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                return result
        return None

    async def call_all(
        self, hook_name: str, plugins: frozenset[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Every implementation's non-None answer (awaited), with the plugin's name."""
        answers = []
        for impl in self.impls(hook_name, plugins):
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                answers.append((impl.plugin_name, result))
        return answers

    def piccolo_apps(self) -> list[str]:
        apps = []
        for record in self.active():
            if record.manifest and record.manifest.piccolo_app:
                apps.append(record.manifest.piccolo_app)
        return apps


def entry_point_candidates(only: Sequence[str] | None = None) -> list[PluginCandidate]:
    candidates = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if only is not None and ep.name not in only:
            continue
        distribution = ep.dist.name if ep.dist is not None else ""
        candidates.append(PluginCandidate(name=ep.name, load=ep.load, distribution=distribution))
    return candidates


def _kernel_api_ok(spec: str) -> bool:
    try:
        return str(KERNEL_API_VERSION) in SpecifierSet(spec)
    except InvalidSpecifier:
        return False


def _load(candidate: PluginCandidate) -> PluginRecord:
    try:
        module = candidate.load()
    except Exception as exc:
        log.warning("plugin %s failed to import", candidate.name, exc_info=True)
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return PluginRecord(
            name=candidate.name,
            status=PluginStatus.ERROR,
            reason=f"import failed: {last}",
            distribution=candidate.distribution,
        )
    manifest = getattr(module, "MANIFEST", None)
    record = PluginRecord(
        name=candidate.name,
        status=PluginStatus.ACTIVE,
        distribution=candidate.distribution,
        module=module,
    )
    if not isinstance(manifest, PluginManifest):
        record.status = PluginStatus.ERROR
        record.reason = "the plugin module has no MANIFEST (bankcrm.plugin_api.PluginManifest)"
        return record
    record.manifest = manifest
    record.version = manifest.version
    record.title = manifest.title
    record.title_en = manifest.title_en
    record.requires = tuple(manifest.requires)
    if manifest.name != candidate.name:
        record.status = PluginStatus.ERROR
        record.reason = (
            f"manifest name {manifest.name!r} differs from entry-point name {candidate.name!r}"
        )
    elif not _kernel_api_ok(manifest.kernel_api):
        record.status = PluginStatus.ERROR
        record.reason = (
            f"needs kernel API {manifest.kernel_api}, this kernel provides {KERNEL_API_VERSION}"
        )
    return record


def _resolve_dependencies(records: dict[str, PluginRecord]) -> list[str]:
    """Mark plugins with unmet requirements or cycles; return the active ones in order."""
    changed = True
    while changed:
        changed = False
        for record in records.values():
            if record.status != PluginStatus.ACTIVE:
                continue
            for required in record.requires:
                dependency = records.get(required)
                if dependency is None:
                    record.status = PluginStatus.DISABLED
                    record.reason = f"requires {required!r}, which is not installed"
                elif dependency.status != PluginStatus.ACTIVE:
                    record.status = PluginStatus.DISABLED
                    record.reason = f"requires {required!r}, which is {dependency.status}"
                else:
                    continue
                changed = True
                break
    active = {name: r for name, r in records.items() if r.status == PluginStatus.ACTIVE}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, record in active.items():
        sorter.add(name, *record.requires)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
        for name in set(cycle):
            records[name].status = PluginStatus.ERROR
            records[name].reason = "dependency cycle: " + " -> ".join(cycle)
        return _resolve_dependencies(records)


def _unknown_hooks(pm: pluggy.PluginManager, module: Any) -> list[str]:
    unknown = []
    for attribute in dir(module):
        if getattr(getattr(module, attribute, None), "bankcrm_impl", None) is None:
            continue
        caller = getattr(pm.hook, attribute, None)
        if caller is None or not caller.has_spec():
            unknown.append(attribute)
    return unknown


def _plugin_manager(records: dict[str, PluginRecord], order: list[str]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("bankcrm")
    pm.add_hookspecs(hookspecs)
    for name in order:
        add = getattr(records[name].module, "add_hookspecs", None)
        if callable(add):
            add(pm)
    return pm


def build_registry(
    candidates: Iterable[PluginCandidate], kernel_plugin: Any | None = None
) -> PluginRegistry:
    records: dict[str, PluginRecord] = {}
    for candidate in candidates:
        if candidate.name in records:
            records[candidate.name].status = PluginStatus.ERROR
            records[candidate.name].reason = "two distributions provide this plugin name"
            continue
        records[candidate.name] = _load(candidate)
    while True:
        order = _resolve_dependencies(records)
        pm = _plugin_manager(records, order)
        # A misspelt hook would never be called: refuse the plugin instead of ignoring it.
        rejected = False
        for name in order:
            unknown = _unknown_hooks(pm, records[name].module)
            if unknown:
                records[name].status = PluginStatus.ERROR
                records[name].reason = "implements unknown hook(s): " + ", ".join(unknown)
                rejected = True
        if not rejected:
            break
    if kernel_plugin is not None:
        pm.register(kernel_plugin, name=KERNEL_PLUGIN_NAME)
    for name in order:
        pm.register(records[name].module, name=name)
    pm.check_pending()
    for name in order:
        record = records[name]
        record.hooks = [caller.name for caller in pm.get_hookcallers(record.module) or []]
    ordered = {name: records[name] for name in order}
    ordered.update({n: r for n, r in records.items() if n not in ordered})
    return PluginRegistry(pm, ordered)
