"""The admin screen: the same rules as the REST API (what the API cannot change is
read-only here too)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_marketing.access import CAMPAIGN_READ
from bankcrm_marketing.tables import Campaign

GROUP = Label(
    "市场营销",
    "Marketing",
)

LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "title": Label("标题", "Title"),
    "body": Label("内容", "Text"),
    "status": Label("状态（open 未关闭 / closed 已关闭）", "Status (open/closed)"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Campaign,
        title=Label(
            "营销活动",
            "Campaigns",
        ),
        permission=CAMPAIGN_READ,
        columns=LABELS,
        visible_columns=("id", "title", "status", "branch_id", "updated_at"),
        visible_filters=("title", "status", "branch_id"),
        read_only_columns=("created_at", "updated_at"),
        menu_group=GROUP,
    ),
)
