"""Staff pages of duplicate review: the open pairs, most probable first, and one pair side
by side with the fields that differ marked, to dismiss it or request the merge (which a
second person approves on the merges list)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from bankcrm.context import require_scope
from bankcrm.plugin_api import plugin_hooks
from bankcrm.workbench import language_of, plain, render
from bankcrm_customer_archive.access import DUPLICATE_READ, DUPLICATE_REVIEW, MERGE_APPROVE
from bankcrm_customer_archive.dedupe import merging, review
from bankcrm_customer_archive.formatting import Formatter, branch_names

TEMPLATE = "customer_archive/"
COMPARED = (
    "name", "name_pinyin", "kind", "id_type", "id_number", "gender", "birth_date", "phone",
    "email", "address", "branch_id", "addresses", "contacts", "holdings", "tags", "created_at",
)  # fmt: skip


@get("/duplicates", opt={"permission": DUPLICATE_READ}, include_in_schema=False)
async def duplicates_page(request: Request[Any, Any, Any]) -> Response[str]:
    pairs = (await review.list_candidates("open", 0.0, 50, None)).items
    merges = await merging.list_merges("requested", 50, None)
    return render(
        request,
        f"{TEMPLATE}duplicates.html",
        pairs=pairs,
        merges=merges,
        may_approve=require_scope().has(MERGE_APPROVE),
        user_id=require_scope().user_id,
    )


@get("/duplicates/{candidate_id:int}", opt={"permission": DUPLICATE_READ}, include_in_schema=False)
async def pair_page(request: Request[Any, Any, Any], candidate_id: FromPath[int]) -> Response[str]:
    language = language_of(request)
    comparison = await review.compare(candidate_id)
    left, right = plain(comparison.left), plain(comparison.right)
    rows = [
        (key, left.get(key), right.get(key), left.get(key) == right.get(key)) for key in COMPARED
    ]
    return render(
        request,
        f"{TEMPLATE}duplicate_pair.html",
        comparison=comparison,
        rows=rows,
        fmt=Formatter(plugin_hooks(), language, await branch_names(language)),
        may_review=require_scope().has(DUPLICATE_REVIEW) and comparison.candidate.status == "open",
    )


DUPLICATE_PAGES = [duplicates_page, pair_page]

__all__ = ["DUPLICATE_PAGES", "duplicates_page", "pair_page"]
