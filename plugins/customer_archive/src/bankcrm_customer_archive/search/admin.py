"""Admin screen of saved searches and segments (read-only).

Their filters are validated by the REST API (``/saved-searches``), which also writes the
audit trail; the admin only lists them. Row-level security applies as everywhere: a
user sees the segments of the branches in scope and only their own private searches.
"""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import CUSTOMER_EXPORT, CUSTOMER_READ
from bankcrm_customer_archive.search.tables import SavedSearch

_LABELS = {
    "id": ("编号", "ID"),
    "branch_id": ("机构", "Branch"),
    "kind": ("类型（个人查询/共享客群）", "Kind (private search/shared segment)"),
    "name": ("名称", "Name"),
    "description": ("说明", "Description"),
    "filter": ("筛选条件", "Filter"),
    "owner": ("创建人", "Owner"),
    "owner_actor": ("创建方", "Owner (actor)"),
    "created_at": ("创建时间", "Created at"),
    "updated_at": ("更新时间", "Updated at"),
}

SAVED_SEARCH_SCREEN = AdminScreen(
    table=SavedSearch,
    title=Label("保存的查询与客群", "Saved searches and segments"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns={name: Label(zh, en) for name, (zh, en) in _LABELS.items()},
    visible_columns=("id", "name", "kind", "branch_id", "owner", "updated_at"),
    visible_filters=("name", "kind", "branch_id", "owner"),
    read_only_columns=tuple(name for name in _LABELS if name != "id"),
    menu_group=Label("客户档案", "Customer archive"),
    allow_create=False,
    read_only=True,
)
