"""Hostile requests generated over every REST route of the app.

Nothing here names a route: operations come from the Litestar app and its OpenAPI
description, path keys from rows the head office can see. A plugin's new list route gets
tampered cursors, and its new JSON route hostile bodies, without anyone writing a test.

Expectations: a tampered cursor is a 400 ``invalid_cursor`` naming ``query.cursor``; a
hostile body is the 4xx its kind calls for (400 too deep, 413 too large, 415 wrong media
type or charset, 422 control characters); a valid body declared as GBK is read; every
refusal is a problem body; nothing answers 5xx.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bankcrm.web.bodies import SECURITY_HEADERS
from bankcrm_sdk.isolation import table_index, take_snapshot
from bankcrm_sdk.route_probe import (
    Operation,
    ReferenceResolver,
    ReferenceValues,
    Unmapped,
    minimal_instance,
    operations,
)


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TAMPERED_CURSORS: dict[str, str] = {
    "not base64": "%%%not-a-cursor%%%",
    "base64 of no JSON": _cursor(b"\xff\xfe garbage"),
    "a JSON object": _cursor(b'{"id": 1}'),
    "an empty list": _cursor(b"[]"),
    "a string key": _cursor(b'["x"]'),
    "a boolean key": _cursor(b"[true]"),
    "a null key": _cursor(b"[null]"),
    "a nested list": _cursor(b"[[1]]"),
    "a key beyond 64 bits": _cursor(b"[99999999999999999999999]"),
    "a key below -2**63": _cursor(b"[-9223372036854775809]"),
    "a fractional key": _cursor(b"[1.5]"),
    "an empty string key": _cursor(b'[""]'),
    "too many keys": _cursor(b"[1, 2, 3, 4, 5]"),
    "a float that is not finite": _cursor(b"[1e999, 1]"),
    "deep nesting": _cursor(b"[" * 150 + b"]" * 150),
}


@dataclass
class Refusal:
    request: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.request} -> {self.status}: {self.detail}"


@dataclass
class SweepResult:
    checked: list[str] = field(default_factory=list)
    """Operations the sweep reached (their untampered request answered 2xx)."""
    unreached: list[str] = field(default_factory=list)
    """Operations whose untampered request did not answer 2xx: not covered."""
    problems: list[Refusal] = field(default_factory=list)


class PathFiller:
    """Concrete paths for an operation: path keys are rows the head office can see."""

    def __init__(self, resolver: ReferenceResolver, values: ReferenceValues) -> None:
        self.resolver = resolver
        self.values = values

    def path(self, operation: Operation) -> str | None:
        path = operation.template
        for name, kind in operation.path_types.items():
            try:
                reference = self.resolver.resolve(name, operation, strict=True)
            except Unmapped:
                return None
            candidates = self.values.own(reference)
            if not candidates:
                return None
            value = candidates[0]
            path = path.replace("{" + name + "}", str(int(value) if kind is int else value))
        return path


async def path_filler(world: Any, overrides: Mapping[str, str | None] | None) -> PathFiller:
    index = table_index()
    snapshot = await take_snapshot(world.kernel.owner_url, index)
    everything = await world.subtree("HQ")
    return PathFiller(ReferenceResolver(index, overrides), ReferenceValues(snapshot, everything))


def _query_defaults(operation: Operation, components: Mapping[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: minimal_instance(p.get("schema", {}), components)
        for p in operation.parameters("query")
        if p.get("required")
    }


def _is_problem(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    body = response.json()
    return isinstance(body, dict) and {"status", "detail", "errors"} <= body.keys()


async def probe_tampered_cursors(
    world: Any,
    client: httpx.AsyncClient,
    *,
    overrides: Mapping[str, str | None] | None = None,
) -> SweepResult:
    """Send every cursor of :data:`TAMPERED_CURSORS` to every list route with a cursor."""
    filler = await path_filler(world, overrides)
    components = world.app.openapi_schema.to_schema().get("components", {}).get("schemas", {})
    result = SweepResult()
    for operation in operations(world.app):
        if operation.method != "GET" or not any(
            p["name"] == "cursor" for p in operation.parameters("query")
        ):
            continue
        path = filler.path(operation)
        query = _query_defaults(operation, components)
        plain = await client.get(path, params=query) if path is not None else None
        if path is None or plain is None or plain.status_code >= 300:
            result.unreached.append(operation.label)
            continue
        result.checked.append(operation.label)
        for label, cursor in TAMPERED_CURSORS.items():
            response = await client.get(path, params={**query, "cursor": cursor})
            problem = response.json() if _is_problem(response) else {}
            fields = [e.get("field") for e in problem.get("errors", [])]
            if (
                response.status_code != 400
                or not str(problem.get("type", "")).endswith("/invalid_cursor")
                or "/query/cursor" not in fields
            ):
                result.problems.append(
                    Refusal(f"GET {path} with {label}", response.status_code, response.text[:200])
                )
    return result


Case = tuple[bytes, str, frozenset[int], str | None]
"""Body, content type, statuses accepted, and the field a refusal must name (or None)."""


def _hostile_bodies(minimal: Any) -> dict[str, Case]:
    valid = json.dumps(minimal, ensure_ascii=False)
    deep = b"[" * 1000 + b"]" * 1000
    deep_inside = b'{"criteria": {"tags": ' + b"[" * 1000 + b"]" * 1000 + b"}}"
    oversize = json.dumps({"padding": "x" * (1024 * 1024 + 10)}).encode()
    with_override = json.dumps({"name": "abc\u202egnp.exe"}).encode()
    with_control = json.dumps({"items": [{"name": "a\u0000b\u0007"}]}).encode()
    with_isolate = json.dumps({"note": "a\u2066b"}).encode()
    json_type = "application/json"
    cases: dict[str, Case] = {
        "nested 1,000 deep": (deep, json_type, frozenset({400}), "/body"),
        "nested 1,000 deep inside a field": (deep_inside, json_type, frozenset({400}), "/body"),
        "over the size limit": (oversize, json_type, frozenset({413}), None),
        "declared as text/plain": (
            valid.encode(),
            "text/plain",
            frozenset({415}),
            "/header/content-type",
        ),
        "declared as a form": (
            valid.encode(),
            "application/x-www-form-urlencoded",
            frozenset({415}),
            "/header/content-type",
        ),
        "without a content type": (valid.encode(), "", frozenset({415}), "/header/content-type"),
        "in an unsupported charset": (
            valid.encode(),
            "application/json; charset=shift_jis",
            frozenset({415}),
            "/header/content-type",
        ),
        "with a right-to-left override": (with_override, json_type, frozenset({422}), "/body/name"),
        "with control characters": (
            with_control,
            json_type,
            frozenset({422}),
            "/body/items/0/name",
        ),
        "with a bidi isolate": (with_isolate, json_type, frozenset({422}), "/body/note"),
    }
    for charset in ("gbk", "GB2312"):
        try:
            encoded = valid.encode(charset)
        except UnicodeEncodeError:
            continue
        cases[f"declared as {charset}"] = (
            encoded,
            f"application/json; charset={charset}",
            GB_DECODED_STATUSES,
            None,
        )
    return cases


def _upload_bodies() -> dict[str, Case]:
    """An upload route takes multipart/form-data and nothing else."""
    named = "/header/content-type"
    return {
        "as JSON": (b'{"file": "x"}', "application/json", frozenset({415}), named),
        "declared as text/plain": (b"a,b\n1,2\n", "text/plain", frozenset({415}), named),
        "as a form": (b"file=x", "application/x-www-form-urlencoded", frozenset({415}), named),
    }


GB_DECODED_STATUSES = frozenset(range(200, 500)) - {415}


def _refusal_problem(response: httpx.Response, expected: frozenset[int], named: str | None) -> bool:
    """Whether ``response`` is what a case expects: an accepted status, a problem body when
    refused, and the named field among its errors."""
    if response.status_code not in expected:
        return False
    if response.status_code < 400:
        return True
    if not _is_problem(response):
        return False
    return named is None or named in {e.get("field") for e in response.json()["errors"]}


async def probe_hostile_bodies(
    world: Any,
    client: httpx.AsyncClient,
    *,
    overrides: Mapping[str, str | None] | None = None,
) -> SweepResult:
    """Send hostile bodies to every route that takes one (the login included): JSON routes
    get each case of :func:`_hostile_bodies`, upload routes bodies that are no upload. A
    valid JSON body declared as GBK or GB2312 must be read (any answer but 415)."""
    filler = await path_filler(world, overrides)
    components = world.app.openapi_schema.to_schema().get("components", {}).get("schemas", {})
    result = SweepResult()
    for operation in operations(world.app, public=True):
        if operation.method == "GET":
            continue
        if operation.body == "multipart":
            cases = _upload_bodies()
        else:
            schema = operation.body_schema()
            if schema is None:
                continue
            cases = _hostile_bodies(minimal_instance(schema, components))
        path = filler.path(operation) or _any_path(operation)
        result.checked.append(operation.label)
        for label, (body, content_type, expected, named) in cases.items():
            headers = {"content-type": content_type} if content_type else {}
            response = await client.request(operation.method, path, content=body, headers=headers)
            if not _refusal_problem(response, expected, named):
                result.problems.append(
                    Refusal(
                        f"{operation.method} {path} {label}",
                        response.status_code,
                        response.text[:200],
                    )
                )
    return result


EXTRA_PAGES = ("/admin/", "/schema/", "/schema/openapi.json", "/healthz", "/api/v1/nothing-here")
"""Answers besides the API operations' that must carry the security headers too."""


