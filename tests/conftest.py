"""Fixtures shared by the cross-cutting tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bankcrm.runtime import Kernel
from bankcrm_sdk.database import TestDatabase
from bankcrm_sdk.isolation import build_populated_world
from bankcrm_sdk.world import World


@pytest.fixture(scope="module")
async def populated_world(
    bankcrm_database: TestDatabase, kernel: Kernel, app: Any
) -> AsyncIterator[World]:
    """The demo world plus kernel sample rows and every plugin's demo data (small scale).

    Module-scoped: seeding once per module keeps the suite fast; the tests using it only
    read, or assert that nothing changed.
    """
    world = await build_populated_world(bankcrm_database, kernel, app)
    try:
        yield world
    finally:
        await world.close()


# Reference-looking fields whose table the naming rules cannot find.
REFERENCE_OVERRIDES: dict[str, str | None] = {
    "/api/v1/branches:parent_id": "bankcrm_branch",
    # A customer filter's segment is a saved search; a relationship manager is a user,
    # and users are not branch-scoped rows.
    "segment_id": "customer_archive_saved_search",
    "relationship_manager_id": None,
    # A user belongs to the branches of their memberships: probe with users who have one in
    # another branch (the users routes hide a user with any membership out of reach).
    "user_id": "bankcrm_membership.user",
    # A manager is an employee; a work item is known by its open assignment.
    "manager_id": "bankcrm_employee",
    "item_id": "bankcrm_assignment.item_id",
    # Marketing's do-not-contact flags.
    "/api/v1/marketing/do-not-contact/{flag_id}:flag_id": "marketing_do_not_contact",
    # A survey's target is the archive's customer filter: its tags are the archive's.
    "/api/v1/marketing/surveys/{survey_id}/distributions:tag_ids": "customer_archive_tag",
    # A model's training reads its outcomes off a later feature run.
    "outcome_run_id": "mining_feature_run",
}


@pytest.fixture
def reference_overrides() -> dict[str, str | None]:
    """Reference-looking fields the generated route probes cannot map by naming rules."""
    return REFERENCE_OVERRIDES
