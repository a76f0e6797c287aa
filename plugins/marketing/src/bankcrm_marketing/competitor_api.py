"""REST routes of the competitors (竞争对手), mounted under ``/api/v1/marketing``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_marketing import access, competitors

READ = {"permission": access.COMPETITOR_READ}
WRITE = {"permission": access.COMPETITOR_WRITE, "problems": (409,)}

LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]
ActiveQuery = Annotated[bool | None, QueryParameter(description="Only active (or inactive)")]
CategoryQuery = Annotated[
    Literal["deposit", "loan", "card", "wealth"],
    QueryParameter(description="The product category compared"),
]
DateQuery = Annotated[date | None, QueryParameter(description="A day (YYYY-MM-DD)")]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
CodeQuery = Annotated[
    str | None, QueryParameter(min_length=1, max_length=32, description="Our product's code")
]
OutcomeQuery = Annotated[Literal["won", "lost"] | None, QueryParameter()]


class CompetitorController(Controller):
    path = "/competitors"
    tags = ("marketing: competitors",)

    @get("/", opt=READ)
    async def list_competitors(
        self, active: ActiveQuery = None, limit: LimitQuery = 50, cursor: CursorQuery = None
    ) -> Page[competitors.CompetitorOut]:
        """The competitors registered by the branches in your scope."""
        check_limit(limit)
        return await competitors.list_competitors(active=active, limit=limit, cursor=cursor)

    @post("/", opt=WRITE)
    async def create(self, data: JSONBody[competitors.CompetitorIn]) -> competitors.CompetitorOut:
        """Register a competitor in one of your branches (a name once per branch)."""
        return await competitors.create_competitor(data)

    @get("/{competitor_id:int}", opt=READ)
    async def detail(self, competitor_id: FromPath[int]) -> competitors.CompetitorOut:
        return await competitors.get_competitor(competitor_id)

    @patch("/{competitor_id:int}", opt=WRITE)
    async def update(
        self, competitor_id: FromPath[int], data: JSONBody[competitors.CompetitorPatch]
    ) -> competitors.CompetitorOut:
        """Change a competitor, or set it inactive (left out of rate comparisons)."""
        return await competitors.update_competitor(competitor_id, data)

    @get("/{competitor_id:int}/products", opt=READ)
    async def products(self, competitor_id: FromPath[int]) -> list[competitors.ProductOut]:
        return await competitors.list_products(competitor_id)

    @post(
        "/{competitor_id:int}/products",
        opt={**WRITE, "location": "/api/v1/marketing/competitor-products/{id}"},
    )
    async def add_product(
        self, competitor_id: FromPath[int], data: JSONBody[competitors.ProductIn]
    ) -> competitors.ProductOut:
        return await competitors.add_product(competitor_id, data)


@get(
    "/competitor-products/{competitor_product_id:int}",
    opt=READ,
    tags=["marketing: competitors"],
)
async def competitor_product(competitor_product_id: FromPath[int]) -> competitors.ProductOut:
    return await competitors.get_product(competitor_product_id)


class RateController(Controller):
    path = "/rates"
    tags = ("marketing: competitors",)

    @get("/", opt=READ)
    async def list_rates(
        self,
        competitor_product_id: IdQuery = None,
        product_code: CodeQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[competitors.RateOut]:
        """Rates newest first by the day they take effect: with a product, its history."""
        check_limit(limit)
        return await competitors.list_rates(
            competitor_product_id=competitor_product_id,
            product_code=product_code,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def record(self, data: JSONBody[competitors.RateIn]) -> competitors.RateOut:
        """Record a rate of a competitor's product or of ours from a day on; earlier rates
        stay as the history."""
        return await competitors.record_rate(data)

    @get("/{rate_id:int}", opt=READ)
    async def detail(self, rate_id: FromPath[int]) -> competitors.RateOut:
        return await competitors.get_rate(rate_id)

    @get("/comparison", opt=READ)
    async def comparison(
        self, product_category: CategoryQuery, on: DateQuery = None
    ) -> competitors.RateComparison:
        """Our products of a category against the competitors', each at the rate in force
        on the day (default: today), best first, with the gap to our best: one bar each."""
        return await competitors.compare_rates(product_category, on)


class DealController(Controller):
    path = "/competitor-deals"
    tags = ("marketing: competitors",)

    @get("/", opt=READ)
    async def list_deals(
        self,
        competitor_id: IdQuery = None,
        outcome: OutcomeQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[competitors.DealOut]:
        check_limit(limit)
        return await competitors.list_deals(
            competitor_id=competitor_id, outcome=outcome, limit=limit, cursor=cursor
        )

    @post("/", opt=WRITE)
    async def record(self, data: JSONBody[competitors.DealIn]) -> competitors.DealOut:
        """Record a deal won or lost against a competitor (in the competitor's branch)."""
        return await competitors.record_deal(data)

    @get("/{deal_id:int}", opt=READ)
    async def detail(self, deal_id: FromPath[int]) -> competitors.DealOut:
        return await competitors.get_deal(deal_id)

    @get("/summary", opt=READ)
    async def summary(self, start: DateQuery = None, end: DateQuery = None) -> competitors.WinLoss:
        """Deals closed in ``[start, end)`` (default: the last 90 days) by competitor:
        won, lost, win rate, amounts and the commonest reasons for losing."""
        return await competitors.win_loss(start, end)

    @post("/sync", opt=WRITE, status_code=200)
    async def sync(self, since: DateQuery = None) -> competitors.SyncOut:
        """Take the deals closed since ``since`` (default: 35 days ago) in your branches
        from the plugins that report them (sales); each is recorded once."""
        return await competitors.sync_deals(since)


ROUTES: list[Any] = [CompetitorController, competitor_product, RateController, DealController]
