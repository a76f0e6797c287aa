"""The admin allows nothing the REST API refuses, generated over every admin screen."""

from __future__ import annotations

from bankcrm.admin.app import admin_screens
from bankcrm_sdk.admin_parity import parity_gaps
from bankcrm_sdk.world import World


async def test_every_admin_screen_keeps_the_apis_rules(world: World) -> None:
    screens = admin_screens(world.kernel)
    permissions = {
        spec.name
        for _, declared in world.kernel.registry.call_each("register_permissions")
        for spec in declared or ()
    }
    gaps = parity_gaps(world.app, screens, permissions)
    assert gaps == [], "\n".join(map(str, gaps))
