"""Admin screens of the duplicate review queue and the merge ledger (read-only).

Both change only through the REST API, which enforces maker-checker, re-points every
plugin's rows in one transaction and writes the audit trail; the admin refuses every
write to them, deletes included (a deleted ledger row could never be un-merged). The
ledger's before-images hold rows in full (ciphertexts, phones, addresses as stored), so
those columns are hidden, as is the candidates' match detail; the REST API shows both
masked.
"""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import DUPLICATE_READ
from bankcrm_customer_archive.admin_labels import GROUP
from bankcrm_customer_archive.dedupe.tables import CustomerMerge, DuplicateCandidate

_CANDIDATE_LABELS = {
    "id": ("编号", "ID"),
    "branch_id": ("机构", "Branch"),
    "customer_low": ("客户甲", "Customer A"),
    "customer_high": ("客户乙", "Customer B"),
    "probability": ("匹配概率", "Match probability"),
    "match_weight": ("匹配权重", "Match weight"),
    "reasons": ("匹配依据", "Reasons"),
    "blocked_by": ("分块规则", "Blocking rule"),
    "model_version": ("模型版本", "Model version"),
    "status": ("状态", "Status"),
    "detected_by": ("发现来源", "Detected by"),
    "detected_at": ("发现时间", "Detected at"),
    "decided_by": ("处理人", "Decided by"),
    "decided_at": ("处理时间", "Decided at"),
}

CANDIDATE_SCREEN = AdminScreen(
    table=DuplicateCandidate,
    title=Label("疑似重复客户", "Duplicate candidates"),
    permission=DUPLICATE_READ,
    columns={name: Label(zh, en) for name, (zh, en) in _CANDIDATE_LABELS.items()},
    visible_columns=("id", "customer_low", "customer_high", "probability", "status",
                     "branch_id", "detected_at", "decided_by"),
    visible_filters=("status", "branch_id", "customer_low", "customer_high", "model_version"),
    read_only_columns=tuple(name for name in _CANDIDATE_LABELS if name != "id"),
    menu_group=GROUP,
    allow_create=False,
    read_only=True,
)  # fmt: skip

_MERGE_LABELS = {
    "id": ("编号", "ID"),
    "branch_id": ("机构", "Branch"),
    "candidate": ("疑似重复记录", "Duplicate candidate"),
    "survivor": ("保留客户", "Surviving customer"),
    "merged": ("被归并客户", "Merged customer"),
    "status": ("状态", "Status"),
    "note": ("说明", "Note"),
    "requested_by": ("申请人", "Requested by"),
    "requested_at": ("申请时间", "Requested at"),
    "decided_by": ("复核人", "Checked by"),
    "decided_at": ("复核时间", "Checked at"),
    "unmerged_by": ("撤销人", "Undone by"),
    "unmerged_at": ("撤销时间", "Undone at"),
    "repointed": ("转移的记录", "Rows moved"),
    "dropped": ("删除的重复记录", "Duplicate rows removed"),
    "followed": ("随迁的附属记录", "Dependent rows moved"),
}
# Full copies of both customers and all their rows as stored: never sent to the admin.
_BEFORE_IMAGES = ("survivor_before", "merged_before", "survivor_after", "rows_before")

MERGE_SCREEN = AdminScreen(
    table=CustomerMerge,
    title=Label("客户归并台账", "Merge ledger"),
    permission=DUPLICATE_READ,
    columns={name: Label(zh, en) for name, (zh, en) in _MERGE_LABELS.items()},
    visible_columns=("id", "survivor", "merged", "status", "branch_id", "requested_by",
                     "requested_at", "decided_by", "decided_at", "unmerged_at"),
    visible_filters=("status", "branch_id", "survivor", "merged", "requested_by", "decided_by"),
    read_only_columns=tuple(name for name in _MERGE_LABELS if name != "id"),
    hidden_columns=_BEFORE_IMAGES,
    menu_group=GROUP,
    allow_create=False,
    read_only=True,
)  # fmt: skip

DEDUPE_SCREENS: tuple[AdminScreen, ...] = (CANDIDATE_SCREEN, MERGE_SCREEN)
