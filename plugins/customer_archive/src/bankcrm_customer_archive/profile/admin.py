"""Admin screens of the profile tables (read-mostly; labels in Chinese and English).

Derived rows (snapshots, rating history) and everything that ties a row to its customer
and branch are read-only here; ratings change only through the REST API, which keeps the
history and the customer's current value together. Contract documents are listed without
their bytes (the column is hidden): they are downloaded only through the scoped, audited
REST route.
"""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import (
    CONTRACT_READ,
    CUSTOMER_EXPORT,
    CUSTOMER_READ,
    HOLDING_READ,
)
from bankcrm_customer_archive.admin_labels import GROUP, labels
from bankcrm_customer_archive.tables import (
    AumSnapshot,
    BalanceSnapshot,
    ContactChannel,
    Contract,
    ContractDocument,
    Household,
    HouseholdMember,
    Rating,
    Relation,
)

CHANNEL_SCREEN = AdminScreen(
    table=ContactChannel,
    title=Label("联系渠道", "Contact channels"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        kind=("渠道类型", "Kind"),
        value=("号码/账号", "Number or address"),
        label=("备注", "Label"),
        is_primary=("首选", "Primary"),
    ),
    visible_columns=("id", "customer", "kind", "value", "label", "is_primary"),
    visible_filters=("customer", "kind", "branch_id"),
    # The value is validated and normalised by the REST API only.
    read_only_columns=("branch_id", "customer", "kind", "value", "created_at", "updated_at"),
    masked_columns=("value",),
    menu_group=GROUP,
    allow_create=False,
)

RELATION_SCREEN = AdminScreen(
    table=Relation,
    title=Label("客户关系", "Customer relations"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        related=("关联客户", "Related customer"),
        kind=("关系类型", "Kind"),
        share_ratio=("持股比例(%)", "Share ratio (%)"),
        note=("备注", "Note"),
    ),
    visible_columns=("id", "customer", "kind", "related", "share_ratio", "note"),
    visible_filters=("customer", "related", "kind", "branch_id"),
    # Symmetric relations have a mirror row that only the REST API keeps in step.
    read_only_columns=("branch_id", "customer", "related", "kind", "created_at", "updated_at"),
    menu_group=GROUP,
    allow_create=False,
)

HOUSEHOLD_SCREEN = AdminScreen(
    table=Household,
    title=Label("家庭", "Households"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "created_at", "updated_at"),
        name=("家庭名称", "Name"),
        head=("户主", "Head"),
    ),
    visible_columns=("id", "name", "head", "branch_id", "updated_at"),
    visible_filters=("name", "head", "branch_id"),
    read_only_columns=("branch_id", "head", "created_at", "updated_at"),
    menu_group=GROUP,
    allow_create=False,
)

MEMBER_SCREEN = AdminScreen(
    table=HouseholdMember,
    title=Label("家庭成员", "Household members"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer", "created_at"),
        household=("家庭", "Household"),
        role=("角色", "Role"),
    ),
    visible_columns=("id", "household", "customer", "role"),
    visible_filters=("household", "customer", "branch_id"),
    read_only_columns=("branch_id", "household", "customer", "role", "created_at"),
    menu_group=GROUP,
    allow_create=False,
)

BALANCE_SCREEN = AdminScreen(
    table=BalanceSnapshot,
    title=Label("余额快照", "Balance snapshots"),
    permission=HOLDING_READ,
    columns=labels(
        ("id", "branch_id", "customer", "created_at"),
        holding=("产品持有", "Holding"),
        snapshot_on=("快照日期", "Snapshot date"),
        balance=("余额", "Balance"),
        currency=("币种", "Currency"),
    ),
    visible_columns=("id", "snapshot_on", "customer", "holding", "balance", "currency"),
    visible_filters=("snapshot_on", "customer", "holding", "branch_id"),
    read_only_columns=("branch_id", "holding", "customer", "snapshot_on", "balance", "currency",
                       "created_at"),
    menu_group=GROUP,
    allow_create=False,
    # Taken daily by a job for the charts; staff read them on the customer's pages.
    technical=True,
)  # fmt: skip

