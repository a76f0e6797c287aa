"""The body gate, cross-site writes and security headers (kernel routes only)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from litestar.types import Message

from bankcrm.settings import load_settings
from bankcrm.tests.test_web import assert_problem
from bankcrm.web.bodies import (
    MAX_JSON_DEPTH,
    BodyGate,
    checked_json,
    nesting_depth_exceeds,
    security_headers,
)
from bankcrm.web.problems import EXCEPTION_HANDLERS
from bankcrm_sdk.world import PASSWORD, World


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth_exceeds(b"[" * 33 + b"]" * 33, MAX_JSON_DEPTH)
    assert not nesting_depth_exceeds(b"[" * 32 + b"]" * 32, MAX_JSON_DEPTH)
    quoted = json.dumps({"text": "[" * 500 + '\\"[' + "{" * 500}).encode()
    assert not nesting_depth_exceeds(quoted, MAX_JSON_DEPTH)


def test_strings_are_handed_on_in_normal_form_c() -> None:
    decomposed = json.dumps({"name": "Jose\u0301"}, ensure_ascii=False).encode()
    assert json.loads(checked_json(decomposed)) == {"name": "Jos\u00e9"}
    plain = b'{"name": "ok"}'
    assert checked_json(plain) is plain


async def test_login_declared_as_gbk_is_decoded(world: World) -> None:
    client = world.anonymous_client()
    body = json.dumps({"username": "demo.admin", "password": PASSWORD}).encode("gbk")
    response = await client.post(
        "/api/v1/auth/login",
        content=body,
        headers={"content-type": "application/json; charset=gbk"},
    )
    assert response.status_code == 200, response.text
    chinese = json.dumps({"username": "张三", "password": "口令"}, ensure_ascii=False)
    response = await client.post(
        "/api/v1/auth/login",
        content=chinese.encode("gbk"),
        headers={"content-type": "application/json; charset=GBK"},
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"[" * 1000 + b"]" * 1000, "application/json", 400),
        (b'{"username": "a"}', "text/plain", 415),
        (b'{"username": "a"}', "application/x-www-form-urlencoded", 415),
        (b'{"username": "a"}', "application/json; charset=latin-1", 415),
        (b'{"username": "\\u202eadmin"}', "application/json", 422),
        (b'{"username": "' + b"x" * (1024 * 1024) + b'"}', "application/json", 413),
    ],
)
async def test_login_refuses_hostile_bodies(
    world: World, content: bytes, content_type: str, status: int
) -> None:
    client = world.anonymous_client()
    response = await client.post(
        "/api/v1/auth/login", content=content, headers={"content-type": content_type}
    )
    body = assert_problem(response, status)
    if status == 422:
        assert body["errors"] == [
            {
                "field": "/body/username",
                "message": "contains a control or bidirectional-override character",
            }
        ]


async def test_cookie_writes_must_come_from_this_site(world: World) -> None:
    client = await world.client("demo.admin")
    body = {"name": "cross-site", "code": "XS", "parent_id": world.branch("HQ")}
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        response = await client.post("/api/v1/branches", json=body, headers=headers)
        assert assert_problem(response, 403)["type"].endswith("/cross_site")
    same_site = await client.post(
        "/api/v1/logout-probe", json={}, headers={"origin": "http://testserver"}
    )
    assert same_site.status_code == 404, same_site.text


async def test_every_answer_carries_the_security_headers(world: World) -> None:
    client = await world.client("demo.admin")
    for path in ("/api/v1/auth/me", "/api/v1/nothing-here", "/admin/", "/schema/", "/healthz"):
        response = await client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp, path
        assert "strict-transport-security" not in response.headers, path


@post("/api/echo", opt={"public": True})
async def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return data


def gate_app(**settings: Any) -> Litestar:
    """A bare app with the gate and the headers alone: the settings' effect, nothing else."""
    return Litestar(
        [echo],
        middleware=[BodyGate(**settings)],
        before_send=[security_headers(production=False)],
        exception_handlers=EXCEPTION_HANDLERS,
    )


async def test_the_json_size_limit_is_a_setting() -> None:
    async with AsyncTestClient(gate_app(max_json_bytes=100)) as client:
        small = await client.post("/api/echo", json={"text": "x" * 50})
        assert small.status_code == 201, small.text
        large = await client.post("/api/echo", json={"text": "x" * 100})
        assert assert_problem(large, 413)["detail"] == "the body is larger than 100 bytes"

    # Sent without a length (chunked): counted while read.
    status, _ = await raw_post(
        gate_app(max_json_bytes=100),
        [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        [b" " * 40] * 3 + [b"{}"],
    )
    assert status == 413


def test_settings_read_the_limit_and_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKCRM_MAX_JSON_BYTES", "2048")
    monkeypatch.setenv("BANKCRM_ALLOWED_HOSTS", "crm.bank.example, crm.bank.example:8443")
    settings = load_settings()
    assert settings.max_json_bytes == 2048
    assert settings.allowed_hosts == ("crm.bank.example", "crm.bank.example:8443")


async def test_allowed_hosts_may_carry_cookie_writes() -> None:
    app = gate_app(allowed_hosts=("crm.bank.example",))
    async with AsyncTestClient(app, base_url="http://app.internal:8000") as client:
        client.cookies.set("id", "session")
        for origin, status in (
            ("https://crm.bank.example", 201),
            ("http://app.internal:8000", 201),
            ("https://crm.bank.example.evil.example", 403),
            ("https://evil.example", 403),
            ("null", 403),
        ):
            response = await client.post("/api/echo", json={}, headers={"origin": origin})
            assert response.status_code == status, (origin, response.text)
        # A bearer token is no ambient credential: no origin check.
        bearer = await client.post(
            "/api/echo",
            json={},
            headers={"origin": "https://evil.example", "authorization": "Bearer t"},
        )
        assert bearer.status_code == 201, bearer.text


async def raw_post(
    app: Litestar, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, Any]:
    """POST /api/echo straight through ASGI: headers and chunks no HTTP client would send."""
    pending = list(chunks)
    sent: list[Message] = []

    async def receive() -> Message:
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/echo",
        "raw_path": b"/api/echo",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


async def test_a_content_length_that_is_no_number_is_a_400() -> None:
    status, body = await raw_post(
        gate_app(), [(b"content-type", b"application/json"), (b"content-length", b"2x")], [b"{}"]
    )
    assert status == 400
    assert body["errors"] == [{"field": "/header/content-length", "message": "not a number"}]


async def test_hsts_is_sent_on_tls_and_in_production() -> None:
    async with AsyncTestClient(gate_app(), base_url="https://crm.bank.example") as client:
        response = await client.get("/schema/openapi.json")
        assert response.headers["strict-transport-security"].startswith("max-age=")
    production = Litestar([echo], before_send=[security_headers(production=True)])
    async with AsyncTestClient(production) as client:
        response = await client.get("/nothing")
        assert "strict-transport-security" in response.headers
