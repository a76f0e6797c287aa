"""The archive's workflow forms in the admin: decisions of the maker-checker queues
(imports, merges), dismissing a duplicate pair and revealing chosen personal data with a
reason. Each runs the service the REST API runs, with its rules and audit."""

from __future__ import annotations

import pydantic

from bankcrm.plugin_api import AdminForm, Label, plugin_hooks
from bankcrm.web.problems import invalid
from bankcrm_customer_archive.access import (
    DUPLICATE_REVIEW,
    IMPORT_APPROVE,
    MERGE_APPROVE,
    PII_REVEAL,
)
from bankcrm_customer_archive.customers import services as customers
from bankcrm_customer_archive.dedupe import merging, review
from bankcrm_customer_archive.importing import service as importing
from bankcrm_customer_archive.manifest import MANIFEST

GROUP = Label(MANIFEST.title, MANIFEST.title_en)
NOTE = Label("意见（可留空）", "Note (optional)")


class BatchDecision(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    batch_id: int = pydantic.Field(ge=1)
    note: str = pydantic.Field(default="", max_length=500)


class MergeDecision(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    merge_id: int = pydantic.Field(ge=1)
    note: str = pydantic.Field(default="", max_length=500)


class Dismissal(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    candidate_id: int = pydantic.Field(ge=1)
    note: str = pydantic.Field(min_length=1, max_length=500)


class Reveal(pydantic.BaseModel):
    """One reason for the fields chosen: what is not needed is not shown."""

    model_config = pydantic.ConfigDict(extra="forbid")
    customer_id: int = pydantic.Field(ge=1)
    reason: str = pydantic.Field(min_length=2, max_length=500)
    id_number: bool = False
    phone: bool = False
    email: bool = False
    addresses: bool = False
    contacts: bool = False
    holdings: bool = False


async def _approve_batch(data: BatchDecision) -> str:
    batch = await importing.decide(data.batch_id, True, data.note)
    return f"导入批次 {batch.id} 已批准，开始入库 / batch approved, committing"


async def _reject_batch(data: BatchDecision) -> str:
    batch = await importing.decide(data.batch_id, False, data.note)
    return f"导入批次 {batch.id} 已驳回，暂存数据已删除 / batch rejected, staged rows dropped"


async def _approve_merge(data: MergeDecision) -> str:
    merge = await merging.approve_merge(data.merge_id, plugin_hooks())
    return (
        f"合并 {merge.id} 已执行：客户 {merge.merged_id} 并入 {merge.survivor_id}"
        f" / merged {merge.merged_id} into {merge.survivor_id}"
    )


async def _reject_merge(data: MergeDecision) -> str:
    merge = await merging.reject_merge(data.merge_id, data.note)
    return f"合并申请 {merge.id} 已驳回 / merge request rejected"


async def _dismiss(data: Dismissal) -> str:
    candidate = await review.dismiss(data.candidate_id, data.note)
    return f"疑似重复 {candidate.id} 已排除 / pair dismissed"


# piccolo-admin 1.14 draws a form's boolean as a True/False list and ignores choices
# there, so the label says which value shows the field.
REVEAL_FIELDS = {
    "id_number": Label("证件号码（True 为查看）", "ID number"),
    "phone": Label("手机号码（True 为查看）", "Phone"),
    "email": Label("电子邮箱（True 为查看）", "E-mail"),
    "addresses": Label("地址（True 为查看）", "Addresses"),
    "contacts": Label("联系人（True 为查看）", "Contacts"),
    "holdings": Label("账号（True 为查看）", "Account numbers"),
}


async def _reveal(data: Reveal) -> str:
    chosen = [name for name in REVEAL_FIELDS if getattr(data, name)]
    if not chosen:
        raise invalid("body", "choose True for at least one field to see")
    shown = await customers.reveal_customer(data.customer_id, data.reason, chosen)
    lines = []
    if "id_number" in chosen:
        lines.append(f"证件号码 {shown.id_number or '—'}")
    if "phone" in chosen:
        lines.append(f"手机号码 {shown.phone or '—'}")
    if "email" in chosen:
        lines.append(f"电子邮箱 {shown.email or '—'}")
    lines += [f"地址 {a.street}" for a in shown.addresses]
    lines += [f"联系人 {c.phone or ''} {c.email or ''}".rstrip() for c in shown.contacts]
    lines += [f"账号 {h.account_no}" for h in shown.holdings]
    return f"客户 {data.customer_id}（已记入审计 / audited）: " + "；".join(lines)


BATCH_FIELDS = {"batch_id": Label("批次编号", "Batch number"), "note": NOTE}
MERGE_FIELDS = {"merge_id": Label("合并申请编号", "Merge request number"), "note": NOTE}

ARCHIVE_FORMS = [
    AdminForm(
        "approve-import",
        Label("批准导入批次", "Approve an import batch"),
        Label(
            "复核他人上传并校验通过的导入批次；批准后开始入库（不能批准自己上传的批次）。",
            "Check a batch someone else uploaded and validated; approving starts the commit"
            " (never your own upload).",
        ),
        BatchDecision,
        _approve_batch,
        IMPORT_APPROVE,
        group=GROUP,
        fields=BATCH_FIELDS,
    ),
    AdminForm(
        "reject-import",
        Label("驳回导入批次", "Reject an import batch"),
        Label(
            "驳回他人上传的导入批次，暂存数据删除，可修改文件后重新上传。",
            "Reject a batch someone else uploaded; its staged rows are dropped and the file"
            " may be corrected and uploaded again.",
        ),
        BatchDecision,
        _reject_batch,
        IMPORT_APPROVE,
        group=GROUP,
        fields=BATCH_FIELDS,
    ),
    AdminForm(
        "approve-merge",
        Label("批准客户合并", "Approve a customer merge"),
        Label(
            "执行他人申请的合并：被合并客户的账户、联系人和业务记录转入保留客户；可撤销。",
            "Carry out a merge someone else requested: the merged customer's holdings,"
            " contacts and records move to the survivor; it can be undone.",
        ),
        MergeDecision,
        _approve_merge,
        MERGE_APPROVE,
        group=GROUP,
        fields=MERGE_FIELDS,
    ),
    AdminForm(
        "reject-merge",
        Label("驳回客户合并", "Reject a customer merge"),
        Label("驳回合并申请，两个客户保持不变。", "Reject a merge request; both customers stay."),
        MergeDecision,
        _reject_merge,
        MERGE_APPROVE,
        group=GROUP,
        fields=MERGE_FIELDS,
    ),
    AdminForm(
        "dismiss-duplicate",
        Label("排除疑似重复", "Dismiss a duplicate pair"),
        Label(
            "确认两个客户不是同一人，此对不再出现在复核队列中。",
            "Confirm two customers are different people; the pair leaves the review queue.",
        ),
        Dismissal,
        _dismiss,
        DUPLICATE_REVIEW,
        group=GROUP,
        fields={
            "candidate_id": Label("疑似重复编号", "Pair number"),
            "note": Label("排除理由", "Why they differ"),
        },
    ),
    AdminForm(
        "reveal-customer",
        Label("查看客户敏感信息", "Reveal a customer's personal data"),
        Label(
            "把需要查看的字段选为 True 并说明原因；仅显示所选字段，查看记入审计。",
            "Set the fields you need to True and say why; only those are shown, and the reveal"
            " is audited.",
        ),
        Reveal,
        _reveal,
        PII_REVEAL,
        group=GROUP,
        fields={
            "customer_id": Label("客户编号", "Customer number"),
            "reason": Label("查看原因", "Reason"),
            **REVEAL_FIELDS,
        },
    ),
]
