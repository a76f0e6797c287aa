"""One error shape for every failure: RFC 9457 problem details with field-level errors.

``{"type", "title", "status", "detail", "instance", "request_id", "errors": [{"field",
"message"}]}`` served as ``application/problem+json``. Database refusals are mapped here
too: a row-level-security refusal is a 403 (or 404 when the row is simply invisible),
constraint violations are 409/422, and nothing a client sends may produce a 500.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

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
            {"field": e.field, "message": messages.translate(e.message, language)}
            for e in errors or []
        ],
    }
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if isinstance(item, dict):
            source = item.get("source") or "body"
            key = item.get("key") or ""
            location = f"{source}.{key}" if key else str(source)
            errors.append(FieldError(location, str(item.get("message", "invalid value"))))
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
        errors = _validation_errors(exc)
        detail = exc.detail
        if errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return problem_response(request, 400, detail, errors, "validation")
    status = exc.status_code
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
    (asyncpg.DataError, 400, "invalid", "a value has the wrong format"),
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


def reference_problem(exc: asyncpg.PostgresError) -> Problem | None:
    """A foreign-key refusal as the client can act on it: a 409 naming the tables whose
    rows still refer to the record (deleting it would orphan them), or a 422 naming the
    field that refers to a missing record."""
    detail = str(getattr(exc, "detail", "") or "")
    if isinstance(exc, asyncpg.RestrictViolationError) or (
        dependent := _STILL_REFERENCED.search(detail)
    ):
        table = dependent.group(1) if dependent else str(getattr(exc, "table_name", "") or "")
        return Problem(
            409,
            f"rows of {table or 'another table'} still refer to this record: remove them"
            " first, or change its status instead of deleting it",
            [FieldError(table, "rows refer to this record")] if table else [],
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
        problem = reference_problem(exc)
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
    "not_found",
    "reference_problem",
]
