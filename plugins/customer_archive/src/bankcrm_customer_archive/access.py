"""Permissions this plugin declares (``customer_archive.<object>.<verb>``), which standard
role gets each (the head-office administrator gets all of them anyway), and the row rules
finer than the branch."""

from __future__ import annotations

from bankcrm.plugin_api import (
    CURRENT_ACTOR,
    AccessRule,
    PermissionSpec,
    RoleGrant,
    RowMatch,
    StandardRole,
)

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
SEGMENT_WRITE = "customer_archive.segment.write"
IMPORT_READ = "customer_archive.import.read"
IMPORT_WRITE = "customer_archive.import.write"
IMPORT_APPROVE = "customer_archive.import.approve"
CONTRACT_READ = "customer_archive.contract.read"
CONTRACT_WRITE = "customer_archive.contract.write"
RATING_WRITE = "customer_archive.rating.write"
TIER_MANAGE = "customer_archive.value_tier.manage"
DUPLICATE_READ = "customer_archive.duplicate.read"
DUPLICATE_REVIEW = "customer_archive.duplicate.review"
MERGE_APPROVE = "customer_archive.merge.approve"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(DUPLICATE_READ, "查看疑似重复客户", "Read the duplicate review queue"),
    PermissionSpec(
        DUPLICATE_REVIEW,
        "处理疑似重复客户（排除、申请归并、发起查重）",
        "Review duplicates: dismiss, request merges, start a detection run",
    ),
    PermissionSpec(
        MERGE_APPROVE,
        "复核客户归并及撤销归并（不能复核本人的申请）",
        "Approve or reject merges and undo them (maker-checker; never one's own request)",
    ),
    PermissionSpec(
        IMPORT_READ, "查看导入批次及错误报告", "Read import batches and their error reports"
    ),
    PermissionSpec(
        IMPORT_WRITE,
        "导入客户及持有产品（上传、提交、保存列映射）",
        "Import customers and holdings (upload, commit, saved column mappings)",
    ),
    PermissionSpec(
        IMPORT_APPROVE,
        "复核导入批次（双人复核，不能复核本人上传的批次）",
        "Approve or reject import batches (maker-checker; never one's own upload)",
    ),
    PermissionSpec(CONTRACT_READ, "查看合同及附件", "Read contracts and download their documents"),
    PermissionSpec(
        CONTRACT_WRITE, "维护合同及附件", "Create and change contracts, upload documents"
    ),
    PermissionSpec(
        RATING_WRITE,
        "评定客户评级（信用等级、风险承受能力、价值分层）",
        "Rate customers (credit grade, risk tolerance, value tier)",
    ),
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
    PermissionSpec(
        TAG_WRITE,
        "维护标签定义（含规则标签）",
        "Create, rename and delete tags, and the rules of rule tags",
    ),
    PermissionSpec(TIER_MANAGE, "重算客户价值分层", "Recompute customers' value tiers"),
    PermissionSpec(
        SEGMENT_WRITE,
        "维护共享客群（分行客户细分）",
        "Create, change and delete segments shared with a branch",
    ),
    PermissionSpec(
        PII_REVEAL,
        "查看完整敏感信息（需说明理由）",
        "Reveal unmasked personal data (with a stated reason)",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("customer_archive.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (
            CUSTOMER_READ,
            CUSTOMER_WRITE,
            PRODUCT_READ,
            HOLDING_READ,
            HOLDING_WRITE,
            TAG_READ,
            CONTRACT_READ,
            CONTRACT_WRITE,
            IMPORT_READ,
            IMPORT_WRITE,
            DUPLICATE_READ,
            DUPLICATE_REVIEW,
        ),
    ),
    RoleGrant(StandardRole.TELLER, (CUSTOMER_READ, PRODUCT_READ, HOLDING_READ, TAG_READ)),
    RoleGrant(
        StandardRole.AUDITOR,
        (CUSTOMER_READ, HOLDING_READ, CONTRACT_READ, IMPORT_READ, DUPLICATE_READ),
    ),
)

RULES: tuple[AccessRule, ...] = (
    AccessRule(
        "customer_archive.saved_search_owner",
        "customer_archive_saved_search",
        "私人查询仅本人可见",
        "Private saved searches are their owner's alone",
        # A segment is shared with its branch; any other saved search only with the actor
        # (user or API client) that saved it.
        any_of=(RowMatch("kind", "segment"), RowMatch("owner_actor", CURRENT_ACTOR)),
        description="Segments are shared with the branch; private saved searches are seen,"
        " changed and deleted by their owner only.",
    ),
)
