"""One error shape for every failure: RFC 9457 problem details with field-level errors.

``{"type", "title", "status", "detail", "instance", "request_id", "errors": [{"field",
"message"}]}`` served as ``application/problem+json``. Database refusals are mapped here
too: a row-level-security refusal is a 403 (or 404 when the row is simply invisible),
constraint violations are 409/422, and nothing a client sends may produce a 500.

One rule for 400 and 422: **400** when the request cannot be read (JSON or multipart that
does not parse, an undecodable charset, nesting past the limit, a cursor that does not
decode: the client must fix its encoding, not a value); **422** when it was read and a
value in it is missing, of the wrong type or not allowed, wherever it is (body, query,
path or header). A field is named by a JSON pointer into the request: ``/body/customer/phone``,
``/query/limit``, ``/path/customer_id``, ``/header/content-type``. Raise sites may keep the
dotted form (``body.customer.phone``); :func:`json_pointer` turns it into the pointer on
the way out, so every answer uses one form.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException

from bankcrm import messages
from bankcrm.context import current_scope

log = logging.getLogger("bankcrm.web")

PROBLEM_MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Problem(Exception):
    """Raise from handlers and services for a 4xx with a precise explanation."""

    status: int
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    code: str = ""
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return self.detail


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} does not exist or is not visible to you", code="not_found")


def invalid(field_name: str, message: str) -> Problem:
    return Problem(422, f"{field_name}: {message}", [FieldError(field_name, message)], "invalid")


LOCATIONS = ("body", "query", "path", "header", "cookie")
"""Where a field of a request can be: the first token of every field pointer."""

_PARAM_TYPE = re.compile(r"^ParamType\.(\w+)\.(.+)$")
_TOKEN = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def _escaped(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def json_pointer(name: str, request: Request[Any, Any, Any] | None = None) -> str:
    """``name`` as a JSON pointer into the request (RFC 6901 with the location first).

    ``body.customer.phone`` and ``$.customer.phone`` -> ``/body/customer/phone``,
    ``body.items[3]`` -> ``/body/items/3``, ``query.limit`` and ``ParamType.QUERY.limit`` ->
    ``/query/limit``. A bare name is looked up in the request: a path or query parameter of
    that name, otherwise a body field. A pointer is returned as it is.
    """
    if name.startswith("/"):
        return name
    if found := _PARAM_TYPE.match(name):
        name = f"{found[1].lower()}.{found[2]}"
    if name == "$" or name.startswith("$."):
        name = "body" + name[1:]
    if " " in name or not name:
        # Not a path into the request (e.g. "line 3, column date" of an uploaded file).
        return "/body" + ("/" + _escaped(name) if name else "")
    head, _, rest = name.partition(".")
    head, bracket, after = head.partition("[")
    if bracket:
        rest = f"[{after}" + (f".{rest}" if rest else "")
    if head not in LOCATIONS:
        location = "body"
        if request is not None and head in request.path_params:
            location = "path"
        elif request is not None and head in request.query_params:
            location = "query"
        rest = name
        head = location
    tokens = [m[1] if m[1] is not None else m[0] for m in _TOKEN.finditer(rest)]
    return "/" + "/".join([head, *(_escaped(t) for t in tokens)])


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    errors: list[FieldError] | None = None,
    code: str = "",
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    scope = current_scope()
    # Unmatched routes never reach the middleware that assigns request ids.
    request_id = (
        request.scope.get("state", {}).get("request_id")
        or (scope.request_id if scope else "")
        or uuid.uuid4().hex
    )
    # Staff read problems in their language; the type and fields stay machine-readable.
    language = messages.language_of(request.headers, request.cookies)
    body: dict[str, Any] = {
        "type": f"https://bankcrm.dev/problems/{code}" if code else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": messages.translate(detail, language),
        "instance": request.url.path,
        "request_id": request_id,
        "errors": [
            {
                "field": json_pointer(e.field, request),
                "message": messages.translate(e.message, language),
            }
            for e in errors or []
        ],
    }
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$((?:\.[^`.\[]+|\[\d+\])*)`$")


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if isinstance(item, dict):
            source = str(item.get("source") or "body")
            key = str(item.get("key") or "")
            message = str(item.get("message", "invalid value"))
            if source == "body":
                if key == "data":
                    # Litestar names the body parameter itself: the message says where.
                    key = ""
                    if at := _AT_PATH.search(message):
                        key = at[1].lstrip(".")
                        message = message[: at.start()]
                # The decoder names the object; the field it misses or refuses is the place.
                if named := _NAMED_FIELD.search(message):
                    key = f"{key}.{named[1]}" if key else named[1]
            location = f"{source}.{key}" if key else source
            errors.append(FieldError(location, message))
    if not errors:
        # Litestar reports a missing required parameter in its message only.
        missing = _MISSING_PARAMETER.search(str(exc.detail))
        if missing:
            errors.append(FieldError(f"{missing[1]}.{missing[2]}", "required"))
    return errors


_MISSING_PARAMETER = re.compile(r"Missing required (query|header|cookie|path) parameter '([^']+)'")


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    return problem_response(request, exc.status, exc.detail, exc.errors, exc.code, exc.headers)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        # Read, but a value is wrong: 422 (see the module's rule).
        errors = _validation_errors(exc)
        detail = exc.detail
        if errors:
            detail = "; ".join(f"{json_pointer(e.field, request)}: {e.message}" for e in errors)
        return problem_response(request, 422, detail, errors, "invalid")
    status = exc.status_code
    if status == 400 and type(exc) is ClientException:
        # Litestar's JSON decoder: the body does not parse.
        return problem_response(
            request, 400, exc.detail, [FieldError("body", exc.detail)], "malformed"
        )
    if status >= 500:
        return handle_unexpected(request, exc)
    return problem_response(request, status, exc.detail, code="", headers=exc.headers)


_DB_ERRORS: list[tuple[type[Exception], int, str, str]] = [
    (asyncpg.InsufficientPrivilegeError, 403, "forbidden", "that branch is outside your scope"),
    (asyncpg.UniqueViolationError, 409, "conflict", "a record with the same key already exists"),
    (
        asyncpg.ForeignKeyViolationError,
        409,
        "reference",
        "a referenced record is missing or other records still refer to this one",
    ),
    (
        asyncpg.RestrictViolationError,
        409,
        "has_dependents",
        "other records still refer to this one",
    ),
    (asyncpg.CheckViolationError, 422, "invalid", "a value is outside the allowed range"),
    (asyncpg.NotNullViolationError, 422, "invalid", "a required value is missing"),
    (asyncpg.DataError, 422, "invalid", "a value has the wrong format"),
]


_REJECTED_ARGUMENT = re.compile(r"query argument \$\d+: (.*) \(")


def _rejected_inputs(
    request: Request[Any, Any, Any], exc: Exception, message: str
) -> list[FieldError]:
    """The inputs a data error came from: the value asyncpg quotes (e.g. an id beyond the
    column's range) or a NUL character, which PostgreSQL text cannot hold."""
    quoted = _REJECTED_ARGUMENT.search(str(exc))
    found = []
    for source, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            text = str(value)
            if "\x00" in text or (quoted is not None and text == quoted.group(1)):
                found.append(FieldError(f"{source}.{name}", message))
    if not found and request.method in {"POST", "PUT", "PATCH"}:
        found.append(FieldError("body", message))
    return found


_STILL_REFERENCED = re.compile(r'is still referenced from table "([^"]+)"')
_NOT_PRESENT = re.compile(r'Key \(([^)]+)\)=\(.*\) is not present in table "([^"]+)"')


def reference_problem(exc: asyncpg.PostgresError, record: str = "path") -> Problem | None:
    """A foreign-key refusal as the client can act on it: a 409 naming the tables whose
    rows still refer to the record (deleting it would orphan them; the field is
    ``record``, the request's key of it), or a 422 naming the field that refers to a
    missing record."""
    detail = str(getattr(exc, "detail", "") or "")
    dependent = _STILL_REFERENCED.search(detail)
    if isinstance(exc, asyncpg.RestrictViolationError) or dependent:
        table = dependent.group(1) if dependent else str(getattr(exc, "table_name", "") or "")
        return Problem(
            409,
            f"rows of {table or 'another table'} still refer to this record: remove them"
            " first, or change its status instead of deleting it",
            [FieldError(record, f"rows of {table} refer to this record")] if table else [],
            "has_dependents",
        )
    if missing := _NOT_PRESENT.search(detail):
        column, table = missing.groups()
        return Problem(
            422,
            f"{column}: refers to a record of {table} that does not exist",
            [FieldError(f"body.{column}", f"no such record in {table}")],
            "invalid",
        )
    return None


def handle_database(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, asyncpg.ForeignKeyViolationError | asyncpg.RestrictViolationError):
        keys = list(request.path_params)
        problem = reference_problem(exc, f"path.{keys[-1]}" if keys else "path")
        if problem is not None:
            return handle_problem(request, problem)
    for error_type, status, code, detail in _DB_ERRORS:
        if isinstance(exc, error_type):
            column = getattr(exc, "column_name", None) or getattr(exc, "constraint_name", None)
            errors = [FieldError(str(column), detail)] if column else []
            if not errors and isinstance(exc, asyncpg.DataError):
                errors = _rejected_inputs(request, exc, detail)
            return problem_response(request, status, detail, errors, code)
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return problem_response(
        request, 500, "an unexpected error occurred; quote the request id to support", code=""
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    Problem: handle_problem,
    HTTPException: handle_http,
    asyncpg.PostgresError: handle_database,
    Exception: handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "FieldError",
    "MediaType",
    "Problem",
    "invalid",
    "json_pointer",
    "not_found",
    "reference_problem",
]
