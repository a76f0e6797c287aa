"""The admin screen of import batches: status, counts and commit progress (read-only).

Batches change only through the import API (upload, commit, approve, reject), which
checks the maker-checker rule and writes the audit trail; here every column is read-only
and rows cannot be created.
"""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_customer_archive.access import IMPORT_READ
from bankcrm_customer_archive.importing.tables import ImportBatch

_LABELS = {
    "id": ("批次号", "Batch"),
    "branch_id": ("机构", "Branch"),
    "kind": ("导入类型", "Kind"),
    "source": ("数据来源", "Source"),
    "file_name": ("文件名", "File name"),
    "file_sha256": ("文件指纹 (SHA-256)", "File SHA-256"),
    "file_size": ("文件大小（字节）", "File size (bytes)"),
    "file_format": ("格式", "Format"),
    "encoding": ("编码", "Encoding"),
    "delimiter": ("分隔符", "Delimiter"),
    "headers": ("表头", "Headers"),
    "mapping": ("列映射", "Column mapping"),
    "unknown_columns": ("未导入的列", "Columns not imported"),
    "not_imported_columns": ("未导入的列及原因", "Columns not imported, with reasons"),
    "status": ("状态", "Status"),
    "total_rows": ("总行数", "Rows"),
    "valid_rows": ("有效行", "Valid"),
    "invalid_rows": ("错误行", "Invalid"),
    "duplicate_rows": ("文件内重复", "Duplicates in file"),
    "existing_rows": ("已存在", "Already existing"),
    "warning_rows": ("有警告的行", "Rows with warnings"),
    "committed_rows": ("已导入", "Committed"),
    "progress_phase": ("进度阶段", "Progress phase"),
    "progress_done": ("已完成", "Done"),
    "progress_total": ("共计", "Total"),
    "progress_at": ("进度更新时间", "Progress at"),
    "error": ("失败原因", "Error"),
    "uploaded_by": ("上传人", "Uploaded by"),
    "decided_by": ("复核人", "Checked by"),
    "decision_note": ("复核意见", "Checker's note"),
    "created_at": ("上传时间", "Uploaded at"),
    "validated_seconds": ("校验耗时（秒）", "Validation seconds"),
    "committed_at": ("导入完成时间", "Committed at"),
}

IMPORT_BATCH_SCREEN = AdminScreen(
    table=ImportBatch,
    title=Label("导入批次", "Import batches"),
    permission=IMPORT_READ,
    columns={name: Label(zh, en) for name, (zh, en) in _LABELS.items()},
    visible_columns=(
        "id", "branch_id", "kind", "file_name", "status", "total_rows", "valid_rows",
        "invalid_rows", "existing_rows", "committed_rows", "progress_done", "progress_total",
        "created_at",
    ),
    visible_filters=("status", "kind", "branch_id", "uploaded_by"),
    read_only_columns=tuple(name for name in _LABELS if name != "id"),
    menu_group=Label("客户档案", "Customer archive"),
    allow_create=False,
    # The import's own records: staff follow their uploads through the import API.
    technical=True,
)  # fmt: skip
