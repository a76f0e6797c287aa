"""Staff pages of the import: upload a file (with a template to start from), see a
batch's counts and every row's problems, download the error report, commit, and approve
or reject another person's upload. Every action is the import API's, called by the page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from bankcrm import messages
from bankcrm.context import require_scope
from bankcrm.workbench import language_of, render
from bankcrm_customer_archive.access import IMPORT_APPROVE, IMPORT_READ, IMPORT_WRITE
from bankcrm_customer_archive.formatting import branch_names
from bankcrm_customer_archive.importing import service

TEMPLATE = "customer_archive/"
STATUS_LABELS = {
    "validated": ("已校验，待提交", "Checked, not committed"),
    "awaiting_approval": ("待复核", "Awaiting approval"),
    "queued": ("排队中", "Queued"),
    "committing": ("提交中", "Committing"),
    "committed": ("已入库", "Committed"),
    "failed": ("失败", "Failed"),
    "rejected": ("已驳回", "Rejected"),
    "discarded": ("已放弃", "Discarded"),
}


def status_label(status: str, language: str) -> str:
    zh, en = STATUS_LABELS.get(status, (status, status))
    return en if language == "en" else zh


@get("/imports", opt={"permission": IMPORT_READ}, include_in_schema=False)
async def imports_page(request: Request[Any, Any, Any]) -> Response[str]:
    language = language_of(request)
    batches = (await service.list_batches(30, None)).items
    scope = require_scope()
    names = await branch_names(language)
    return render(
        request,
        f"{TEMPLATE}imports.html",
        batches=batches,
        branches=[(b, names[b]) for b in sorted(scope.branch_ids) if b in names],
        home=scope.home_branch_id,
        may_upload=scope.has(IMPORT_WRITE),
        status=lambda s: status_label(s, language),
        names=names,
    )


@get("/imports/{batch_id:int}", opt={"permission": IMPORT_READ}, include_in_schema=False)
async def batch_page(request: Request[Any, Any, Any], batch_id: FromPath[int]) -> Response[str]:
    language = language_of(request)
    batch = await service.get_batch(batch_id)
    problems = (await service.list_problems(batch_id, 200, None)).items
    scope = require_scope()
    return render(
        request,
        f"{TEMPLATE}import_batch.html",
        tr=lambda text: messages.translate(text, language),
        batch=batch,
        problems=problems,
        status=status_label(batch.status, language),
        may_commit=scope.has(IMPORT_WRITE) and batch.status == "validated",
        may_decide=scope.has(IMPORT_APPROVE)
        and batch.status == "awaiting_approval"
        and batch.uploaded_by != scope.user_id,
        names=await branch_names(language),
    )


IMPORT_PAGES = [imports_page, batch_page]

__all__ = ["IMPORT_PAGES", "batch_page", "imports_page", "status_label"]
