"""Keyset pagination: opaque cursors over a sort key plus the primary key."""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Generic, TypeVar

import msgspec

from bankcrm.web.problems import FieldError, Problem, invalid

T = TypeVar("T")

MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None
    """Pass as ``cursor`` to get the next page; null on the last page."""


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CursorValue = int | float | str
_INT64 = 2**63


def _of_type(value: object, kind: type[CursorValue]) -> bool:
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int) and -_INT64 <= value < _INT64
    if kind is float:
        return isinstance(value, int | float) and math.isfinite(value) and abs(value) < _INT64
    return isinstance(value, kind)


def decode_cursor(
    cursor: str | None, types: tuple[type[CursorValue], ...], parameter: str = "query.cursor"
) -> list[Any] | None:
    """The keys a cursor of :func:`encode_cursor` carries, checked against ``types``.

    Every paginated route decodes its cursor here, so a tampered cursor (not base64, not
    JSON, another length, a value of another type or beyond a 64-bit column) is always a
    400 ``invalid_cursor`` naming the parameter, never an error deeper down. A 400 like a
    query parameter of the wrong type: a cursor is opaque, so a bad one is a malformed
    request, not a value the client chose.
    """
    if not cursor:
        return None
    refused = Problem(
        400,
        f"{parameter}: not a cursor returned by this API; start again without one",
        [FieldError(parameter, "not a cursor returned by this API")],
        "invalid_cursor",
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError) as exc:
        raise refused from exc
    if not isinstance(values, list) or len(values) != len(types):
        raise refused
    if not all(_of_type(v, t) for v, t in zip(values, types, strict=True)):
        raise refused
    return values


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise invalid("query.limit", f"must be between 1 and {MAX_LIMIT}")
    return limit
