"""Staff pages of the archive: find a customer, add one, and the customer's 360° page.

The 360° page renders whatever sections the plugins contribute (``customer_360_sections``)
from their shape alone (see :mod:`.formatting`); personal data stays masked until the
viewer reveals chosen fields with a reason (the reveal API, audited). Reading the page
records the view like the API. Writes go through the JSON API from the page's script, so
a form has exactly the API's validation. The import and duplicate pages live with their
features (:mod:`.importing.pages`, :mod:`.dedupe.pages`).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from bankcrm import branches
from bankcrm.context import require_scope
from bankcrm.plugin_api import Label, WorkbenchLink, plugin_hooks
from bankcrm.web.problems import Problem
from bankcrm.workbench import language_of, plain, render
from bankcrm_customer_archive.access import (
    CUSTOMER_READ,
    CUSTOMER_WRITE,
    DUPLICATE_READ,
    IMPORT_READ,
    PII_REVEAL,
)
from bankcrm_customer_archive.enumerations import ENUMERATIONS
from bankcrm_customer_archive.formatting import Formatter, branch_names, chart, is_records
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.search.services import CustomerFilter
from bankcrm_customer_archive.view_360.services import customer_360

PLUGIN = MANIFEST.name
LINKS = [
    WorkbenchLink(
        Label("客户查询", "Find a customer"),
        f"/app/{PLUGIN}/customers",
        CUSTOMER_READ,
        Label("按姓名、拼音、电话查找，打开客户360视图", "By name, pinyin or phone"),
    ),
    WorkbenchLink(
        Label("新建客户", "New customer"),
        f"/app/{PLUGIN}/customers/new",
        CUSTOMER_WRITE,
        Label("与接口相同的校验", "Checked as the API checks"),
    ),
    WorkbenchLink(
        Label("客户导入", "Import customers"),
        f"/app/{PLUGIN}/imports",
        IMPORT_READ,
        Label("上传文件、查看错误报告、提交与复核", "Upload, error report, commit, approve"),
    ),
    WorkbenchLink(
        Label("疑似重复客户", "Possible duplicates"),
        f"/app/{PLUGIN}/duplicates",
        DUPLICATE_READ,
        Label("逐对比较，合并或排除", "Compare pairs, merge or dismiss"),
    ),
]


def choices(name: str, language: str) -> list[tuple[str, str]]:
    """``(value, label)`` of one of the archive's enumerations, for a form's select."""
    found = next(e for e in ENUMERATIONS if e.name == name)
    return [(v, label.en if language == "en" else label.zh) for v, label in found.labels.items()]


@get("/customers", opt={"permission": CUSTOMER_READ}, include_in_schema=False)
async def customers_page(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    phone: Annotated[str | None, QueryParameter(max_length=32)] = None,
) -> Response[str]:
    """Find customers by name (characters, pinyin, initials) or phone; newest first."""
    found: list[Any] = []
    problem = None
    if q or phone:
        try:
            criteria = CustomerFilter(q=q or None, phone=phone or None)
            found = (await search.search_customers(criteria, 50)).items
        except Problem as exc:
            problem = exc.detail
    language = language_of(request)
    return render(
        request,
        f"{PLUGIN}/customers.html",
        q=q or "",
        phone=phone or "",
        customers=found,
        problem=problem,
        fmt=Formatter(plugin_hooks(), language, await branch_names(language)),
    )


@get("/customers/new", opt={"permission": CUSTOMER_WRITE}, include_in_schema=False)
async def new_customer_page(request: Request[Any, Any, Any]) -> Response[str]:
    """A form for one customer, sent to ``POST /api/v1/customer_archive/customers``."""
    language = language_of(request)
    names = await branch_names(language)
    scope = require_scope()
    tree = await branches.snapshot()
    where = [
        (b, names[b])
        for b in sorted(scope.branch_ids)
        if b in names and tree.plugin_enabled(b, PLUGIN)
    ]
    return render(
        request,
        f"{PLUGIN}/customer_new.html",
        branches=where,
        home=scope.home_branch_id,
        kinds=choices("customer_archive.customer_kind", language),
        id_types=choices("customer_archive.id_type", language),
        genders=choices("customer_archive.gender", language),
    )


@get("/customers/{customer_id:int}", opt={"permission": CUSTOMER_READ}, include_in_schema=False)
async def customer_page(
    request: Request[Any, Any, Any], customer_id: FromPath[int]
) -> Response[str]:
    """The customer's 360° page: every plugin's sections and the timeline."""
    registry = plugin_hooks()
    view = await customer_360(customer_id, registry)
    language = language_of(request)
    sections = [plain(s) for s in view.sections]
    profile = sections[0]["data"].get("customer", {})
    return render(
        request,
        f"{PLUGIN}/customer_360.html",
        view=view,
        sections=sections,
        profile=profile,
        fmt=Formatter(registry, language, await branch_names(language)),
        chart=lambda points: chart(points, language),
        is_records=is_records,
        may_reveal=require_scope().has(PII_REVEAL),
        reveal_url=f"/api/v1/{PLUGIN}/customers/{customer_id}/reveal",
    )


CUSTOMER_PAGES: list[Any] = [customers_page, new_customer_page, customer_page]

__all__ = [
    "CUSTOMER_PAGES",
    "LINKS",
    "choices",
    "customer_page",
    "customers_page",
    "new_customer_page",
]
