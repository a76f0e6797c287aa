"""Checks that a plugin follows the one-name rule and declares its dependencies
consistently in its distribution, its manifest and its migrations.

``check_plugin(registry, name)`` returns a list of problems (empty when conformant);
the SDK's own tests run it over every installed plugin.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bankcrm.plugins import ENTRY_POINT_GROUP, PluginRegistry


def _plugin_distributions() -> dict[str, str]:
    return {
        ep.name: canonicalize_name(ep.dist.name)
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None
    }


def _requirements(distribution_name: str) -> set[str]:
    try:
        requires = distribution(distribution_name).requires or []
    except PackageNotFoundError:
        return set()
    return {canonicalize_name(Requirement(r).name) for r in requires}


def check_plugin(registry: PluginRegistry, name: str) -> list[str]:
    problems: list[str] = []
    record = registry.records[name]
    manifest = record.manifest
    if manifest is None:
        return [f"{name}: no manifest ({record.reason})"]
    distributions = _plugin_distributions()
    own = distributions.get(name)
    if own is not None:
        declared = _requirements(own)
        if "bankcrm" not in declared:
            problems.append(f"{name}: {own} does not depend on the kernel distribution bankcrm")
        for required in manifest.requires:
            wanted = distributions.get(required)
            if wanted is not None and wanted not in declared:
                problems.append(
                    f"{name}: manifest requires {required!r} but {own} does not depend on {wanted}"
                )
    if manifest.piccolo_app:
        app_config: Any = importlib.import_module(manifest.piccolo_app).APP_CONFIG
        if app_config.app_name != name:
            problems.append(f"{name}: Piccolo app is named {app_config.app_name!r}")
        dependencies = set(app_config.migration_dependencies)
        if "bankcrm.piccolo_app" not in dependencies:
            problems.append(f"{name}: migrations must depend on 'bankcrm.piccolo_app'")
        for required in manifest.requires:
            other = registry.records.get(required)
            other_app = other.manifest.piccolo_app if other and other.manifest else None
            if other_app and other_app not in dependencies:
                problems.append(
                    f"{name}: manifest requires {required!r} but its migrations do not depend "
                    f"on {other_app!r}"
                )
        for table in app_config.table_classes:
            if not table._meta.tablename.startswith(f"{name}_"):
                problems.append(f"{name}: table {table._meta.tablename!r} lacks prefix {name}_")
    for plugin_name, specs in registry.call_each("register_permissions"):
        if plugin_name != name:
            continue
        for spec in specs or []:
            if not spec.name.startswith(f"{name}."):
                problems.append(f"{name}: permission {spec.name!r} outside namespace {name}.*")
    for plugin_name, handlers in registry.call_each("register_routes"):
        if plugin_name != name:
            continue
        problems.extend(_route_problems(name, handlers or []))
    return problems


def _route_problems(name: str, handlers: list[Any]) -> list[str]:
    from litestar import Litestar

    problems = []
    app = Litestar(route_handlers=handlers, openapi_config=None)  # the plugin's routes only
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            opt = handler.opt
            if opt.get("public") or _generated_options(handler):
                continue
            permission = opt.get("permission")
            if not permission:
                problems.append(f"{name}: {route.path} declares no permission")
            elif permission != "authenticated" and not permission.startswith(f"{name}."):
                problems.append(f"{name}: {route.path} uses permission {permission!r}")
    return problems


def _generated_options(handler: Any) -> bool:
    """Litestar adds an OPTIONS handler to every path; a plugin cannot give it an ``opt``
    (the central guard answers it 403 like any route without a permission)."""
    return bool(handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler")
