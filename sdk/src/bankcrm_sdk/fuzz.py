"""Bad input over the whole OpenAPI description, with schemathesis.

Every operation of ``/schema/openapi.json`` gets schema-conforming and schema-violating
requests (schemathesis' positive and negative modes), sent through the caller's client so
they run on the caller's event loop with its session. Hypothesis drives generation from a
worker thread; each request is sent back on the loop (the kernel's connection pool
belongs to it).

What every answer must satisfy: no 5xx; every 4xx is ``application/problem+json`` with a
``detail``; a validation error (400 "validation" or 422 "invalid") names the fields in
``errors``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

PROBLEM_MEDIA_TYPE = "application/problem+json"
VALIDATION_TYPES = ("/validation", "/invalid")
POINTER_LOCATIONS = ("/body", "/query/", "/path", "/header/", "/cookie/")
SCHEMA_PATH = "/schema/openapi.json"
BASE_URL = "http://testserver"
DEFAULT_EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 10}


@dataclass(frozen=True)
class FuzzFailure:
    operation: str
    request: str
    status: int
    problem: str
    body: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.request} -> {self.status}: {self.problem}\n  {self.body}"


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[FuzzFailure] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    unsendable: int = 0
    """Generated requests the HTTP client itself refuses to send (e.g. invalid headers)."""


def answer_problems(response: httpx.Response) -> list[str]:
    """How ``response`` breaks the error contract (empty when it keeps it)."""
    status = response.status_code
    if status >= 500:
        return ["server error"]
    if status < 400:
        return []
    problems = []
    if not response.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE):
        problems.append(f"content type {response.headers.get('content-type')!r}")
    try:
        body = response.json()
    except ValueError:
        return [*problems, "body is not JSON"]
    if not isinstance(body, dict):
        return [*problems, "body is not a problem object"]
    if not isinstance(body.get("detail"), str) or not body["detail"]:
        problems.append("no detail")
    if body.get("status") != status:
        problems.append(f"status field {body.get('status')!r}")
    if str(body.get("type", "")).endswith(VALIDATION_TYPES):
        errors = body.get("errors")
        if not isinstance(errors, list) or not errors:
            problems.append("a validation error without field errors")
        elif not all(isinstance(e, dict) and e.get("field") and e.get("message") for e in errors):
            problems.append(f"field errors without field or message: {errors}")
    for error in body.get("errors") or []:
        name = str(error.get("field", "")) if isinstance(error, dict) else ""
        if not name.startswith(POINTER_LOCATIONS):
            problems.append(f"field {name!r} is not a JSON pointer into the request")
    return problems


def _request_kwargs(case: Any) -> dict[str, Any]:
    prepared = case.as_transport_kwargs(base_url=BASE_URL)
    kwargs: dict[str, Any] = {
        "method": prepared["method"],
        "url": prepared["url"],
        "headers": prepared.get("headers") or {},
        "params": prepared.get("params") or None,
    }
    if prepared.get("files"):
        # Encoded here rather than by httpx: a generated part may be a number or null, which
        # httpx's multipart encoder fails on inside the transport (reported as the server's
        # 500); urllib3's encoder sends it as text, as a real client would.
        encoded = requests.PreparedRequest()
        encoded.prepare_headers({})
        data = prepared.get("data")
        encoded.prepare_body(data if isinstance(data, dict) else None, prepared["files"])
        kwargs["content"] = encoded.body
        kwargs["headers"] = {**kwargs["headers"], "Content-Type": encoded.headers["Content-Type"]}
    elif "json" in prepared:
        kwargs["json"] = prepared["json"]
    elif "data" in prepared:
        data = prepared["data"]
        if isinstance(data, dict):
            kwargs["data"] = data
        else:
            kwargs["content"] = data
    return kwargs


async def fuzz_openapi(
    client: httpx.AsyncClient,
    *,
    examples: Mapping[GenerationMode, int] | None = None,
    random_seed: int = 20261124,
    after_call: Callable[[str, httpx.Response], Awaitable[None]] | None = None,
) -> FuzzReport:
    """Fuzz every operation as the actor behind ``client``.

    ``examples``: how many requests per operation each generation mode makes (default 5
    conforming and 10 violating the schema: bad input is the point).

    ``after_call(operation_label, response)`` runs after each request, e.g. to log in again
    after the logout operation was exercised.
    """
    raw = (await client.get(SCHEMA_PATH)).json()
    schema = schemathesis.openapi.from_dict(raw)
    loop = asyncio.get_running_loop()
    report = FuzzReport()
    budget = dict(examples or DEFAULT_EXAMPLES)

    async def send(label: str, kwargs: dict[str, Any]) -> httpx.Response:
        response = await client.request(**kwargs)
        if after_call is not None:
            await after_call(label, response)
        return response

    def exercise(operation: Any, mode: GenerationMode, max_examples: int) -> None:
        label = f"{operation.method.upper()} {operation.path}"

        @seed(random_seed)
        @settings(
            max_examples=max_examples,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            try:
                kwargs = _request_kwargs(case)
                future = asyncio.run_coroutine_threadsafe(send(label, kwargs), loop)
                response = future.result()
            except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
                report.unsendable += 1
                return
            report.calls[label] += 1
            report.statuses[response.status_code] += 1
            for problem in answer_problems(response):
                report.failures.append(
                    FuzzFailure(
                        label,
                        f"{kwargs['method']} {response.request.url}",
                        response.status_code,
                        problem,
                        response.text[:300],
                    )
                )

        try:
            run()
        except Unsatisfiable:
            # Nothing to violate (an operation without parameters or body): no negative case.
            report.unsatisfiable.append(f"{label} ({mode.value})")

    def drive() -> None:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                report.failures.append(
                    FuzzFailure("schema", "", 0, f"invalid operation: {result.err()}", "")
                )
                continue
            operation = result.ok()
            report.operations.append(f"{operation.method.upper()} {operation.path}")
            for mode, count in budget.items():
                if count > 0:
                    exercise(operation, mode, count)

    await asyncio.to_thread(drive)
    return report
