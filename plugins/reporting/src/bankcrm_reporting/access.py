"""The permissions this plugin declares, and which standard role gets each.

Names are ``reporting.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import (
    OVERSEEN_USER_IDS,
    AccessRule,
    PermissionSpec,
    RoleGrant,
    RowMatch,
    StandardRole,
)

TARGET_READ = "reporting.target.read"
TARGET_WRITE = "reporting.target.write"
KPI_READ = "reporting.kpi.read"
HISTORY_READ = "reporting.history.read"
REPORT_READ = "reporting.report.read"
REPORT_WRITE = "reporting.report.write"
"""Save, change and run reports (a run writes to the runner's own inbox)."""
REPORT_EXPORT = "reporting.report.export"
"""Download a run as CSV, Excel or PDF (audited), as the archive's exports need their own."""
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
    PermissionSpec(REPORT_READ, "查看报表与报表收件箱", "Read saved reports and the report inbox"),
    PermissionSpec(REPORT_WRITE, "保存、修改与运行报表", "Save, change and run reports"),
    PermissionSpec(REPORT_EXPORT, "导出与打印报表", "Export and print reports"),
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
        (TARGET_READ, TARGET_WRITE, KPI_READ, REPORT_READ, REPORT_WRITE, REPORT_EXPORT),
    ),
    RoleGrant(StandardRole.TELLER, (TARGET_READ, KPI_READ, REPORT_READ)),
    RoleGrant(StandardRole.AUDITOR, (TARGET_READ, KPI_READ, HISTORY_READ, REPORT_READ)),
)

RULES: tuple[AccessRule, ...] = (
    AccessRule(
        "reporting.report_owner",
        "reporting_report",
        "报表仅本人、其上级及共享时同机构可见",
        "A report is its owner's, their managers' and, when shared, its branch's",
        any_of=(RowMatch("owner", OVERSEEN_USER_IDS), RowMatch("shared", True)),
    ),
    AccessRule(
        "reporting.inbox_recipient",
        "reporting_report_run",
        "报表收件箱仅收件人及其上级可见",
        "A report run is its recipient's and their managers'",
        any_of=(RowMatch("recipient", OVERSEEN_USER_IDS),),
    ),
)
