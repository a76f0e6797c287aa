"""The API's real answers validated against its OpenAPI description.

:class:`ContractValidator` checks one exchange with schemathesis' conformance checks
(status documented, content type documented, documented headers present and valid, body
valid against the response schema), plus the kernel's own promises: every error field is
a JSON pointer into the request, and a ``201``'s ``Location`` names a route of the app.

:func:`exercise_every_route` sends every operation of the app (kernel and plugins alike)
a request built from its own description, with keys of rows the actor can see (found by
the same naming rules as the isolation probes), then the same operation without a
credential and, for JSON bodies, with a body that does not parse and one of the wrong
shape. Each answer is validated; the report says which operations were seen to succeed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from litestar import Litestar
from litestar.routes import HTTPRoute
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bankcrm_sdk.route_probe import (
    NO_VALUE,
    Operation,
    ReferenceResolver,
    ReferenceValues,
    coerce_to_schema,
    minimal_instance,
    operations,
    resolve_ref,
)

CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LOCATIONS = ("body", "query", "path", "header", "cookie")
PROBE_FILE = "姓名,手机号\n契约探针,13800000000\n".encode()
_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Exchange:
    """One request the validator judged and what it answered."""

    label: str
    request: str
    status: int


@dataclass
class ContractReport:
    exchanges: list[Exchange] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def statuses(self) -> dict[str, set[int]]:
        seen: dict[str, set[int]] = defaultdict(set)
        for exchange in self.exchanges:
            seen[exchange.label].add(exchange.status)
        return seen

    def succeeded(self) -> set[str]:
        return {label for label, found in self.statuses().items() if any(s < 300 for s in found)}


def _route_patterns(app: Litestar) -> list[re.Pattern[str]]:
    patterns = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            pieces = _PARAMETER.split(route.path)
            # split() interleaves the literal pieces with the parameters' names.
            pattern = "".join(
                re.escape(piece) if i % 2 == 0 else "[^/]+" for i, piece in enumerate(pieces)
            )
            patterns.append(re.compile("^" + pattern.rstrip("/") + "/?$"))
    return patterns


class ContractValidator:
    """Validates exchanges with ``app`` against its own published description."""

    def __init__(self, raw_spec: Mapping[str, Any], app: Litestar) -> None:
        self.spec = raw_spec
        self.schema = schemathesis.openapi.from_dict(dict(raw_spec))
        self.routes = _route_patterns(app)

    def documented(self, method: str, template: str) -> bool:
        return method.lower() in self.spec.get("paths", {}).get(template, {})

    def validate(
        self,
        method: str,
        template: str,
        response: httpx.Response,
        *,
        path_parameters: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        media_type: str | None = None,
    ) -> list[str]:
        """What in ``response`` the description does not admit (empty: conforms)."""
        label = f"{method.upper()} {template}"
        if not self.documented(method, template):
            return [f"{label}: the operation is not in the description"]
        operation = self.schema[template][method.upper()]
        case = operation.Case(
            path_parameters=dict(path_parameters or {}),
            query=dict(query or {}),
            body=NOT_SET if media_type is None else body,
            media_type=media_type,
        )
        problems: list[str] = []
        try:
            case.validate_response(response, checks=list(CONFORMANCE_CHECKS))
        except FailureGroup as group:
            problems.extend(_failure_text(f) for f in group.exceptions)
        except Failure as failure:
            problems.append(_failure_text(failure))
        problems.extend(self._kernel_promises(response))
        request = f"{response.request.method} {response.request.url.raw_path.decode()}"
        return [f"{label}: {request} -> {response.status_code}: {p}" for p in problems]

    def _kernel_promises(self, response: httpx.Response) -> list[str]:
        problems = []
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            try:
                payload = response.json()
            except ValueError:
                payload = None
            errors = payload.get("errors") if isinstance(payload, dict) else None
            for error in errors or []:
                name = str(error.get("field", "")) if isinstance(error, dict) else ""
                if not name.startswith("/") or name.split("/")[1] not in LOCATIONS:
                    problems.append(f"field {name!r} is not a JSON pointer into the request")
        if response.status_code == 201:
            location = response.headers.get("location", "")
            path = httpx.URL(location).path if location else ""
            if not any(pattern.match(path) for pattern in self.routes):
                problems.append(f"Location {location!r} names no route of the app")
        return problems


def _failure_text(failure: Failure) -> str:
    text = f"{failure.title}: {failure.message}"
    return text if len(text) < 600 else text[:600] + " …"


# --- requests built from the description ---------------------------------------------------


DEFAULT_PATH_VALUES: dict[str, Any] = {
    "year": dt.date.today().year,
    "month": dt.date.today().month,
    "day": dt.date.today().isoformat(),
}


@dataclass
class Request:
    operation: Operation
    path_parameters: dict[str, Any]
    query: dict[str, Any]
    body: Any = None
    media_type: str | None = None

    @property
    def path(self) -> str:
        path = self.operation.template
        for name, value in self.path_parameters.items():
            path = path.replace("{" + name + "}", str(value))
        return path


class RequestBuilder:
    """Requests that the description admits, about rows the actor can see."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        resolver: ReferenceResolver,
        values: ReferenceValues,
        path_values: Mapping[str, Any],
        body_values: Mapping[str, Any] | None = None,
    ) -> None:
        self.components: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
        self.resolver = resolver
        self.values = values
        self.path_values = {**DEFAULT_PATH_VALUES, **path_values}
        self.body_values = dict(body_values or {})
        """Body fields given fixed values (e.g. ``enabled: true``, so that the probe does
        not switch off the plugin whose routes it is about to send)."""

    def _own(self, name: str, operation: Operation, schema: Mapping[str, Any]) -> Any:
        reference = self.resolver.resolve(name, operation, strict=False)
        for candidate in self.values.own(reference):
            value = coerce_to_schema(candidate, schema, self.components)
            if value is not NO_VALUE:
                return value
        return NO_VALUE

    def build(self, operation: Operation) -> Request:
        path_parameters: dict[str, Any] = {}
        for parameter in operation.parameters("path"):
            name = parameter["name"]
            value = self._own(name, operation, {"type": "string"})
            if value is NO_VALUE:
                value = self.path_values.get(name)
            if value is None:
                value = minimal_instance(parameter.get("schema", {}), self.components)
            path_parameters[name] = value
        query = {
            p["name"]: minimal_instance(p.get("schema", {}), self.components)
            for p in operation.parameters("query")
            if p.get("required")
        }
        request = Request(operation, path_parameters, query)
        content = (operation.spec or {}).get("requestBody", {}).get("content", {})
        if "application/json" in content:

            def substitute(name: str, sub: Mapping[str, Any]) -> Any:
                if name in self.body_values:
                    return self.body_values[name]
                return self._own(name, operation, sub)

            schema = content["application/json"].get("schema", {})
            request.body = minimal_instance(schema, self.components, substitute)
            request.media_type = "application/json"
        elif "multipart/form-data" in content:
            schema = resolve_ref(content["multipart/form-data"].get("schema", {}), self.components)
            form: dict[str, Any] = {}
            for name, sub in schema.get("properties", {}).items():
                if sub.get("format") == "binary":
                    form[name] = PROBE_FILE
                elif name in schema.get("required", []):
                    form[name] = minimal_instance(sub, self.components)
            request.body = form
            request.media_type = "multipart/form-data"
        return request


