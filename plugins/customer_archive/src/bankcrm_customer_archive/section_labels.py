"""Labels of the keys in the archive's 360 sections, for the 360° page (a key the admin's
column labels already name needs none here; ``section.key`` prefixes one that means
something else in that section)."""

from __future__ import annotations

from bankcrm.plugin_api import Label

SECTION_LABELS = {
    name: Label(zh, en)
    for name, (zh, en) in {
        "customer": ("客户", "Customer"),
        "id_number": ("证件号码", "ID number"),
        "tags": ("标签", "Tags"),
        "addresses": ("地址", "Addresses"),
        "contacts": ("联系人", "Contact persons"),
        "aum": ("资产规模", "Assets under management"),
        "credit": ("负债", "Credit"),
        "open_by_category": ("持有产品（按类别）", "Open products by category"),
        "holdings": ("账户", "Accounts"),
        "relations": ("关系人", "Relations"),
        "household": ("家庭", "Household"),
        "channels": ("联系渠道", "Contact channels"),
        "current": ("当前评级", "Current ratings"),
        "history": ("评级历史", "Rating history"),
        "contracts": ("合同", "Contracts"),
        "customer_archive.contracts.active": ("生效合同数", "Active contracts"),
        "days": ("天数", "Days"),
        "points": ("每日资产", "Daily AUM"),
        "snapshot_on": ("日期", "Date"),
        "portrait": ("画像", "Portrait"),
        "age": ("年龄", "Age"),
        "ratings": ("评级", "Ratings"),
        "aum_average_90d": ("近90日日均资产", "90-day average AUM"),
        "aum_trend": ("资产趋势", "AUM trend"),
        "aum_direction": ("资产变化方向", "AUM direction"),
        "product_mix": ("产品结构", "Product mix"),
        "balance_cny": ("余额（人民币）", "Balance (CNY)"),
        "share": ("占比", "Share"),
        "products_held": ("持有产品数", "Products held"),
        "customer_since": ("成为客户日期", "Customer since"),
        "tenure_days": ("客户时长（天）", "Tenure (days)"),
        "days_since_activity": ("距上次活动天数", "Days since last activity"),
        "contact_channels": ("联系渠道数", "Contact channels"),
        "contact_persons": ("联系人数", "Contact persons"),
        "traits": ("客户特征", "Traits"),
        "product_code": ("产品代码", "Product code"),
        "product_name": ("产品名称", "Product"),
        "label": ("名称", "Label"),
        "label_en": ("英文名称", "English label"),
        "reason": ("依据", "Why"),
        "currency": ("币种", "Currency"),
        "role": ("角色", "Role"),
        "members": ("成员", "Members"),
        "value": ("内容", "Value"),
    }.items()
}
HIDDEN_KEYS = frozenset(
    {"customer_id", "product_id", "relationship_manager_id", "name_initials", "branch"}
)
"""Ids shown elsewhere by name (the branch, the product, the manager) and search keys."""

__all__ = ["HIDDEN_KEYS", "SECTION_LABELS"]