def _missing_headers(response: httpx.Response) -> list[str]:
    return [name.decode() for name, _ in SECURITY_HEADERS if name.decode() not in response.headers]


async def probe_security_headers(
    world: Any,
    client: httpx.AsyncClient,
    *,
    overrides: Mapping[str, str | None] | None = None,
) -> SweepResult:
    """GET every read route (and the admin, the API viewer, a probe and an unknown path):
    every answer, whatever its status, carries :data:`bankcrm.web.bodies.SECURITY_HEADERS`.
    """
    filler = await path_filler(world, overrides)
    result = SweepResult()
    paths = [
        (operation.label, filler.path(operation) or _any_path(operation))
        for operation in operations(world.app, public=True)
        if operation.method == "GET"
    ]
    paths += [(f"GET {page}", page) for page in EXTRA_PAGES]
    for label, path in paths:
        response = await client.get(path)
        result.checked.append(label)
        missing = _missing_headers(response)
        if missing or response.status_code >= 500:
            result.problems.append(
                Refusal(f"GET {path}", response.status_code, f"missing {missing}")
            )
    return result


CROSS_SITE_HEADERS: dict[str, dict[str, str]] = {
    "from another origin": {"origin": "https://attacker.example"},
    "from an opaque origin": {"origin": "null"},
    "marked cross-site by the browser": {"sec-fetch-site": "cross-site"},
}


