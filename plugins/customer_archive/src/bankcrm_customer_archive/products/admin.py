"""The product catalogue's admin screen."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import PRODUCT_READ
from bankcrm_customer_archive.admin_labels import GROUP, labels
from bankcrm_customer_archive.tables import Product

PRODUCT_SCREEN = AdminScreen(
    table=Product,
    title=Label("产品目录", "Product catalogue"),
    permission=PRODUCT_READ,
    columns=labels(
        ("id", "created_at", "updated_at"),
        code=("产品代码", "Code"),
        name=("产品名称", "Name"),
        name_en=("英文名称", "English name"),
        category=("产品类别", "Category"),
        segment=("客群", "Segment"),
        balance_type=("余额性质", "Balance type"),
        currency=("币种", "Currency"),
        active=("在售", "Active"),
    ),
    visible_columns=("id", "code", "name", "name_en", "category", "segment", "balance_type",
                     "active"),
    visible_filters=("code", "name", "category", "segment", "active"),
    read_only_columns=("code", "created_at", "updated_at"),
    menu_group=GROUP,
)  # fmt: skip
