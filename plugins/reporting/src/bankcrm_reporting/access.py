"""The permissions this plugin declares, and which standard role gets each.

Names are ``reporting.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

TARGET_READ = "reporting.target.read"
TARGET_WRITE = "reporting.target.write"
KPI_READ = "reporting.kpi.read"
HISTORY_READ = "reporting.history.read"
"""Live figures are computed under the viewer's own scope (row-level security and every
access rule limit them); the daily snapshots sum a whole branch, so reading them (trends,
period comparison) is for managers and auditors."""

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
    PermissionSpec(KPI_READ, "查看经营仪表盘", "Read the KPI dashboard"),
    PermissionSpec(
        HISTORY_READ,
        "查看机构指标历史（趋势、期间对比）",
        "Read branch KPI history (trends, period comparison)",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("reporting.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (TARGET_READ, TARGET_WRITE, KPI_READ),
    ),
    RoleGrant(StandardRole.TELLER, (TARGET_READ, KPI_READ)),
    RoleGrant(StandardRole.AUDITOR, (TARGET_READ, KPI_READ, HISTORY_READ)),
)