async def probe_cross_site_writes(
    world: Any,
    cookie_client: httpx.AsyncClient,
) -> SweepResult:
    """Every unsafe operation, sent with the session cookie from another site, is a 403
    ``cross_site`` problem (with the security headers) before any handler runs, so the
    sweep changes nothing. ``cookie_client`` must hold a session cookie."""
    result = SweepResult()
    for operation in operations(world.app, public=True):
        if operation.method == "GET":
            continue
        path = _any_path(operation)
        result.checked.append(operation.label)
        for label, headers in CROSS_SITE_HEADERS.items():
            response = await cookie_client.request(
                operation.method,
                path,
                json={},
                headers={"sec-fetch-site": "same-origin", **headers},
            )
            problem = response.json() if _is_problem(response) else {}
            if (
                response.status_code != 403
                or not str(problem.get("type", "")).endswith("/cross_site")
                or _missing_headers(response)
            ):
                result.problems.append(
                    Refusal(
                        f"{operation.method} {path} {label}",
                        response.status_code,
                        response.text[:200],
                    )
                )
    return result


ANY_PATH_VALUES: dict[type, str] = {
    int: "1",
    datetime.date: "2026-01-05",
    datetime.datetime: "2026-01-05T09:00:00",
    uuid.UUID: "00000000-0000-0000-0000-000000000001",
}
"""A value the router accepts for a typed path parameter (it answers 404 to any other)."""


