"""Does the admin allow what the REST API refuses? Generated over every admin screen.

The admin and the API are two doors to the same tables; each screen must keep the API's
rules (issue: a branch manager set a customer's derived AUM in the admin, a teller
downloaded customers the API would not export). Checked here, for every screen of every
installed plugin:

* reading: the screen's permission is one the plugin's API reads with;
* writing: every column the admin lets a user change is one some API write of the plugin
  accepts (same name, or the name with ``_id``); derived and system figures must be
  ``read_only_columns``;
* exporting: where the plugin declares ``<object>.export``, the screen's
  ``export_permission`` is that permission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from bankcrm.admin.screens import ScreenSpec

_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
ALWAYS_SYSTEM = frozenset({"id", "branch_id", "created_at", "updated_at"})


@dataclass(frozen=True)
class Gap:
    screen: str
    what: str

    def __str__(self) -> str:
        return f"{self.screen}: {self.what}"


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 16:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def _properties(
    schema: Mapping[str, Any], components: Mapping[str, Any], depth: int = 0
) -> set[str]:
    schema = _resolve(schema, components)
    if depth > 4:
        return set()
    names = set(schema.get("properties", {}))
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key, []):
            names |= _properties(option, components, depth + 1)
    if schema.get("type") == "array" and "items" in schema:
        names |= _properties(schema["items"], components, depth + 1)
    return names


@dataclass
class ApiSurface:
    read_permissions: set[str]
    write_fields: set[str]


def api_surface(app: Litestar, plugin: str) -> ApiSurface:
    spec = app.openapi_schema.to_schema()
    components = spec.get("components", {}).get("schemas", {})
    paths = spec.get("paths", {})
    surface = ApiSurface(set(), set())
    prefix = "/api/v1/" if plugin == "bankcrm" else f"/api/v1/{plugin}/"
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix):
            continue
        template = route.path
        for handler in route.route_handlers:
            permission = str(handler.opt.get("permission") or "")
            for method in handler.http_methods:
                if method == "GET":
                    surface.read_permissions.add(permission)
                elif method in {"POST", "PUT", "PATCH"}:
                    operation = _operation(paths, template, method)
                    body = operation.get("requestBody", {}).get("content", {})
                    media = body.get("application/json", {})
                    if media:
                        surface.write_fields |= _properties(media.get("schema", {}), components)
    return surface


def _operation(paths: Mapping[str, Any], template: str, method: str) -> Mapping[str, Any]:
    openapi_path = _PARAMETER.sub(r"{\1}", template)
    found: Mapping[str, Any] = paths.get(openapi_path, {}).get(method.lower(), {})
    return found


def parity_gaps(app: Litestar, screens: list[ScreenSpec], permissions: set[str]) -> list[Gap]:
    gaps: list[Gap] = []
    surfaces: dict[str, ApiSurface] = {}
    for spec in screens:
        if spec.superuser_only:
            continue  # a superuser holds every permission: nothing to compare
        surface = surfaces.setdefault(spec.plugin, api_surface(app, spec.plugin))
        name = spec.tablename
        if spec.screen.permission not in surface.read_permissions:
            gaps.append(
                Gap(name, f"read permission {spec.screen.permission!r} reads nothing in the API")
            )
        obj = spec.screen.permission.rsplit(".", 1)[0]
        export = f"{obj}.export"
        if export in permissions and spec.screen.export_permission != export:
            gaps.append(
                Gap(
                    name, f"the API exports with {export!r}; the admin's export does not ask for it"
                )
            )
        if spec.read_only:
            continue
        fixed = set(spec.screen.read_only_columns) | set(spec.hidden_columns) | ALWAYS_SYSTEM
        for column in spec.table._meta.columns:
            column_name = column._meta.name
            if column_name in fixed or column._meta.primary_key:
                continue
            if column_name in surface.write_fields or f"{column_name}_id" in surface.write_fields:
                continue
            gaps.append(
                Gap(name, f"{column_name} is writable in the admin but no API write takes it")
            )
    return gaps


__all__ = ["Gap", "api_surface", "parity_gaps"]
