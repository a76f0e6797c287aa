"""The OpenAPI description says exactly what the API answers, on every route.

Every operation of the app (kernel and every installed plugin) is sent a request built from
its description about rows the admin can see, the same without a credential, and (for
JSON bodies) a body that does not parse and one of the wrong shape; every answer is
validated against the description by schemathesis' conformance checks (status, content
type, headers, body) plus the kernel's promises (JSON-pointer fields, ``Location`` on
``201``). A route answering anything undocumented fails here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from bankcrm import auth
from bankcrm_sdk.contract import (
    ContractValidator,
    RequestBuilder,
    describe,
    exercise_every_route,
)
from bankcrm_sdk.isolation import table_index, take_snapshot
from bankcrm_sdk.route_probe import Operation, ReferenceResolver, ReferenceValues, operations
from bankcrm_sdk.world import PASSWORD, World

ADMIN = "demo.admin"

SUCCESS_FLOOR = 0.6
"""Share of operations that must have been seen to succeed (2xx) with the built requests:
the others are validated on their refusals (a state that does not allow the action, a
probe value the route refuses), which the report lists."""


@pytest.fixture(scope="module")
async def spec(populated_world: World) -> dict[str, Any]:
    client = populated_world.anonymous_client()
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    raw: dict[str, Any] = response.json()
    return raw


async def test_every_route_answers_as_described(
    populated_world: World, spec: dict[str, Any], reference_overrides: dict[str, str | None]
) -> None:
    world = populated_world
    admin = await world.client(ADMIN)
    anonymous = world.anonymous_client()
    index = table_index()
    snapshot = await take_snapshot(world.kernel.owner_url, index)
    visible = await world.subtree("HQ")
    admin_id = world.users[ADMIN]
    # Never act on the admin's own account (locking or deactivating it ends the probe).
    values = ReferenceValues(snapshot, visible, rules=world.kernel.access_rules())
    builder = RequestBuilder(
        spec,
        ReferenceResolver(index, reference_overrides),
        values,
        {"plugin": next(iter(world.kernel.registry.order), "bankcrm")},
        # Enabling, not disabling, the plugin whose routes follow.
        body_values={"enabled": True},
    )
    validator = ContractValidator(spec, world.app)

    async def stay_logged_in(operation: Operation, response: httpx.Response) -> None:
        me = await admin.get("/api/v1/auth/me")
        if me.status_code == 401:
            await auth.forget_login_attempts()
            again = await admin.post(
                "/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD}
            )
            assert again.status_code == 200, f"after {operation.label}: {again.text}"

    report = await exercise_every_route(
        world.app, admin, anonymous, builder, validator, after_call=stay_logged_in
    )
    every = {o.label for o in operations(world.app, public=True)}
    assert every, "the app has no API operation"
    assert set(report.statuses()) == every, "some operations were not exercised"
    assert report.failures == [], f"{len(report.failures)} answers break the description:\n" + (
        "\n".join(f.splitlines()[0] for f in report.failures[:200])
    )
    succeeded = report.succeeded()
    print(describe(report))
    assert len(succeeded) >= SUCCESS_FLOOR * len(every), describe(report)
    assert admin_id in world.users.values()


async def test_the_validator_refuses_what_is_not_documented(
    populated_world: World, spec: dict[str, Any]
) -> None:
    """The check can fail: an undocumented status, a body of another shape, a missing
    ``Location``, a field that is no pointer."""
    validator = ContractValidator(spec, populated_world.app)
    me = "/api/v1/auth/me"
    request = httpx.Request("GET", f"http://testserver{me}")

    def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content_type = "application/problem+json" if status >= 400 else "application/json"
        response = httpx.Response(
            status,
            json=body,
            headers={"content-type": content_type, **(headers or {})},
            request=request,
        )
        response.elapsed = dt.timedelta(0)
        return response

    problem = {
        "type": "about:blank", "title": "x", "status": 409, "detail": "x", "instance": me,
        "request_id": "r", "errors": [],
    }  # fmt: skip
    assert validator.validate("GET", me, answer(409, problem)), "an undocumented status passed"
    assert validator.validate("GET", me, answer(200, {"actor": 1})), "a wrong body passed"
    litestar_shape = {"status_code": 401, "detail": "x", "extra": {}}
    assert validator.validate("GET", me, answer(401, litestar_shape)), "a non-problem passed"
    dotted = {**problem, "status": 401, "errors": [{"field": "query.limit", "message": "x"}]}
    assert validator.validate("GET", me, answer(401, dotted)), "a dotted field passed"
    created = "/api/v1/branches"
    branch = {"id": 9, "code": "X", "name": "x", "name_en": "x", "parent_id": None}
    post = httpx.Request("POST", f"http://testserver{created}")
    no_location = httpx.Response(201, json=branch, request=post)
    no_location.elapsed = dt.timedelta(0)
    found = validator.validate("POST", created, no_location)
    assert any("Location" in p for p in found), found