def _any_path(operation: Operation) -> str:
    path = operation.template
    for name, kind in operation.path_types.items():
        path = path.replace("{" + name + "}", ANY_PATH_VALUES.get(kind, "probe"))
    return path


async def probe_deleting_referenced_rows(
    world: Any,
    client: httpx.AsyncClient,
    *,
    overrides: Mapping[str, str | None] | None = None,
) -> SweepResult:
    """DELETE, on every delete route, a row that other rows still refer to.

    The row is picked deterministically (the lowest key among referenced rows), with the
    route's other path keys taken from that row (``/customers/{customer_id}/holdings/
    {holding_id}``: the holding's own ``customer``). The answer must be a 2xx, or a 4xx
    problem; a refusal for dependents (``has_dependents``) must name the dependent table.
    Changes the data: use a world of its own.
    """
    index = table_index()
    snapshot = await take_snapshot(world.kernel.owner_url, index)
    resolver = ReferenceResolver(index, overrides)
    referenced: dict[str, set[Any]] = {}
    dependents: dict[str, set[str]] = {}
    for table, columns in index.foreign_keys.items():
        dependent_rows = snapshot.tables.get(table)
        if dependent_rows is None:
            continue
        for column, parent in columns.items():
            values = {row.get(column) for row in dependent_rows.rows.values()} - {None}
            if values:
                referenced.setdefault(parent, set()).update(values)
                dependents.setdefault(parent, set()).add(table)
    result = SweepResult()
    for operation in operations(world.app):
        if operation.method != "DELETE" or not operation.path_types:
            continue
        *parents, last = operation.path_types
        try:
            target = resolver.resolve(last, operation, strict=True).table
        except Unmapped:
            target = None
        if target is None or target.name not in snapshot.tables:
            result.unreached.append(operation.label)
            continue
        rows = snapshot.tables[target.name].rows
        keys = sorted(k for k in rows if k in referenced.get(target.name, set()))
        path = _path_for_row(operation, parents, last, rows, keys)
        if path is None:
            result.unreached.append(operation.label)
            continue
        result.checked.append(operation.label)
        response = await client.delete(path)
        problem = response.json() if _is_problem(response) else {}
        # The field is the deleted record's key; the message names the referring table.
        messages = " ".join(str(e.get("message", "")) for e in problem.get("errors", []))
        broken = response.status_code >= 500 or (response.status_code >= 400 and not problem)
        if str(problem.get("type", "")).endswith("/has_dependents") and not any(
            f"rows of {table} " in messages for table in dependents.get(target.name, set())
        ):
            broken = True
        if broken:
            result.problems.append(
                Refusal(f"DELETE {path}", response.status_code, response.text[:200])
            )
    return result


def _path_for_row(
    operation: Operation,
    parents: list[str],
    last: str,
    rows: Mapping[Any, Mapping[str, Any]],
    keys: list[Any],
) -> str | None:
    for key in keys:
        row = rows[key]
        path = operation.template.replace("{" + last + "}", str(key))
        for name in parents:
            stem = name.removesuffix("_id")
            value = row.get(stem, row.get(name))
            if value is None:
                break
            path = path.replace("{" + name + "}", str(value))
        else:
            return path
    return None


__all__ = [
    "TAMPERED_CURSORS",
    "PathFiller",
    "Refusal",
    "SweepResult",
    "path_filler",
    "probe_cross_site_writes",
    "probe_deleting_referenced_rows",
    "probe_hostile_bodies",
    "probe_security_headers",
    "probe_tampered_cursors",
]
