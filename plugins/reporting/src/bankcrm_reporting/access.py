"""The permissions this plugin declares, and which standard role gets each.

Names are ``reporting.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

TARGET_READ = "reporting.target.read"
TARGET_WRITE = "reporting.target.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(
        TARGET_READ,
        "查看指标目标",
        "Read targets",
    ),
    PermissionSpec(
        TARGET_WRITE,
        "维护指标目标",
        "Create, change and delete targets",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("reporting.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (TARGET_READ, TARGET_WRITE),
    ),
    RoleGrant(StandardRole.TELLER, (TARGET_READ,)),
    RoleGrant(StandardRole.AUDITOR, (TARGET_READ,)),
)
