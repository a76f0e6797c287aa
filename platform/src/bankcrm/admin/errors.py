"""Errors across piccolo-admin, in both directions.

Into it: the write hooks refuse with Starlette's ``HTTPException`` (:func:`refusal`), which
piccolo-admin's app turns into a plain 4xx. Out of it: every error it answers, and every
:class:`~bankcrm.web.problems.Problem` the gate raises, leaves as a problem document
(``application/problem+json``); a 422 also carries ``db_error``, the member piccolo-admin's
form shows.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.exceptions import HTTPException

from bankcrm.admin.exchange import Captured, Request, send_json
from bankcrm.context import current_scope
from bankcrm.web.problems import PROBLEM_MEDIA_TYPE, TITLES, FieldError, Problem, json_pointer

log = logging.getLogger(__name__)


def refusal(status: int, detail: str) -> HTTPException:
    """What a write hook raises: piccolo-admin answers it as ``status`` with ``detail``."""
    return HTTPException(status_code=status, detail=detail)


def as_problem(captured: Captured) -> Problem:
    """piccolo-admin's error (text, ``{"detail"}``, ``{"db_error"}``) as a Problem."""
    status = captured.status
    text = bytes(captured.body).decode("utf-8", "replace")
    detail, errors = text, []
    if captured.header(b"content-type").startswith("application/json"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            found = data.get("db_error") or data.get("detail") or data.get("error")
            if isinstance(found, list):
                errors = [
                    FieldError(".".join(str(p) for p in e.get("loc", [])), str(e.get("msg")))
                    for e in found
                    if isinstance(e, dict)
                ]
                found = "; ".join(f"{e.field}: {e.message}" for e in errors)
            if found:
                detail = str(found)
    if status >= 500:
        log.error("piccolo-admin failed", extra={"status": status, "detail": detail[:500]})
        detail = "an unexpected error occurred; quote the request id to support"
    return Problem(status, detail or TITLES.get(status, "Error"), errors)


async def send_problem(request: Request, problem: Problem, mount_path: str) -> None:
    scope = current_scope()
    state = request.scope.get("state", {})
    body: dict[str, Any] = {
        "type": f"https://bankcrm.dev/problems/{problem.code}" if problem.code else "about:blank",
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "instance": mount_path + request.scope["path"],
        "request_id": state.get("request_id")
        or (scope.request_id if scope else "")
        or uuid.uuid4().hex,
        # The admin names fields as the REST API does: JSON pointers into the request.
        "errors": [{"field": json_pointer(e.field), "message": e.message} for e in problem.errors],
    }
    if problem.status == 422:
        body["db_error"] = problem.detail
    headers = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in (problem.headers or {}).items()
    ]
    await send_json(request.send, problem.status, body, headers, content_type=PROBLEM_MEDIA_TYPE)
