"""Admin screens: the daily snapshots are a technical table (superusers only, read-only);
staff read them through the dashboard."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_reporting.access import HISTORY_READ
from bankcrm_reporting.tables import Snapshot

GROUP = Label("报表统计", "Reporting")

SNAPSHOT_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "metric": Label("指标", "KPI"),
    "day": Label("日期", "Day"),
    "value": Label("数值", "Value"),
    "computed_at": Label("计算时间", "Computed at"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Snapshot,
        title=Label("指标日快照", "Daily KPI snapshots"),
        permission=HISTORY_READ,
        columns=SNAPSHOT_LABELS,
        visible_columns=("id", "branch_id", "metric", "day", "value"),
        visible_filters=("branch_id", "metric", "day"),
        menu_group=GROUP,
        read_only=True,
        technical=True,
    ),
)
