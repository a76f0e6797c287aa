"""Hostile requests generated over every route: tampered cursors and hostile bodies."""

from __future__ import annotations

from bankcrm_sdk.hostile import probe_hostile_bodies, probe_tampered_cursors
from bankcrm_sdk.world import World


async def test_every_list_route_refuses_tampered_cursors(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_tampered_cursors(populated_world, client, overrides=reference_overrides)
    assert not result.unreached, f"list routes the sweep could not reach: {result.unreached}"
    assert len(result.checked) >= 8, result.checked
    assert "GET /api/v1/customer_archive/imports/{batch_id}/errors" in result.checked or any(
        "/imports/" in label and label.endswith("/errors") for label in result.checked
    ), result.checked
    assert result.problems == [], "\n".join(map(str, result.problems[:20]))


async def test_every_json_route_refuses_hostile_bodies(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_hostile_bodies(populated_world, client, overrides=reference_overrides)
    assert len(result.checked) >= 30, result.checked
    for known in (
        "POST /api/v1/customer_archive/customers/search",
        "POST /api/v1/customer_archive/saved-searches",
        "POST /api/v1/auth/password",
    ):
        assert known in result.checked, known
    assert result.problems == [], "\n".join(map(str, result.problems[:30]))
