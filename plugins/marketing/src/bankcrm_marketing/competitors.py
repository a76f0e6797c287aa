"""Competitors (竞争对手): the institutions a branch competes with, their products and
published rates (with the day each takes effect, so the history stays), our own rates to
compare with, and the deals won or lost against them.

Deals come from staff and from any plugin implementing ``marketing_competitor_deals``
(sales, when it is installed): :func:`sync_deals` asks them and records each deal once.
Every function runs under the caller's bound scope: row-level security shows and changes
only rows of the branches in that scope (another branch's row is a 404).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, branches, db
from bankcrm.context import require_scope
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_marketing.common import Id, LongText, Money, blank_checked, branch_for_new

log = logging.getLogger(__name__)

COMPETITOR = "marketing_competitor"
PRODUCT = "marketing_competitor_product"
RATE = "marketing_rate"
DEAL = "marketing_competitor_deal"
ENTITY_COMPETITOR = "marketing.competitor"
ENTITY_PRODUCT = "marketing.competitor_product"
ENTITY_RATE = "marketing.rate"
ENTITY_DEAL = "marketing.competitor_deal"
SYNC_DAYS = 35
"""The daily job asks for the deals closed in this many days (each recorded once)."""

Name = Annotated[str, Meta(min_length=1, max_length=100)]
InstitutionTypeName = Literal["bank", "securities", "insurance", "fintech", "other"]
Category = Literal["deposit", "loan", "card", "wealth"]
OutcomeName = Literal["won", "lost"]
Term = Annotated[int, Meta(ge=1, le=600)]
Website = Annotated[str, Meta(max_length=200)]
ProductCode = Annotated[str, Meta(min_length=1, max_length=32)]
RateValue = Decimal
"""A rate in % a year: checked by :func:`rate_checked` (-100 to 100, four decimals)."""
LOWER_IS_BETTER = frozenset({"loan", "card"})
"""For these categories the customer prefers a lower rate (what they pay)."""


class CompetitorIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    institution_type: InstitutionTypeName = "bank"
    website: Website = ""
    note: LongText = ""
    branch_id: Id | None = None
    """Default: your home branch. It must be one of the branches in your scope."""


class CompetitorPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    institution_type: InstitutionTypeName | UnsetType = UNSET
    website: Website | UnsetType = UNSET
    note: LongText | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class CompetitorOut(Struct):
    id: int
    branch_id: int
    name: str
    institution_type: str
    website: str
    note: str
    active: bool
    created_at: datetime
    updated_at: datetime


class ProductIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    product_category: Category
    term_months: Term | None = None
    note: LongText = ""


class ProductOut(Struct):
    id: int
    branch_id: int
    competitor_id: int
    name: str
    product_category: str
    term_months: int | None
    note: str
    created_at: datetime


class RateIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A rate of a competitor's product (``competitor_product_id``) or of one of our
    products (``product_code``, from the archive's catalogue): exactly one of the two."""

    competitor_product_id: Id | None = None
    product_code: ProductCode | None = None
    rate: RateValue
    """% a year, e.g. 2.15."""
    effective_from: date
    source: LongText = ""
    branch_id: Id | None = None
    """For our products: the branch whose rate it is (default: your home branch). A
    competitor's product's rate goes to the product's branch."""


class RateOut(Struct):
    id: int
    branch_id: int
    competitor_product_id: int | None
    product_code: str | None
    rate: Decimal
    effective_from: date
    source: str
    created_at: datetime


class DealIn(Struct, forbid_unknown_fields=True, kw_only=True):
    competitor_id: Id
    outcome: OutcomeName
    closed_on: date
    product_category: Category | None = None
    amount: Money | None = None
    reason: LongText = ""
    customer_id: Id | None = None


class DealOut(Struct):
    id: int
    branch_id: int
    competitor_id: int | None
    competitor_name: str
    outcome: str
    product_category: str | None
    amount: Decimal | None
    reason: str
    customer_id: int | None
    closed_on: date
    source: str
    source_ref: str
    created_at: datetime


class ReportedDeal(Struct, forbid_unknown_fields=False):
    """What a ``marketing_competitor_deals`` answer carries for each deal."""

    ref: Annotated[str, Meta(min_length=1, max_length=64)]
    branch_id: int
    competitor: Annotated[str, Meta(max_length=100)]
    outcome: OutcomeName
    closed_on: date
    amount: Decimal | None = None
    reason: Annotated[str, Meta(max_length=4000)] = ""
    customer_id: int | None = None
    product_category: Category | None = None


