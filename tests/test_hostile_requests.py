"""Hostile requests generated over every route: tampered cursors and hostile bodies."""

from __future__ import annotations

from bankcrm_sdk.hostile import probe_tampered_cursors
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
