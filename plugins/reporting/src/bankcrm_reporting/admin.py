"""The admin screen: the same rules as the REST API (what the API cannot change is
read-only here too)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_reporting.access import HISTORY_READ, TARGET_READ
from bankcrm_reporting.tables import Snapshot, Target

GROUP = Label(
    "报表统计",
    "Reporting",
)

LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "metric": Label("指标", "KPI"),
    "period": Label("月份", "Month"),
    "value": Label("目标值", "Target"),
    "threshold": Label("预警阈值", "Alert threshold"),
    "alerted_at": Label("预警发出时间", "Alerted at"),
    "title": Label("标题", "Title"),
    "body": Label("内容", "Text"),
    "status": Label("状态（open 未关闭 / closed 已关闭）", "Status (open/closed)"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

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
        table=Target,
        row_page="/app/reporting/targets/{id}",
        row_page_title=Label("在仪表盘中查看", "Open in the dashboard"),
        title=Label(
            "指标目标",
            "Targets",
        ),
        permission=TARGET_READ,
        columns=LABELS,
        visible_columns=("id", "metric", "period", "value", "title", "status", "branch_id"),
        visible_filters=("metric", "period", "status", "branch_id"),
        read_only_columns=("metric", "period", "alerted_at", "created_at", "updated_at"),
        menu_group=GROUP,
    ),
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
