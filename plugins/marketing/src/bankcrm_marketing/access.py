"""The permissions this plugin declares, and which standard role gets each.

Names are ``marketing.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

CAMPAIGN_READ = "marketing.campaign.read"
CAMPAIGN_WRITE = "marketing.campaign.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(
        CAMPAIGN_READ,
        "查看营销活动",
        "Read campaigns",
    ),
    PermissionSpec(
        CAMPAIGN_WRITE,
        "维护营销活动",
        "Create, change and delete campaigns",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("marketing.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (CAMPAIGN_READ, CAMPAIGN_WRITE),
    ),
    RoleGrant(StandardRole.TELLER, (CAMPAIGN_READ,)),
    RoleGrant(StandardRole.AUDITOR, (CAMPAIGN_READ,)),
)
