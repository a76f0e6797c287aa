"""The OpenAPI description, completed from what the kernel does around every handler.

Litestar describes each handler's parameters, JSON body and success answer. Everything
the kernel adds around the handlers it cannot see: the guards (401, 403, 404 for a plugin
not enabled), the body gate (400, 413, 415, 422), the problem shape of every error, the
session cookie and bearer token, multipart bodies (handlers of uploads read the stream
themselves), the ``Location`` of a ``201``. :func:`complete` writes these into the
generated description once, when the app is built, for the kernel's routes and every
plugin's alike: a plugin's routes are described correctly without code of its own.

What a handler may declare in ``opt`` for its description:

* ``"body": "multipart"`` and ``"form": SomeStruct`` — the parts of the upload (a
  ``bytes`` field is a file part); without ``form`` the one part ``file``;
* ``"problems": (409, 429)`` — statuses beyond those derived from its shape;
* ``"auth": "session"`` — staff sessions only (API tokens are refused);
* ``"media_types": ("text/csv", XLSX)`` — the success answer's types when the handler
  chooses among several;
* ``"location": "/api/v1/<plugin>/things/{id}"`` — where a ``201`` answer's resource
  lives, when it is not the request path plus the answer's ``id``.

The contract test (``tests/test_api_contract.py``) sends requests to every route and
validates each answer against this description: a status, header or body it does not
document fails the test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from bankcrm.web.problems import PROBLEM_MEDIA_TYPE, TITLES

SESSION_SCHEME = "session"
BEARER_SCHEME = "bearer"
SESSION_COOKIE = "id"
UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})
PROBLEM_SCHEMA_NAME = "Problem"
FIELD_ERROR_SCHEMA_NAME = "FieldError"

STATUS_DESCRIPTIONS = {
    400: "The request cannot be read: JSON or multipart that does not parse, an undecodable"
    " charset, nesting deeper than 32 levels, or a cursor that does not decode. Fix the"
    " encoding, not a value.",
    401: "No valid session cookie or bearer token.",
    403: "The caller lacks the permission, the credential holds more than the caller, or a"
    " write with the session cookie came from another site.",
    404: "The record does not exist or is not visible to the caller (another branch's rows"
    " answer the same), or the plugin is not enabled for the caller's branch.",
    409: "The request conflicts with the record's state or another record (a duplicate"
    " key, rows still referring to it, a state that does not allow the action).",
    413: "The body is larger than the route accepts.",
    415: "The body is not of a media type or charset the route accepts.",
    422: "The request was read, but a value is missing, of the wrong type or not allowed;"
    " `errors` names each with a JSON pointer (`/body/customer/phone`, `/query/limit`).",
    429: "Too many attempts; wait for `Retry-After` seconds.",
    503: "A service the answer needs is unavailable.",
}


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """``datetime.time`` as the ``HH:MM:SS`` it is sent as. Litestar calls it a duration;
    JSON Schema's ``time`` format demands an offset, which a branch's opening hour has not."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is dt.time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(
            type=cast(Any, "string"),
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            description="A local time of day, HH:MM[:SS].",
        )


def problem_schemas() -> dict[str, Schema]:
    """The problem body of every error answer (``bankcrm.web.problems.problem_response``)."""
    field_error = Schema(
        type=cast(Any, "object"),
        required=["field", "message"],
        properties={
            "field": Schema(
                type=cast(Any, "string"),
                description="A JSON pointer into the request: its first token is where"
                " (body, query, path, header, cookie).",
                examples=["/body/customer/phone", "/query/limit"],
            ),
            "message": Schema(type=cast(Any, "string")),
        },
        additional_properties=False,
    )
    problem = Schema(
        type=cast(Any, "object"),
        description="RFC 9457 problem details with field-level errors.",
        required=["type", "title", "status", "detail", "instance", "request_id", "errors"],
        properties={
            "type": Schema(
                type=cast(Any, "string"),
                description="`about:blank` or https://bankcrm.dev/problems/<code>; stable"
                " for clients to branch on.",
            ),
            "title": Schema(type=cast(Any, "string")),
            "status": Schema(type=cast(Any, "integer")),
            "detail": Schema(
                type=cast(Any, "string"),
                description="For people, in the request's language (Accept-Language).",
            ),
            "instance": Schema(type=cast(Any, "string"), description="The request path."),
            "request_id": Schema(type=cast(Any, "string")),
            "errors": Schema(
                type=cast(Any, "array"),
                items=cast(Any, {"$ref": f"#/components/schemas/{FIELD_ERROR_SCHEMA_NAME}"}),
            ),
        },
        additional_properties=False,
    )
    return {PROBLEM_SCHEMA_NAME: problem, FIELD_ERROR_SCHEMA_NAME: field_error}


