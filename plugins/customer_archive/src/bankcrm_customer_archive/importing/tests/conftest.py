"""Fixtures of the import tests: the Beijing branch manager's client and the relationship
managers the realistic exports name (``exports.STAFF``) added to the SDK's world."""

from __future__ import annotations

import httpx
import pytest

from bankcrm import auth, branches, db
from bankcrm.demo import DEMO_PASSWORD
from bankcrm.plugin_api import StandardRole
from bankcrm_customer_archive.importing.tests.exports import STAFF
from bankcrm_sdk.world import World


@pytest.fixture
async def bj(world: World) -> httpx.AsyncClient:
    """The Beijing branch manager: every customer_archive permission, BJ and below."""
    return await world.client("demo.bj.manager")


async def add_staff(world: World, username: str, employee_no: str, name: str, branch: str) -> int:
    """A relationship manager: a user with the standard role in ``branch`` and an
    employee record there."""
    with world.bind(world.system_scope()):
        user_id = await auth.create_user(username, DEMO_PASSWORD, email=f"{username}@test.local")
        role = await db.fetchval(
            "SELECT id FROM bankcrm_role WHERE name = $1", StandardRole.RELATIONSHIP_MANAGER.value
        )
        async with db.transaction():
            await db.fetch(
                'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)',
                user_id,
                world.branch(branch),
                role,
            )
            await db.fetch(
                "INSERT INTO bankcrm_employee (branch_id, employee_no, name, user_id, position)"
                " VALUES ($1, $2, $3, $4, '客户经理')",
                world.branch(branch),
                employee_no,
                name,
                user_id,
            )
    branches.invalidate()
    world.users[username] = user_id
    return user_id


@pytest.fixture
async def staff(world: World) -> dict[str, int]:
    """User ids by username: the demo users and :data:`exports.STAFF`."""
    for member in STAFF:
        await add_staff(world, member.username, member.employee_no, member.name, member.branch)
    return world.users
