"""The tags' admin screen (rule tags are made with their rule, over REST)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import TAG_READ
from bankcrm_customer_archive.admin_labels import GROUP, labels
from bankcrm_customer_archive.tables import Tag

TAG_SCREEN = AdminScreen(
    table=Tag,
    title=Label("客户标签", "Tags"),
    permission=TAG_READ,
    columns=labels(
        ("id", "branch_id", "created_at"),
        name=("标签名称", "Name"),
        color=("颜色", "Colour"),
        kind=("类型（手工/规则）", "Kind (manual/rule)"),
    ),
    visible_columns=("id", "name", "color", "kind", "branch_id"),
    visible_filters=("name", "kind", "branch_id"),
    # A rule tag is made with its rule (REST /tag-rules), never by flipping this.
    read_only_columns=("branch_id", "created_at", "kind"),
    menu_group=GROUP,
)