AUM_SCREEN = AdminScreen(
    table=AumSnapshot,
    title=Label("资产规模快照", "AUM snapshots"),
    permission=HOLDING_READ,
    columns=labels(
        ("id", "branch_id", "customer", "created_at"),
        snapshot_on=("快照日期", "Snapshot date"),
        aum=("资产规模(元)", "AUM (CNY)"),
    ),
    visible_columns=("id", "snapshot_on", "customer", "aum", "branch_id"),
    visible_filters=("snapshot_on", "customer", "branch_id"),
    read_only_columns=("branch_id", "customer", "snapshot_on", "aum", "created_at"),
    menu_group=GROUP,
    allow_create=False,
    # Taken daily by a job for the charts; staff read them on the customer's pages.
    technical=True,
)

CONTRACT_SCREEN = AdminScreen(
    table=Contract,
    title=Label("合同", "Contracts"),
    permission=CONTRACT_READ,
    columns=labels(
        ("id", "branch_id", "customer", "created_at", "updated_at"),
        kind=("合同类型", "Kind"),
        number=("合同编号", "Number"),
        title=("合同名称", "Title"),
        signed_on=("签订日期", "Signed on"),
        start_on=("生效日期", "Starts on"),
        end_on=("到期日期", "Ends on"),
        status=("状态", "Status"),
        amount=("金额", "Amount"),
        currency=("币种", "Currency"),
    ),
    visible_columns=("id", "number", "customer", "kind", "status", "signed_on", "end_on",
                     "amount", "currency"),
    visible_filters=("number", "customer", "kind", "status", "branch_id"),
    # Status changes follow the contract's life cycle, checked by the REST API.
    read_only_columns=("branch_id", "customer", "kind", "number", "status", "created_at",
                       "updated_at"),
    menu_group=GROUP,
    allow_create=False,
)  # fmt: skip

DOCUMENT_SCREEN = AdminScreen(
    table=ContractDocument,
    title=Label("合同附件", "Contract documents"),
    permission=CONTRACT_READ,
    columns=labels(
        ("id", "branch_id"),
        contract=("合同", "Contract"),
        filename=("文件名", "File name"),
        content_type=("文件类型", "Content type"),
        size=("大小(字节)", "Size (bytes)"),
        sha256=("SHA-256", "SHA-256"),
        uploaded_by=("上传人", "Uploaded by"),
        uploaded_at=("上传时间", "Uploaded at"),
    ),
    visible_columns=("id", "contract", "filename", "content_type", "size", "uploaded_by",
                     "uploaded_at"),
    visible_filters=("contract", "content_type", "branch_id"),
    read_only_columns=("branch_id", "contract", "filename", "content_type", "size", "sha256",
                       "uploaded_by", "uploaded_at"),
    hidden_columns=("content",),
    menu_group=GROUP,
    allow_create=False,
)  # fmt: skip

RATING_SCREEN = AdminScreen(
    table=Rating,
    title=Label("评级历史", "Rating history"),
    permission=CUSTOMER_READ,
    export_permission=CUSTOMER_EXPORT,
    columns=labels(
        ("id", "branch_id", "customer"),
        kind=("评级类型", "Kind"),
        value=("评级结果", "Value"),
        rated_by=("评级人", "Rated by"),
        source=("来源", "Source"),
        rated_at=("评级时间", "Rated at"),
        note=("说明", "Note"),
    ),
    visible_columns=("id", "customer", "kind", "value", "source", "rated_by", "rated_at"),
    visible_filters=("customer", "kind", "value", "source", "branch_id"),
    read_only_columns=("branch_id", "customer", "kind", "value", "rated_by", "source",
                       "rated_at", "note"),
    menu_group=GROUP,
    allow_create=False,
)  # fmt: skip

PROFILE_SCREENS: tuple[AdminScreen, ...] = (
    CHANNEL_SCREEN,
    RELATION_SCREEN,
    HOUSEHOLD_SCREEN,
    MEMBER_SCREEN,
    BALANCE_SCREEN,
    AUM_SCREEN,
    CONTRACT_SCREEN,
    DOCUMENT_SCREEN,
    RATING_SCREEN,
)
