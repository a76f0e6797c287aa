"""Permissions this plugin declares (``customer_archive.<object>.<verb>``)."""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec

CUSTOMER_READ = "customer_archive.customer.read"
CUSTOMER_WRITE = "customer_archive.customer.write"
CUSTOMER_EXPORT = "customer_archive.customer.export"
PRODUCT_READ = "customer_archive.product.read"
PRODUCT_WRITE = "customer_archive.product.write"
HOLDING_READ = "customer_archive.holding.read"
HOLDING_WRITE = "customer_archive.holding.write"
TAG_READ = "customer_archive.tag.read"
TAG_WRITE = "customer_archive.tag.write"
PII_REVEAL = "customer_archive.pii.reveal"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(CUSTOMER_READ, "查看客户", "Read customers"),
    PermissionSpec(
        CUSTOMER_WRITE,
        "维护客户（含地址、联系人、客户标签）",
        "Create, change and delete customers, their addresses, contacts and tags",
    ),
    PermissionSpec(CUSTOMER_EXPORT, "导出客户", "Export customers"),
    PermissionSpec(PRODUCT_READ, "查看产品目录", "Read the product catalogue"),
    PermissionSpec(PRODUCT_WRITE, "维护产品目录", "Maintain the product catalogue"),
    PermissionSpec(HOLDING_READ, "查看客户持有产品", "Read customers' accounts and holdings"),
    PermissionSpec(HOLDING_WRITE, "维护客户持有产品", "Maintain customers' accounts and holdings"),
    PermissionSpec(TAG_READ, "查看标签", "Read tags"),
    PermissionSpec(TAG_WRITE, "维护标签定义", "Create, rename and delete tags"),
    PermissionSpec(
        PII_REVEAL,
        "查看完整敏感信息（需说明理由）",
        "Reveal unmasked personal data (with a stated reason)",
    ),
)
