"""The permissions this plugin declares, and which standard role gets each.

Names are ``sales.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

LEAD_READ = "sales.lead.read"
LEAD_WRITE = "sales.lead.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(
        LEAD_READ,
        "查看销售线索",
        "Read leads",
    ),
    PermissionSpec(
        LEAD_WRITE,
        "维护销售线索",
        "Create, change and delete leads",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("sales.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (LEAD_READ, LEAD_WRITE),
    ),
    RoleGrant(StandardRole.TELLER, (LEAD_READ,)),
    RoleGrant(StandardRole.AUDITOR, (LEAD_READ,)),
)