class SyncOut(Struct):
    received: int
    recorded: int
    """New deals and deals whose details changed."""
    skipped: int
    """Answers that were malformed, without a competitor or outside the branches asked."""


class RateRow(Struct):
    ours: bool
    competitor_id: int | None
    competitor_name: str | None
    competitor_product_id: int | None
    product_code: str | None
    product_name: str
    term_months: int | None
    rate: Decimal
    effective_from: date
    difference: Decimal | None
    """This rate minus our best rate (percentage points); None without a rate of ours."""


class RateComparison(Struct):
    product_category: str
    on: date
    better: str
    """``higher`` (deposits, wealth: what the customer earns) or ``lower`` (loans, cards)."""
    our_best: Decimal | None
    competitor_best: Decimal | None
    gap: Decimal | None
    """Our best minus the competitors' best, in the category's good direction: positive
    when we are ahead."""
    rows: list[RateRow]
    """Ours first, then the competitors', each group best first: one bar each."""


class ReasonCount(Struct):
    reason: str
    count: int


class CompetitorSummary(Struct):
    competitor_id: int | None
    competitor_name: str
    won: int
    lost: int
    win_rate: float | None
    """Won among the deals, in %."""
    won_amount: Decimal
    lost_amount: Decimal
    lost_reasons: list[ReasonCount]
    """The three commonest reasons of the deals lost, commonest first."""


class WinLoss(Struct):
    start: date
    end: date
    won: int
    lost: int
    competitors: list[CompetitorSummary]
    """Most deals first."""


COMPETITOR_COLUMNS = (
    "id, branch_id, name, institution_type, website, note, active, created_at, updated_at"
)
PRODUCT_COLUMNS = (
    "id, branch_id, competitor AS competitor_id, name, product_category, term_months, note,"
    " created_at"
)
RATE_COLUMNS = (
    "id, branch_id, competitor_product AS competitor_product_id, product_code, rate,"
    " effective_from, source, created_at"
)
DEAL_COLUMNS = (
    "id, branch_id, competitor AS competitor_id, competitor_name, outcome, product_category,"
    " amount, reason, customer AS customer_id, closed_on, source, source_ref, created_at"
)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Decimal | date | datetime) else v) for k, v in values.items()
    }


def rate_checked(value: Decimal, field_name: str) -> Decimal:
    if not value.is_finite() or not Decimal(-100) <= value <= Decimal(100):
        raise invalid(field_name, "must be a rate in % from -100 to 100")
    if value != value.quantize(Decimal("0.0001")):
        raise invalid(field_name, "at most four decimals")
    return value


async def _returning(sql: str, *args: Any) -> Any:
    """The row an ``INSERT``/``UPDATE … RETURNING`` of one row answers."""
    row = await db.fetchrow(sql, *args)
    assert row is not None
    return row


def _unique_violation(error: Exception) -> bool:
    return getattr(error, "sqlstate", None) == "23505"


# --- competitors ------------------------------------------------------------------------


