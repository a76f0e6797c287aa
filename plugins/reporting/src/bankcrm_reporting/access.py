"""The permissions this plugin declares, and which standard role gets each.

Names are ``reporting.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.

Live figures are computed under the viewer's own scope, so row-level security and every
plugin's access rules (a relationship manager's portfolio) limit them. The daily snapshots
sum a whole branch, so reading them (trends, period comparison) is for managers and
auditors only.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

KPI_READ = "reporting.kpi.read"
HISTORY_READ = "reporting.history.read"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(KPI_READ, "查看指标与仪表盘", "Read KPIs and dashboards"),
    PermissionSpec(
        HISTORY_READ,
        "查看机构指标历史（趋势、同比环比）",
        "Read branch KPI history (trends, period comparison)",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("reporting.*",)),
    RoleGrant(StandardRole.AUDITOR, ("reporting.*",)),
    RoleGrant(StandardRole.RELATIONSHIP_MANAGER, (KPI_READ,)),
    RoleGrant(StandardRole.TELLER, (KPI_READ,)),
)
