"""REST API of advanced search, saved searches, segments and exports (:mod:`.search`,
:mod:`.export`), under ``/api/v1/customer_archive``.

``GET /customers`` takes the filter as query parameters (lists repeat the parameter:
``value_tiers=private&value_tiers=wealth``); ``POST /customers/search`` takes the same
filter as a JSON body (unknown fields refused). Both answer keyset pages, newest first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from bankcrm.web.pagination import MAX_LIMIT, Page, check_limit, decode_cursor
from bankcrm.web.problems import invalid
from bankcrm_customer_archive.access import CUSTOMER_EXPORT, CUSTOMER_READ
from bankcrm_customer_archive.schemas import CustomerSummary
from bankcrm_customer_archive.search import export
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.search.services import (
    CountOut,
    CustomerFilter,
    SavedSearchIn,
    SavedSearchOut,
    SavedSearchPatch,
)

Q = Annotated[
    str | None,
    QueryParameter(
        max_length=100,
        description=(
            "Name characters (any part), pinyin (any part, e.g. wangxiu) or pinyin initials (wxy)"
        ),
    ),
]
TextQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=100,
        description="Two or more characters of the name, company or an address (district, street)",
    ),
]
CompanyQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=100,
        description="Two or more characters of a corporate name or an individual's employer",
    ),
]
AddressQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=100, description="Two or more characters of an address's district and street"
    ),
]
Phone = Annotated[
    str | None,
    QueryParameter(
        max_length=32,
        description="A full phone number (also contact persons') or its last 4 to 10 digits",
    ),
]
IdNumberQuery = Annotated[
    str | None, QueryParameter(max_length=32, description="Exact identity document number")
]
TagQuery = Annotated[str | None, QueryParameter(max_length=32, description="Tag name")]
TagsQuery = Annotated[
    list[str] | None, QueryParameter(max_items=20, description="Tag names (see tag_match)")
]
TagIdsQuery = Annotated[list[int] | None, QueryParameter(max_items=20)]
TagMatchQuery = Annotated[Literal["any", "all"], QueryParameter()]
KindQuery = Annotated[Literal["individual", "corporate"] | None, QueryParameter()]
StatusesQuery = Annotated[list[Literal["active", "dormant", "closed"]] | None, QueryParameter()]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch and its sub-branches"),
]
TiersQuery = Annotated[
    list[Literal["private", "wealth", "affluent", "mass"]] | None, QueryParameter()
]
GradesQuery = Annotated[
    list[Literal["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"]] | None,
    QueryParameter(),
]
RisksQuery = Annotated[list[Literal["C1", "C2", "C3", "C4", "C5"]] | None, QueryParameter()]
ProductCodesQuery = Annotated[list[str] | None, QueryParameter(max_items=50)]
CategoriesQuery = Annotated[
    list[Literal["deposit", "loan", "card", "wealth"]] | None, QueryParameter()
]
MoneyQuery = Annotated[
    Decimal | None, QueryParameter(description="CNY, inclusive (AUM: open asset holdings)")
]
DateQuery = Annotated[date | None, QueryParameter()]
Cursor = Annotated[str | None, QueryParameter(max_length=512)]
Limit = Annotated[int, QueryParameter(description="1 to 200")]
FormatQuery = Annotated[Literal["csv", "xlsx"], QueryParameter()]
ExportLimit = Annotated[
    int | None,
    QueryParameter(ge=1, le=10_000_000, description="Only the newest N (default: all)"),
]
RevealQuery = Annotated[
    bool, QueryParameter(description="Personal data in clear (needs pii.reveal and a reason)")
]
ReasonQuery = Annotated[str, QueryParameter(max_length=500)]
KindOfSearchQuery = Annotated[Literal["private", "segment"] | None, QueryParameter()]
PathId = FromPath[int]


def _query_filter(params: dict[str, Any]) -> CustomerFilter:
    given = {k: v for k, v in params.items() if v is not None}
    try:
        return msgspec.convert(given, CustomerFilter, strict=False)
    except msgspec.ValidationError as exc:
        raise invalid(*search.error_path("query", exc)) from exc


EXPORT_OPT = {"permission": CUSTOMER_EXPORT, "media_types": tuple(export.MEDIA_TYPES.values())}
"""Exports answer CSV or xlsx, as the request's ``format`` asks."""


