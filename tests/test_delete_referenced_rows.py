"""Deleting rows that other rows refer to, generated over every delete route.

A module of its own: the sweep deletes rows, so its populated world is not shared.
"""

from __future__ import annotations

from bankcrm_sdk.hostile import probe_deleting_referenced_rows
from bankcrm_sdk.world import World


async def test_deleting_a_referenced_row_is_refused_with_its_dependents_named(
    populated_world: World, reference_overrides: dict[str, str | None]
) -> None:
    client = await populated_world.client("demo.admin")
    result = await probe_deleting_referenced_rows(
        populated_world, client, overrides=reference_overrides
    )
    assert any("/holdings/" in label for label in result.checked), result
    assert len(result.checked) >= 5, result
    assert result.problems == [], "\n".join(map(str, result.problems))