async def send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": request.query}
    if request.media_type == "application/json":
        kwargs["json"] = request.body
    elif request.media_type == "multipart/form-data":
        files = {
            k: ("probe.csv", v, "text/csv") for k, v in request.body.items() if isinstance(v, bytes)
        }
        data = {k: str(v) for k, v in request.body.items() if not isinstance(v, bytes)}
        kwargs["files"] = files
        kwargs["data"] = data
    response = await client.request(request.operation.method, request.path, **kwargs)
    await response.request.aread()  # the validator reads what was sent (uploads stream)
    return response


_ORDER = {"GET": 0, "PATCH": 1, "PUT": 2, "POST": 3, "DELETE": 4}
"""Reads first, then changes of existing rows (before merges retire customers), then
creations and actions, deletes last."""


async def exercise_every_route(
    app: Litestar,
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    builder: RequestBuilder,
    validator: ContractValidator,
    *,
    after_call: Callable[[Operation, httpx.Response], Awaitable[None]] | None = None,
) -> ContractReport:
    """Send every API operation of ``app`` (reads first, deletes last: see _ORDER) and validate each
    answer; ``after_call`` may restore the actor (e.g. log in again after the logout)."""
    report = ContractReport()

    def judge(operation: Operation, request: Request, response: httpx.Response) -> None:
        report.exchanges.append(
            Exchange(operation.label, f"{operation.method} {request.path}", response.status_code)
        )
        report.failures.extend(
            validator.validate(
                operation.method,
                operation.template,
                response,
                path_parameters=request.path_parameters,
                query=request.query,
                body=request.body,
                media_type=request.media_type,
            )
        )

    every = sorted(
        operations(app, public=True), key=lambda o: (_ORDER.get(o.method, 9), o.template)
    )
    for operation in every:
        request = builder.build(operation)
        judge(operation, request, await send(anonymous, request))
        if request.media_type == "application/json":
            malformed = await client.request(
                operation.method,
                request.path,
                params=request.query,
                content=b'{"unfinished": ',
                headers={"content-type": "application/json"},
            )
            judge(operation, request, malformed)
            wrong_shape = await client.request(
                operation.method, request.path, params=request.query, json=[[]]
            )
            judge(operation, request, wrong_shape)
        response = await send(client, request)
        judge(operation, request, response)
        if after_call is not None:
            await after_call(operation, response)
    return report


def describe(report: ContractReport) -> str:
    """The operations never seen to succeed, with what they answered."""
    succeeded = report.succeeded()
    lines = [
        f"{label}: {sorted(found)}"
        for label, found in sorted(report.statuses().items())
        if label not in succeeded
    ]
    return f"{len(succeeded)} of {len(report.statuses())} succeeded; never:\n" + "\n".join(lines)