def _streamed(plan: export.ExportPlan) -> Stream:
    chunks = export.stream_export(plan)
    return Stream(
        chunks,
        media_type=plan.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{plan.filename}"',
            "X-Export-Rows": str(plan.matching),
        },
        # Runs after the response, also when the client went away mid-stream: closing
        # the generator ends its transaction and audits what was read.
        background=BackgroundTask(chunks.aclose),
    )


class CustomerSearchMixin:
    """``GET /customers``: mixed into the customer controller of :mod:`.api`, which owns
    the ``/customers`` path (two controllers on one path clash over its OPTIONS route)."""

    @get("/", opt={"permission": CUSTOMER_READ})
    async def search(
        self,
        q: Q = None,
        text: TextQuery = None,
        company: CompanyQuery = None,
        address: AddressQuery = None,
        phone: Phone = None,
        id_number: IdNumberQuery = None,
        tag: TagQuery = None,
        tags: TagsQuery = None,
        tag_ids: TagIdsQuery = None,
        tag_match: TagMatchQuery = "any",
        kind: KindQuery = None,
        statuses: StatusesQuery = None,
        branch_id: BranchQuery = None,
        relationship_manager_id: IdQuery = None,
        segment_id: IdQuery = None,
        value_tiers: TiersQuery = None,
        credit_grades: GradesQuery = None,
        risk_tolerances: RisksQuery = None,
        product_codes: ProductCodesQuery = None,
        product_categories: CategoriesQuery = None,
        aum_min: MoneyQuery = None,
        aum_max: MoneyQuery = None,
        created_from: DateQuery = None,
        created_to: DateQuery = None,
        birth_from: DateQuery = None,
        birth_to: DateQuery = None,
        holding_opened_from: DateQuery = None,
        holding_opened_to: DateQuery = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[CustomerSummary]:
        """Search customers (newest first, keyset pages); personal data masked."""
        check_limit(limit)
        params = dict(locals())
        for name in ("self", "limit", "cursor"):
            params.pop(name)
        return await search.search_customers(_query_filter(params), limit, cursor)


class CustomerSearchIn(
    CustomerFilter, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """``POST /customers/search``: the filter's fields and the page, as the GET takes them."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)] | None = None
    """Customers per page, 1 to 200 (default 50)."""
    cursor: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    """``next_cursor`` of the previous page."""


class CustomerSearchController(Controller):
    path = "/customers"
    tags = ("customer_archive: search",)

    @post("/search", opt={"permission": CUSTOMER_READ}, status_code=200)
    async def search_by_body(
        self, data: JSONBody[CustomerSearchIn], limit: Limit = 50, cursor: Cursor = None
    ) -> Page[CustomerSummary]:
        """The same search with the filter as a JSON body (unknown fields refused); the
        page's ``limit`` and ``cursor`` in the body too (they win over the query's)."""
        if data.cursor is not None:
            decode_cursor(data.cursor, (int,), parameter="body.cursor")
            cursor = data.cursor
        limit = check_limit(limit) if data.limit is None else data.limit
        criteria = CustomerFilter(
            **{name: getattr(data, name) for name in CustomerFilter.__struct_fields__}
        )
        return await search.search_customers(criteria, limit, cursor, prefix="body")

    @post("/count", opt={"permission": CUSTOMER_READ}, status_code=200)
    async def count(self, data: JSONBody[CustomerFilter]) -> CountOut:
        """How many customers in your scope match the filter."""
        return CountOut(await search.count_customers(data, prefix="body"))

    @get("/export", opt=EXPORT_OPT, media_type="text/csv")
    async def export_by_query(
        self,
        q: Q = None,
        text: TextQuery = None,
        company: CompanyQuery = None,
        address: AddressQuery = None,
        phone: Phone = None,
        id_number: IdNumberQuery = None,
        tag: TagQuery = None,
        tags: TagsQuery = None,
        tag_ids: TagIdsQuery = None,
        tag_match: TagMatchQuery = "any",
        kind: KindQuery = None,
        statuses: StatusesQuery = None,
        branch_id: BranchQuery = None,
        relationship_manager_id: IdQuery = None,
        segment_id: IdQuery = None,
        value_tiers: TiersQuery = None,
        credit_grades: GradesQuery = None,
        risk_tolerances: RisksQuery = None,
        product_codes: ProductCodesQuery = None,
        product_categories: CategoriesQuery = None,
        aum_min: MoneyQuery = None,
        aum_max: MoneyQuery = None,
        created_from: DateQuery = None,
        created_to: DateQuery = None,
        birth_from: DateQuery = None,
        birth_to: DateQuery = None,
        holding_opened_from: DateQuery = None,
        holding_opened_to: DateQuery = None,
        format: FormatQuery = "csv",  # noqa: A002 - the parameter's public name
        limit: ExportLimit = None,
        reveal: RevealQuery = False,
        reason: ReasonQuery = "",
        language: Annotated[Literal["zh", "en"], QueryParameter()] = "zh",
        codes: Annotated[bool, QueryParameter()] = False,
    ) -> Stream:
        """Matching customers as CSV or xlsx, streamed (masked unless revealed with a
        reason); audited as an export."""
        params = dict(locals())
        for name in ("self", "format", "limit", "reveal", "reason", "language", "codes"):
            params.pop(name)
        plan = await export.plan_export(
            _query_filter(params), format, limit=limit, reveal=reveal, reason=reason,
            language=language, codes=codes,
        )  # fmt: skip
        return _streamed(plan)

    @post("/export", opt=EXPORT_OPT, status_code=200)
    async def export_by_body(self, data: JSONBody[export.ExportIn]) -> Stream:
        """Export a filter, saved search or segment (JSON body), streamed."""
        plan = await export.plan_export(
            data.filter, data.format, limit=data.limit, reveal=data.reveal,
            reason=data.reason, saved_search_id=data.saved_search_id, prefix="body",
            language=data.language, codes=data.codes,
        )  # fmt: skip
        return _streamed(plan)


class SavedSearchController(Controller):
    path = "/saved-searches"
    tags = ("customer_archive: saved searches and segments",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_saved(self, kind: KindOfSearchQuery = None) -> list[SavedSearchOut]:
        """Your private saved searches and the segments of the branches you see."""
        return await search.list_saved_searches(kind)

    @post("/", opt={"permission": CUSTOMER_READ})
    async def create(self, data: JSONBody[SavedSearchIn]) -> SavedSearchOut:
        """Save a search (private) or a segment (shared with a branch; needs
        ``customer_archive.segment.write``)."""
        return await search.create_saved_search(data)

    @get("/{search_id:int}", opt={"permission": CUSTOMER_READ})
    async def detail(self, search_id: PathId) -> SavedSearchOut:
        return await search.get_saved_search(search_id)

    @patch("/{search_id:int}", opt={"permission": CUSTOMER_READ})
    async def update(self, search_id: PathId, data: JSONBody[SavedSearchPatch]) -> SavedSearchOut:
        return await search.update_saved_search(search_id, data)

    @delete("/{search_id:int}", opt={"permission": CUSTOMER_READ}, status_code=204)
    async def remove(self, search_id: PathId) -> None:
        await search.delete_saved_search(search_id)

    @get("/{search_id:int}/customers", opt={"permission": CUSTOMER_READ})
    async def run(
        self, search_id: PathId, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[CustomerSummary]:
        """The customers the saved search selects now (evaluated live), newest first."""
        check_limit(limit)
        return await search.run_saved_search(search_id, limit, cursor)

    @get("/{search_id:int}/count", opt={"permission": CUSTOMER_READ})
    async def count(self, search_id: PathId) -> CountOut:
        """How many customers the saved search or segment selects now."""
        return CountOut(await search.count_saved_search(search_id))

    @get("/{search_id:int}/export", opt=EXPORT_OPT, media_type="text/csv")
    async def export_saved(
        self,
        search_id: PathId,
        format: FormatQuery = "csv",  # noqa: A002 - the parameter's public name
        limit: ExportLimit = None,
        reveal: RevealQuery = False,
        reason: ReasonQuery = "",
        language: Annotated[Literal["zh", "en"], QueryParameter()] = "zh",
        codes: Annotated[bool, QueryParameter()] = False,
    ) -> Stream:
        """The saved search's customers as CSV or xlsx, streamed; audited as an export."""
        plan = await export.plan_export(
            CustomerFilter(), format, limit=limit, reveal=reveal, reason=reason,
            saved_search_id=search_id, language=language, codes=codes,
        )  # fmt: skip
        return _streamed(plan)


ROUTES: list[Any] = [CustomerSearchController, SavedSearchController]