async def list_competitors(
    *, active: bool | None = None, limit: int = 50, cursor: str | None = None
) -> Page[CompetitorOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COMPETITOR_COLUMNS} FROM {COMPETITOR}"
        " WHERE ($1::boolean IS NULL OR active = $1) AND ($2::bigint IS NULL OR id > $2)"
        " ORDER BY id LIMIT $3",
        active,
        after[0] if after else None,
        limit + 1,
    )
    items = [CompetitorOut(**dict(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def _competitor_row(competitor_id: int, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"SELECT {COMPETITOR_COLUMNS} FROM {COMPETITOR} WHERE id = $1"
        f"{' FOR UPDATE' if lock else ''}",
        competitor_id,
    )
    if row is None:
        raise not_found(f"competitor {competitor_id}")
    return row


async def get_competitor(competitor_id: int) -> CompetitorOut:
    return CompetitorOut(**dict(await _competitor_row(competitor_id)))


def _duplicate_name(name: str) -> Problem:
    return Problem(
        409,
        f"the branch already has a competitor named {name!r}",
        [FieldError("body.name", "already registered in this branch")],
        "duplicate_competitor",
    )


async def create_competitor(data: CompetitorIn) -> CompetitorOut:
    branch_id = branch_for_new(data.branch_id)
    name = blank_checked(data.name, "body.name")
    try:
        async with db.transaction():
            row = await _returning(
                f"INSERT INTO {COMPETITOR} (branch_id, name, institution_type, website, note,"
                " active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, true, now(),"
                f" now()) RETURNING {COMPETITOR_COLUMNS}",
                branch_id,
                name,
                data.institution_type,
                data.website.strip(),
                data.note,
            )
            await audit.record(
                "create", ENTITY_COMPETITOR, row["id"], branch_id=branch_id, after=_plain(row)
            )
    except Exception as error:
        if _unique_violation(error):
            raise _duplicate_name(name) from None
        raise
    return CompetitorOut(**dict(row))


async def update_competitor(competitor_id: int, data: CompetitorPatch) -> CompetitorOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "name" in changes:
        changes["name"] = blank_checked(changes["name"], "body.name")
    try:
        async with db.transaction():
            before = await _competitor_row(competitor_id, lock=True)
            if not changes:
                return CompetitorOut(**dict(before))
            sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
            row = await _returning(
                f"UPDATE {COMPETITOR} SET {sets}, updated_at = now() WHERE id = $1"
                f" RETURNING {COMPETITOR_COLUMNS}",
                competitor_id,
                *changes.values(),
            )
            await audit.record(
                "update",
                ENTITY_COMPETITOR,
                competitor_id,
                branch_id=row["branch_id"],
                before={k: before[k] for k in changes},
                after=_plain(changes),
            )
    except Exception as error:
        if _unique_violation(error):
            raise _duplicate_name(str(changes.get("name"))) from None
        raise
    return CompetitorOut(**dict(row))


# --- competitors' products ----------------------------------------------------------------


async def list_products(competitor_id: int) -> list[ProductOut]:
    await _competitor_row(competitor_id)
    rows = await db.fetch(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT} WHERE competitor = $1 ORDER BY id",
        competitor_id,
    )
    return [ProductOut(**dict(r)) for r in rows]


async def add_product(competitor_id: int, data: ProductIn) -> ProductOut:
    name = blank_checked(data.name, "body.name")
    async with db.transaction():
        competitor = await _competitor_row(competitor_id, lock=True)
        row = await _returning(
            f"INSERT INTO {PRODUCT} (branch_id, competitor, name, product_category,"
            " term_months, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, now())"
            f" RETURNING {PRODUCT_COLUMNS}",
            competitor["branch_id"],
            competitor_id,
            name,
            data.product_category,
            data.term_months,
            data.note,
        )
        await audit.record(
            "create", ENTITY_PRODUCT, row["id"], branch_id=row["branch_id"], after=_plain(row)
        )
    return ProductOut(**dict(row))


async def get_product(competitor_product_id: int) -> ProductOut:
    row = await db.fetchrow(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT} WHERE id = $1", competitor_product_id
    )
    if row is None:
        raise not_found(f"competitor product {competitor_product_id}")
    return ProductOut(**dict(row))


# --- rates --------------------------------------------------------------------------------


async def _our_product(code: str, field_name: str) -> archive.ProductOut:
    for product in await archive.list_products():
        if product.code == code:
            return product
    raise invalid(field_name, f"no product {code!r} in the catalogue")


async def record_rate(data: RateIn) -> RateOut:
    """Record a rate from a day on; the earlier rates stay as the product's history."""
    if (data.competitor_product_id is None) == (data.product_code is None):
        raise invalid("body.product_code", "give competitor_product_id or product_code")
    rate = rate_checked(data.rate, "body.rate")
    async with db.transaction():
        if data.competitor_product_id is not None:
            if data.branch_id is not None:
                raise invalid("body.branch_id", "a competitor's rate goes to its product's branch")
            product = await db.fetchrow(
                f"SELECT id, branch_id FROM {PRODUCT} WHERE id = $1 FOR SHARE",
                data.competitor_product_id,
            )
            if product is None:
                raise invalid("body.competitor_product_id", "no such competitor product")
            branch_id = product["branch_id"]
        else:
            assert data.product_code is not None
            await _our_product(data.product_code, "body.product_code")
            branch_id = branch_for_new(data.branch_id)
        try:
            async with db.transaction():
                row = await _returning(
                    f"INSERT INTO {RATE} (branch_id, competitor_product, product_code, rate,"
                    " effective_from, source, created_at) VALUES ($1, $2, $3, $4, $5, $6,"
                    f" now()) RETURNING {RATE_COLUMNS}",
                    branch_id,
                    data.competitor_product_id,
                    data.product_code,
                    rate,
                    data.effective_from,
                    data.source,
                )
        except Exception as error:
            if _unique_violation(error):
                raise Problem(
                    409,
                    "the product already has a rate from that day",
                    [FieldError("body.effective_from", "already recorded")],
                    "rate_exists",
                ) from None
            raise
        await audit.record("create", ENTITY_RATE, row["id"], branch_id=branch_id, after=_plain(row))
    return RateOut(**dict(row))


async def list_rates(
    *,
    competitor_product_id: int | None = None,
    product_code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[RateOut]:
    """Rates newest first by the day they take effect: a product's rate history."""
    after = decode_cursor(cursor, (str, int))
    rows = await db.fetch(
        f"SELECT {RATE_COLUMNS} FROM {RATE}"
        " WHERE ($1::bigint IS NULL OR competitor_product = $1)"
        " AND ($2::text IS NULL OR product_code = $2)"
        " AND ($3::date IS NULL OR (effective_from, id) < ($3::date, $4::bigint))"
        " ORDER BY effective_from DESC, id DESC LIMIT $5",
        competitor_product_id,
        product_code,
        date.fromisoformat(after[0]) if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items = [RateOut(**dict(r)) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(
        items,
        encode_cursor([items[-1].effective_from.isoformat(), items[-1].id]) if more else None,
    )


async def get_rate(rate_id: int) -> RateOut:
    row = await db.fetchrow(f"SELECT {RATE_COLUMNS} FROM {RATE} WHERE id = $1", rate_id)
    if row is None:
        raise not_found(f"rate {rate_id}")
    return RateOut(**dict(row))


async def compare_rates(product_category: str, on: date | None = None) -> RateComparison:
    """Our products of a category against the competitors', each at its rate in force
    on ``on`` (default: today): the latest rate taking effect on or before that day."""
    day = on or datetime.now(UTC).date()
    lower = product_category in LOWER_IS_BETTER
    ours_products = {p.code: p for p in await archive.list_products(category=product_category)}
    our_rows = await db.fetch(
        f"SELECT DISTINCT ON (product_code) product_code, rate, effective_from FROM {RATE}"
        " WHERE product_code = ANY($1::text[]) AND effective_from <= $2"
        " ORDER BY product_code, effective_from DESC, id DESC",
        list(ours_products),
        day,
    )
    their_rows = await db.fetch(
        f"SELECT DISTINCT ON (p.id) p.id, p.name, p.term_months, c.id AS competitor_id,"
        f" c.name AS competitor_name, r.rate, r.effective_from FROM {PRODUCT} p"
        f" JOIN {COMPETITOR} c ON c.id = p.competitor JOIN {RATE} r ON r.competitor_product = p.id"
        " WHERE p.product_category = $1 AND c.active AND r.effective_from <= $2"
        " ORDER BY p.id, r.effective_from DESC, r.id DESC",
        product_category,
        day,
    )

    def best(rates: Iterable[Decimal]) -> Decimal | None:
        values = list(rates)
        if not values:
            return None
        return min(values) if lower else max(values)

    our_best = best(r["rate"] for r in our_rows)
    their_best = best(r["rate"] for r in their_rows)

    def difference(rate: Decimal) -> Decimal | None:
        return None if our_best is None else rate - our_best

    rows = [
        RateRow(
            True,
            None,
            None,
            None,
            r["product_code"],
            ours_products[r["product_code"]].name,
            None,
            r["rate"],
            r["effective_from"],
            difference(r["rate"]),
        )
        for r in our_rows
    ]
    rows.sort(key=lambda row: row.rate, reverse=not lower)
    theirs = [
        RateRow(
            False,
            r["competitor_id"],
            r["competitor_name"],
            r["id"],
            None,
            r["name"],
            r["term_months"],
            r["rate"],
            r["effective_from"],
            difference(r["rate"]),
        )
        for r in their_rows
    ]
    theirs.sort(key=lambda row: row.rate, reverse=not lower)
    gap = None
    if our_best is not None and their_best is not None:
        gap = their_best - our_best if lower else our_best - their_best
    return RateComparison(
        product_category,
        day,
        "lower" if lower else "higher",
        our_best,
        their_best,
        gap,
        rows + theirs,
    )


# --- deals won or lost --------------------------------------------------------------------


async def record_deal(data: DealIn) -> DealOut:
    """A deal won or lost against a competitor, entered by staff (in its branch)."""
    if data.amount is not None and (not data.amount.is_finite() or data.amount < 0):
        raise invalid("body.amount", "must be an amount of 0 or more")
    if data.closed_on > datetime.now(UTC).date() + timedelta(days=1):
        raise invalid("body.closed_on", "must not be in the future")
    async with db.transaction():
        competitor = await db.fetchrow(
            f"SELECT id, branch_id, name FROM {COMPETITOR} WHERE id = $1 FOR SHARE",
            data.competitor_id,
        )
        if competitor is None:
            raise invalid("body.competitor_id", "no such competitor")
        if data.customer_id is not None and not await db.fetchval(
            "SELECT count(*) FROM customer_archive_customer c WHERE c.id = $1",
            data.customer_id,
        ):
            raise invalid("body.customer_id", f"no customer {data.customer_id} is visible to you")
        row = await _returning(
            f"INSERT INTO {DEAL} (branch_id, competitor, competitor_name, outcome,"
            " product_category, amount, reason, customer, closed_on, source, source_ref,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'staff', '', now())"
            f" RETURNING {DEAL_COLUMNS}",
            competitor["branch_id"],
            competitor["id"],
            competitor["name"],
            data.outcome,
            data.product_category,
            data.amount,
            data.reason,
            data.customer_id,
            data.closed_on,
        )
        await audit.record(
            "create", ENTITY_DEAL, row["id"], branch_id=row["branch_id"], after=_plain(row)
        )
    return DealOut(**dict(row))


async def get_deal(deal_id: int) -> DealOut:
    row = await db.fetchrow(f"SELECT {DEAL_COLUMNS} FROM {DEAL} WHERE id = $1", deal_id)
    if row is None:
        raise not_found(f"competitor deal {deal_id}")
    return DealOut(**dict(row))


async def list_deals(
    *,
    competitor_id: int | None = None,
    outcome: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DealOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {DEAL_COLUMNS} FROM {DEAL} WHERE ($1::bigint IS NULL OR competitor = $1)"
        " AND ($2::text IS NULL OR outcome = $2) AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        competitor_id,
        outcome,
        after[0] if after else None,
        limit + 1,
    )
    items = [DealOut(**dict(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def win_loss(start: date | None = None, end: date | None = None) -> WinLoss:
    """Deals closed in ``[start, end)`` (default: the last 90 days) by competitor, with
    the win rate and the commonest reasons for losing, over the branches in scope."""
    last = end or datetime.now(UTC).date() + timedelta(days=1)
    first = start or last - timedelta(days=90)
    if first >= last:
        raise invalid("query.start", "must be before end")
    rows = await db.fetch(
        f"SELECT competitor, competitor_name, outcome, amount, reason FROM {DEAL}"
        " WHERE closed_on >= $1 AND closed_on < $2",
        first,
        last,
    )
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r["competitor_name"].strip().casefold()
        group = groups.setdefault(
            key,
            {
                "id": r["competitor"],
                "name": r["competitor_name"],
                "won": 0,
                "lost": 0,
                "won_amount": Decimal("0"),
                "lost_amount": Decimal("0"),
                "reasons": {},
            },
        )
        group["id"] = group["id"] or r["competitor"]
        group[r["outcome"]] += 1
        group[f"{r['outcome']}_amount"] += r["amount"] or Decimal("0")
        if r["outcome"] == "lost" and r["reason"].strip():
            reasons: dict[str, int] = group["reasons"]
            reasons[r["reason"].strip()] = reasons.get(r["reason"].strip(), 0) + 1
    summaries = [
        CompetitorSummary(
            g["id"],
            g["name"],
            g["won"],
            g["lost"],
            round(100.0 * g["won"] / (g["won"] + g["lost"]), 1),
            g["won_amount"],
            g["lost_amount"],
            [
                ReasonCount(reason, count)
                for reason, count in sorted(g["reasons"].items(), key=lambda i: (-i[1], i[0]))[:3]
            ],
        )
        for g in groups.values()
    ]
    summaries.sort(key=lambda s: (-(s.won + s.lost), s.competitor_name))
    return WinLoss(
        first,
        last,
        sum(s.won for s in summaries),
        sum(s.lost for s in summaries),
        summaries,
    )


async def _match_competitor(name: str, branch_id: int) -> int | None:
    """The competitor of that name registered for the deal's branch or the nearest
    branch above it."""
    tree = await branches.snapshot()
    line = tree.ancestors(branch_id)
    row = await db.fetchrow(
        f"SELECT id FROM {COMPETITOR} WHERE lower(name) = lower($1)"
        " AND branch_id = ANY($2::bigint[]) ORDER BY array_position($2::bigint[], branch_id)"
        " LIMIT 1",
        name,
        line,
    )
    return None if row is None else int(row["id"])


async def sync_deals(
    since: date | None = None,
    branch_ids: frozenset[int] | None = None,
    registry: PluginHooks | None = None,
) -> SyncOut:
    """Ask every plugin implementing ``marketing_competitor_deals`` for the deals closed
    since ``since`` (default: :data:`SYNC_DAYS` ago) in ``branch_ids`` (default: the
    scope's) and record each once; a deal reported again updates its row. Idempotent."""
    scope = require_scope()
    asked = scope.branch_ids if branch_ids is None else branch_ids & scope.branch_ids
    first = since or datetime.now(UTC).date() - timedelta(days=SYNC_DAYS)
    hooks = registry or plugin_hooks()
    received = recorded = skipped = 0
    for plugin, found in hooks.call_each(
        "marketing_competitor_deals", branch_ids=frozenset(asked), since=first
    ):
        answer = await found if inspect.isawaitable(found) else found
        if answer is None:
            continue
        for raw in answer:
            received += 1
            try:
                deal = msgspec.convert(raw, ReportedDeal, from_attributes=True)
            except (msgspec.ValidationError, TypeError) as error:
                log.warning("marketing: a deal from %s was malformed: %s", plugin, error)
                skipped += 1
                continue
            name = deal.competitor.strip()
            if not name or deal.branch_id not in asked:
                skipped += 1
                continue
            if await _record_reported(str(plugin), deal, name):
                recorded += 1
    return SyncOut(received, recorded, skipped)


async def _record_reported(source: str, deal: ReportedDeal, name: str) -> bool:
    competitor = await _match_competitor(name, deal.branch_id)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {DEAL} (branch_id, competitor, competitor_name, outcome,"
            " product_category, amount, reason, customer, closed_on, source, source_ref,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())"
            " ON CONFLICT (source, source_ref) WHERE source <> 'staff' DO UPDATE SET"
            " competitor = EXCLUDED.competitor, competitor_name = EXCLUDED.competitor_name,"
            " outcome = EXCLUDED.outcome, product_category = EXCLUDED.product_category,"
            " amount = EXCLUDED.amount, reason = EXCLUDED.reason, customer = EXCLUDED.customer,"
            " closed_on = EXCLUDED.closed_on"
            f" WHERE ({DEAL}.competitor, {DEAL}.competitor_name, {DEAL}.outcome,"
            f" {DEAL}.product_category, {DEAL}.amount, {DEAL}.reason, {DEAL}.customer,"
            f" {DEAL}.closed_on) IS DISTINCT FROM (EXCLUDED.competitor,"
            " EXCLUDED.competitor_name, EXCLUDED.outcome, EXCLUDED.product_category,"
            " EXCLUDED.amount, EXCLUDED.reason, EXCLUDED.customer, EXCLUDED.closed_on)"
            f" RETURNING {DEAL_COLUMNS}, (xmax = 0) AS inserted",
            deal.branch_id,
            competitor,
            name[:100],
            deal.outcome,
            deal.product_category,
            deal.amount,
            deal.reason,
            deal.customer_id,
            deal.closed_on,
            source[:16],
            deal.ref,
        )
        if row is None:
            return False  # reported before, unchanged
        values = dict(row)
        inserted = values.pop("inserted")
        await audit.record(
            "create" if inserted else "update",
            ENTITY_DEAL,
            values["id"],
            branch_id=values["branch_id"],
            after=_plain(values),
        )
    return True
