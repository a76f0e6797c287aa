"""The body gate, cross-site writes and security headers (kernel routes only)."""

from __future__ import annotations

import json

import pytest

from bankcrm.tests.test_web import assert_problem
from bankcrm.web.bodies import MAX_JSON_DEPTH, checked_json, nesting_depth_exceeds
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
                "field": "body.username",
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
