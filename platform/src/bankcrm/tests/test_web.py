"""One problem shape for every error, request ids, health and metrics."""

from __future__ import annotations

from bankcrm_sdk.world import World


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["detail"]
    assert body["request_id"]
    return body  # type: ignore[no-any-return]


async def test_unknown_route_and_method(world: World) -> None:
    client = await world.client("demo.admin")
    assert_problem(await client.get("/api/v1/nothing-here"), 404)
    assert_problem(await client.delete("/api/v1/auth/me"), 405)


async def test_body_too_large(world: World) -> None:
    client = world.anonymous_client()
    huge = b'{"username": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_request_id_is_echoed(world: World) -> None:
    client = world.anonymous_client()
    response = await client.get("/api/v1/auth/me", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert assert_problem(response, 401)["request_id"] == "trace-123"
    forged = await client.get("/api/v1/auth/me", headers={"X-Request-ID": "bad id\n"})
    assert forged.headers["x-request-id"] != "bad id\n"


async def test_health_ready_metrics_schema(world: World) -> None:
    client = world.anonymous_client()
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json()["status"] == "ready"
    await client.get("/api/v1/auth/me")
    metrics = (await client.get("/metrics")).text
    assert "bankcrm_http_requests_total" in metrics
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/auth/login" in schema["paths"]
    page = (await client.get("/schema")).text
    assert "https://" not in page.split("<body")[0], "the API viewer must not load from a CDN"
