"""Hostile requests generated over every route: tampered cursors, hostile bodies, cross-site
writes, and the security headers on every answer. Each sweep is checked to have reached the
routes it claims (a minimum count and known routes), so an empty sweep cannot pass."""

from __future__ import annotations

from bankcrm_sdk.hostile import (
    probe_cross_site_writes,
    probe_hostile_bodies,
    probe_security_headers,
    probe_tampered_cursors,
)
from bankcrm_sdk.world import World

ARCHIVE = "/api/v1/customer_archive"


async def test_every_list_route_refuses_tampered_cursors(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_tampered_cursors(populated_world, client, overrides=reference_overrides)
    assert not result.unreached, f"list routes the sweep could not reach: {result.unreached}"
    assert len(result.checked) >= 8, result.checked
    assert f"GET {ARCHIVE}/imports/{{batch_id}}/errors" in result.checked, result.checked
    assert "GET /api/v1/audit" in result.checked, result.checked
    assert result.problems == [], "\n".join(map(str, result.problems[:20]))


async def test_every_route_with_a_body_refuses_hostile_bodies(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_hostile_bodies(populated_world, client, overrides=reference_overrides)
    assert len(result.checked) >= 30, result.checked
    for known in (
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/password",
        f"POST {ARCHIVE}/customers/search",
        f"POST {ARCHIVE}/saved-searches",
        f"POST {ARCHIVE}/tag-rules/preview",
        f"POST {ARCHIVE}/import-sources",
        f"POST {ARCHIVE}/imports",
    ):
        assert known in result.checked, known
    assert result.problems == [], "\n".join(map(str, result.problems[:30]))


async def test_every_answer_carries_the_security_headers(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_security_headers(populated_world, client, overrides=reference_overrides)
    assert len(result.checked) >= 30, result.checked
    for known in ("GET /admin/", "GET /schema/", f"GET {ARCHIVE}/customers"):
        assert known in result.checked, known
    assert result.problems == [], "\n".join(map(str, result.problems[:30]))


async def test_every_write_with_the_session_cookie_from_another_site_is_refused(
    populated_world: World,
) -> None:
    client = await populated_world.client("demo.admin")
    assert "id" in client.cookies, "the sweep needs a cookie session"
    result = await probe_cross_site_writes(populated_world, client)
    assert len(result.checked) >= 40, result.checked
    for known in (
        "POST /api/v1/auth/login",
        f"POST {ARCHIVE}/customers",
        f"DELETE {ARCHIVE}/customers/{{customer_id}}",
    ):
        assert known in result.checked, known
    assert result.problems == [], "\n".join(map(str, result.problems[:30]))