def security_schemes() -> dict[str, SecurityScheme]:
    return {
        SESSION_SCHEME: SecurityScheme(
            type="apiKey",
            security_scheme_in="cookie",
            name=SESSION_COOKIE,
            description="A staff session: `POST /api/v1/auth/login` sets the cookie `id`"
            " (shared with the admin). Writes with the cookie must come from this site"
            " (`Sec-Fetch-Site`/`Origin`).",
        ),
        BEARER_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="bcrm_<id>_<secret> or bcat_<id>_<secret>",
            description="An API client's token (`/api/v1/api-clients`), bound to its"
            " branches and permissions, or a short-lived OAuth access token"
            " (`POST /oauth/token`) acting as that client within its scopes.",
        ),
    }


def _problem_response(status: int) -> OpenAPIResponse:
    headers: dict[str, Any] | None = None
    if status == 429:
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=cast(Any, "string")),
                description="Seconds to wait before trying again.",
                required=True,
            )
        }
    return OpenAPIResponse(
        description=STATUS_DESCRIPTIONS.get(status, TITLES.get(status, "Error")),
        headers=headers,
        content={
            PROBLEM_MEDIA_TYPE: OpenAPIMediaType(
                schema=cast(Any, {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"})
            )
        },
    )


def form_schema(form: type | None) -> dict[str, Any]:
    """The ``multipart/form-data`` schema of an upload's parts: a ``bytes`` field of
    ``form`` is a file part; without ``form``, the one required part ``file``."""
    if form is None:
        return {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }
    (reference,), definitions = msgspec.json.schema_components([form])
    name = str(reference["$ref"]).rsplit("/", 1)[-1]
    schema: dict[str, Any] = {**definitions[name], "title": name}
    properties = {}
    for field_name, field_schema in schema.get("properties", {}).items():
        if field_schema.get("contentEncoding") == "base64":
            field_schema = {
                **{k: v for k, v in field_schema.items() if k != "contentEncoding"},
                "format": "binary",
            }
        properties[field_name] = field_schema
    schema["properties"] = properties
    return schema


def _parameters(operation: Operation, location: str) -> list[str]:
    return [
        str(getattr(p, "name", ""))
        for p in operation.parameters or []
        if getattr(p, "param_in", None) == location
    ]


def statuses(method: str, operation: Operation, opt: Mapping[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from its shape and what the kernel does
    around it; ``opt["problems"]`` adds what only the handler knows."""
    found: set[int] = set(opt.get("problems", ()))
    public = bool(opt.get("public"))
    if not public:
        found |= {401, 403}
    if opt.get("plugin") or opt.get("credential"):
        found.add(404)
    path_parameters = _parameters(operation, "path")
    query_parameters = _parameters(operation, "query")
    if path_parameters:
        found |= {404, 422}
    if query_parameters:
        found.add(422)
    if "cursor" in query_parameters:
        found.add(400)
    if method in UNSAFE_METHODS:
        # The body gate reads every unsafe request; writes meet the database's constraints.
        found |= {400, 409, 413, 415, 422}
    return found


def _success_media_types(operation: Operation, media_types: Iterable[str]) -> None:
    """Describe a success answer served in several media types (e.g. csv and xlsx)."""
    for status, response in (operation.responses or {}).items():
        if not status.startswith("2") or not isinstance(response, OpenAPIResponse):
            continue
        template = next(iter((response.content or {}).values()), None)
        schema = template.schema if template is not None else None
        if schema is None:
            schema = Schema(type=cast(Any, "string"), format=cast(Any, "binary"))
        response.content = {kind: OpenAPIMediaType(schema=schema) for kind in media_types}


def _success_answers(operation: Operation) -> None:
    """What Litestar gets wrong in success answers: a 204 has no content; a file is
    ``format: binary``; ``Last-Modified`` of a file is an HTTP date, not an RFC 3339
    date-time."""
    for status, response in (operation.responses or {}).items():
        if not isinstance(response, OpenAPIResponse):
            continue
        if status == "204":
            response.content = None
        for media_type, content in (response.content or {}).items():
            if "json" not in media_type:
                # A file: what generators and validators understand as bytes.
                content.schema = Schema(type=cast(Any, "string"), format=cast(Any, "binary"))
        for name, header in (response.headers or {}).items():
            if name.lower() == "last-modified" and isinstance(header, OpenAPIHeader):
                header.schema = Schema(type=cast(Any, "string"))
                header.description = "An HTTP date (RFC 9110), e.g. Fri, 04 Dec 2026 09:00:00 GMT"


def _created_location(operation: Operation) -> None:
    created = (operation.responses or {}).get("201")
    if isinstance(created, OpenAPIResponse):
        created.headers = {
            **(created.headers or {}),
            "Location": OpenAPIHeader(
                schema=Schema(type=cast(Any, "string"), format=cast(Any, "uri-reference")),
                description="The created resource.",
                required=True,
            ),
        }
    accepted = (operation.responses or {}).get("202")
    if isinstance(accepted, OpenAPIResponse):
        accepted.headers = {
            **(accepted.headers or {}),
            "Location": OpenAPIHeader(
                schema=Schema(type=cast(Any, "string"), format=cast(Any, "uri-reference")),
                description="Where to follow the accepted work, when the route names it.",
                required=False,
            ),
        }


def _describe_permission(operation: Operation, opt: Mapping[str, Any]) -> None:
    permission = opt.get("permission")
    if opt.get("public"):
        note = "Public: no credential needed."
    elif permission in (None, "authenticated"):
        note = "Any authenticated caller."
    else:
        note = f"Permission: `{permission}`."
    if opt.get("auth") == SESSION_SCHEME:
        note += " Staff sessions only."
    description = (operation.description or "").rstrip()
    operation.description = f"{description}\n\n{note}" if description else note


def complete_operation(
    method: str, operation: Operation, opt: Mapping[str, Any], path: str
) -> None:
    """Write the kernel's part into one generated operation."""
    responses = dict(operation.responses or {})
    # Litestar documents its own validation shape under 400: the kernel never answers it.
    responses.pop("400", None)
    for status in sorted(statuses(method, operation, opt)):
        responses[str(status)] = _problem_response(status)
    operation.responses = cast(Any, responses)
    if opt.get("public"):
        operation.security = []
    elif opt.get("auth") == SESSION_SCHEME:
        operation.security = [cast(SecurityRequirement, {SESSION_SCHEME: []})]
    else:
        operation.security = [
            cast(SecurityRequirement, {SESSION_SCHEME: []}),
            cast(SecurityRequirement, {BEARER_SCHEME: []}),
        ]
    if opt.get("body") == "form":
        operation.request_body = RequestBody(
            content={
                "application/x-www-form-urlencoded": OpenAPIMediaType(
                    schema=cast(Any, form_schema(opt.get("form")))
                )
            },
            required=True,
        )
    if opt.get("body") == "multipart":
        operation.request_body = RequestBody(
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=cast(Any, form_schema(opt.get("form")))
                )
            },
            required=True,
        )
    if media_types := opt.get("media_types"):
        _success_media_types(operation, media_types)
    _success_answers(operation)
    _created_location(operation)
    _describe_permission(operation, opt)


def _distinct_titles(schemas: dict[str, Schema]) -> None:
    """Two structs of one name in different modules (two ``RuleOut``) get distinct
    component names but the same ``title``, and client generators name their models by
    title: such a title becomes the component's name."""
    seen: dict[str, int] = {}
    for schema in schemas.values():
        if schema.title:
            seen[schema.title] = seen.get(schema.title, 0) + 1
    for name, schema in schemas.items():
        if schema.title and seen[schema.title] > 1:
            schema.title = name


_PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _operations(app: Litestar) -> Iterable[tuple[str, str, Any]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        template = _PATH_PARAMETER.sub(r"{\1}", route.path)
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                yield template, method.lower(), handler


def complete(app: Litestar) -> OpenAPI:
    """Complete ``app``'s generated description in place (it is built once and cached)."""
    openapi = app.openapi_schema
    components = openapi.components
    if isinstance(components, list):  # pragma: no cover - Litestar allows a list
        raise TypeError("one Components object expected")
    components.schemas = {**components.schemas, **problem_schemas()}
    _distinct_titles(components.schemas)
    components.security_schemes = {**(components.security_schemes or {}), **security_schemes()}
    for template, method, handler in _operations(app):
        path_item = (openapi.paths or {}).get(template)
        operation = getattr(path_item, method, None) if path_item is not None else None
        if isinstance(operation, Operation):
            complete_operation(method, operation, handler.opt, template)
    return openapi


__all__ = [
    "TimeOfDaySchema",
    "complete",
    "form_schema",
    "problem_schemas",
    "security_schemes",
    "statuses",
]
