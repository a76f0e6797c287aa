"""Keyset pagination: opaque cursors over a sort key plus the primary key."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

import msgspec

from bankcrm.web.problems import invalid

T = TypeVar("T")

MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None
    """Pass as ``cursor`` to get the next page; null on the last page."""


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise invalid("query.cursor", "not a cursor returned by this API") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise invalid("query.cursor", "not a cursor returned by this API")
    return values


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise invalid("query.limit", f"must be between 1 and {MAX_LIMIT}")
    return limit
