"""The customer portrait (客户画像): one panel that sums a customer up.

Served as the ``customer_archive.portrait`` section of the 360 view and on its own at
``GET /customers/{id}/portrait`` (an audited view, screen ``portrait``). One statement reads
everything: value tier, AUM now and its trend from the daily AUM snapshots, product mix by
category, tags (manual and rule), current ratings with when and how they were set, tenure,
activity recency and how many ways there are to reach the customer. Personal data is
masked (phone, ID number) or reduced (age instead of birth date). Actors without
``customer_archive.holding.read`` get no balances: AUM, trend and product mix are left out
and so are the traits computed from them.

Traits (derived labels, computed at read time, each with its reason):

========================  ================================================================
``high_net_worth`` 高净值     AUM at least the branch's ``wealth_min_aum`` (default 600,000)
``private_banking`` 私行客户   value tier ``private``
``multi_product`` 多产品持有   open holdings of at least 3 different products
``borrower`` 信贷客户          an open credit holding (loan, credit card)
``dormant`` 沉睡客户           status ``dormant``, or no activity for the branch's
                              ``dormant_after_days`` (default 365; see :mod:`.tiers`)
``new_customer`` 新客户        a customer for less than 90 days
``long_standing`` 老客户       a customer for 5 years or more
``aum_rising`` 资产上升        the mean AUM of the last 30 days is more than 5 % above the
                              mean of the 60 days before (needs snapshots in both)
``aum_falling`` 资产下降       ... more than 5 % below
``aggressive_investor`` 进取型  risk tolerance C4 or C5
========================  ================================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from msgspec import Struct

from bankcrm import db, pii
from bankcrm.context import Scope, require_scope
from bankcrm.web.problems import not_found
from bankcrm_customer_archive.access import HOLDING_READ
from bankcrm_customer_archive.sections import Section
from bankcrm_customer_archive.tiers.services import tier_settings

__all__ = [
    "PORTRAIT_COLUMNS",
    "PORTRAIT_SECTION",
    "Portrait",
    "portrait",
    "portrait_section",
    "portrait_section_of",
]

PORTRAIT_SECTION = "customer_archive.portrait"
TREND_THRESHOLD = Decimal("0.05")
NEW_CUSTOMER_DAYS = 90
LONG_STANDING_YEARS = 5
MULTI_PRODUCT_MIN = 3


class CategoryMix(Struct):
    category: str
    holdings: int
    balance_cny: Decimal
    """Sum of the open holdings' balances in CNY (other currencies are not converted)."""
    share: Decimal | None
    """Part of the customer's CNY asset balance (asset categories only), 0..1."""


class TrendPoint(Struct):
    month: str
    """``YYYY-MM``."""
    average_aum: Decimal


class TagMark(Struct):
    id: int
    name: str
    color: str
    kind: str
    """``manual`` or ``rule`` (the tag's kind)."""
    source: str
    """Who linked this customer: staff (``manual``) or the rule (``rule``)."""
    since: datetime


class RatingMark(Struct):
    kind: str
    value: str
    source: str
    rated_at: datetime


class Trait(Struct):
    code: str
    label: str
    label_en: str
    reason: str


class Portrait(Struct):
    customer_id: int
    branch_id: int
    kind: str
    name: str
    gender: str | None
    age: int | None
    phone: str | None
    """Masked."""
    id_number: str
    """Masked."""
    status: str
    value_tier: str | None
    credit_grade: str | None
    risk_tolerance: str | None
    ratings: list[RatingMark]
    """The latest rating of each kind, with who set it (source) and when."""
    aum: Decimal | None
    """CNY; None without permission to read holdings."""
    aum_average_90d: Decimal | None
    aum_trend: list[TrendPoint]
    """Monthly mean AUM of the last 12 months, from the daily snapshots (oldest first)."""
    aum_direction: str | None
    """``rising``, ``falling``, ``steady`` or None (not enough snapshots)."""
    product_mix: list[CategoryMix]
    products_held: int | None
    tags: list[TagMark]
    customer_since: date
    """The earlier of the archive record's creation and the first holding's opening."""
    tenure_days: int
    last_activity_at: datetime | None
    days_since_activity: int
    """Since the latest of last activity, newest holding opened, record created."""
    contact_channels: int
    contact_persons: int
    traits: list[Trait]


PORTRAIT_COLUMNS = """(SELECT json_build_object(
        'aum', sum(h.balance) FILTER (WHERE p.balance_type = 'asset' AND h.currency = 'CNY'),
        'credit_open', count(*) FILTER (WHERE p.balance_type = 'credit'),
        'products', count(DISTINCT h.product))
     FROM customer_archive_holding h JOIN customer_archive_product p ON p.id = h.product
     WHERE h.customer = c.id AND h.status <> 'closed') AS holding_totals,
    (SELECT json_build_object('first', min(h.opened_on), 'last', max(h.opened_on))
     FROM customer_archive_holding h WHERE h.customer = c.id) AS opened,
    (SELECT coalesce(json_agg(json_build_object('category', m.category, 'holdings', m.n,
        'balance_cny', m.balance, 'asset', m.asset) ORDER BY m.category), '[]')
     FROM (SELECT p.category, count(*) AS n, p.balance_type = 'asset' AS asset,
             coalesce(sum(h.balance) FILTER (WHERE h.currency = 'CNY'), 0) AS balance
           FROM customer_archive_holding h JOIN customer_archive_product p ON p.id = h.product
           WHERE h.customer = c.id AND h.status <> 'closed'
           GROUP BY p.category, p.balance_type) m) AS mix,
    (SELECT coalesce(json_agg(json_build_object('month', t.month, 'average_aum', t.aum)
        ORDER BY t.month), '[]')
     FROM (SELECT to_char(s.snapshot_on, 'YYYY-MM') AS month, round(avg(s.aum), 2) AS aum
           FROM customer_archive_aum_snapshot s
           WHERE s.customer = c.id AND s.snapshot_on > current_date - 365
           GROUP BY 1) t) AS trend,
    (SELECT json_build_object(
        'last_30', round(avg(s.aum) FILTER (WHERE s.snapshot_on > current_date - 30), 2),
        'before_30', round(avg(s.aum) FILTER (WHERE s.snapshot_on <= current_date - 30), 2),
        'last_90', round(avg(s.aum), 2))
     FROM customer_archive_aum_snapshot s
     WHERE s.customer = c.id AND s.snapshot_on > current_date - 90) AS averages,
    (SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'color', t.color,
        'kind', t.kind, 'source', ct.source, 'since', ct.created_at) ORDER BY t.name), '[]')
     FROM customer_archive_customer_tag ct JOIN customer_archive_tag t ON t.id = ct.tag
     WHERE ct.customer = c.id) AS tag_marks,
    (SELECT coalesce(json_agg(json_build_object('kind', r.kind, 'value', r.value,
        'source', r.source, 'rated_at', r.rated_at) ORDER BY r.kind), '[]')
     FROM (SELECT DISTINCT ON (kind) kind, value, source, rated_at
           FROM customer_archive_rating WHERE customer = c.id
           ORDER BY kind, rated_at DESC, id DESC) r) AS latest_ratings,
    (SELECT count(*) FROM customer_archive_contact_channel k WHERE k.customer = c.id)
      AS channel_count,
    (SELECT count(*) FROM customer_archive_customer_contact k WHERE k.customer = c.id)
      AS person_count"""
"""The portrait's aggregates over the customer row ``c``; the 360 statement
(:mod:`.view_360`) reads them beside its own columns."""

_READ = f"""
  SELECT c.id, c.branch_id, c.kind, c.name, c.gender, c.birth_date, c.phone,
    c.id_number_masked, c.status, c.value_tier, c.credit_grade, c.risk_tolerance,
    c.last_activity_at, c.created_at,
    {PORTRAIT_COLUMNS}"""

PORTRAIT_SQL = f"""WITH c AS MATERIALIZED (
  SELECT * FROM customer_archive_customer WHERE id = $1 AND deleted_at IS NULL)
{_READ}
FROM c"""

# The standalone read records the view in the same statement (as the detail view does).
VIEW_PORTRAIT_SQL = f"""WITH c AS MATERIALIZED (
  SELECT * FROM customer_archive_customer WHERE id = $1 AND deleted_at IS NULL),
v AS MATERIALIZED (
  SELECT bankcrm_audit_append(c.branch_id, 'view', 'customer_archive.customer', c.id::text,
                              NULL, '{{"screen": "portrait"}}'::jsonb, '', $2) AS audit_id
  FROM c)
{_READ}
FROM c CROSS JOIN v"""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _datetime(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _direction(averages: dict[str, Any]) -> str | None:
    recent, before = _decimal(averages.get("last_30")), _decimal(averages.get("before_30"))
    if recent is None or before is None or before <= 0:
        return None
    change = (recent - before) / before
    if change > TREND_THRESHOLD:
        return "rising"
    if change < -TREND_THRESHOLD:
        return "falling"
    return "steady"


async def _build(row: Mapping[str, Any], scope: Scope) -> Portrait:
    now = datetime.now(UTC)
    today = now.date()
    rules = await tier_settings(row["branch_id"])
    sees_holdings = scope.has(HOLDING_READ)
    holdings = _json(row["holding_totals"])
    opened = _json(row["opened"])
    averages = _json(row["averages"])
    first_opened = date.fromisoformat(opened["first"]) if opened["first"] else None
    last_opened = date.fromisoformat(opened["last"]) if opened["last"] else None
    created: datetime = row["created_at"]
    customer_since = min(d for d in (created.date(), first_opened) if d is not None)
    activity = [created]
    if row["last_activity_at"] is not None:
        activity.append(row["last_activity_at"])
    if last_opened is not None:
        activity.append(datetime(last_opened.year, last_opened.month, last_opened.day, tzinfo=UTC))
    days_since_activity = max(0, (now - max(activity)).days)

    aum: Decimal | None = None
    if sees_holdings:
        aum = _decimal(holdings["aum"]) or Decimal("0.00")
    mix: list[CategoryMix] = []
    if sees_holdings:
        asset_total = sum(
            (Decimal(str(m["balance_cny"])) for m in _json(row["mix"]) if m["asset"]),
            Decimal(0),
        )
        for m in _json(row["mix"]):
            balance = Decimal(str(m["balance_cny"])).quantize(Decimal("0.01"))
            share = (
                (balance / asset_total).quantize(Decimal("0.0001"))
                if m["asset"] and asset_total > 0
                else None
            )
            mix.append(CategoryMix(m["category"], m["holdings"], balance, share))
    trend = (
        [TrendPoint(t["month"], Decimal(str(t["average_aum"]))) for t in _json(row["trend"])]
        if sees_holdings
        else []
    )
    direction = _direction(averages) if sees_holdings else None
    products = int(holdings["products"]) if sees_holdings else None
    tenure_days = (today - customer_since).days

    traits: list[Trait] = []

    def trait(code: str, label: str, label_en: str, reason: str) -> None:
        traits.append(Trait(code, label, label_en, reason))

    if aum is not None and aum >= rules.wealth_min_aum:
        trait("high_net_worth", "高净值", "High net worth",
              f"AUM {aum} CNY >= {rules.wealth_min_aum}")  # fmt: skip
    if row["value_tier"] == "private":
        trait("private_banking", "私行客户", "Private banking", "value tier private")
    if products is not None and products >= MULTI_PRODUCT_MIN:
        trait("multi_product", "多产品持有", "Multi-product",
              f"{products} products held")  # fmt: skip
    if sees_holdings and holdings["credit_open"]:
        trait("borrower", "信贷客户", "Borrower",
              f"{holdings['credit_open']} open credit holding(s)")  # fmt: skip
    dormant_days = rules.dormant_after_days
    if row["status"] == "dormant":
        trait("dormant", "沉睡客户", "Dormant", "status dormant")
    elif dormant_days and days_since_activity >= dormant_days:
        trait("dormant", "沉睡客户", "Dormant",
              f"no activity for {days_since_activity} days")  # fmt: skip
    if tenure_days < NEW_CUSTOMER_DAYS:
        trait("new_customer", "新客户", "New customer", f"customer for {tenure_days} days")
    elif tenure_days >= LONG_STANDING_YEARS * 365:
        trait("long_standing", "老客户", "Long-standing customer",
              f"customer since {customer_since.isoformat()}")  # fmt: skip
    if direction == "rising":
        trait(
            "aum_rising", "资产上升", "AUM rising", "30-day mean AUM > 5 % above the 60 days before"
        )
    elif direction == "falling":
        trait(
            "aum_falling",
            "资产下降",
            "AUM falling",
            "30-day mean AUM > 5 % below the 60 days before",
        )
    if row["risk_tolerance"] in ("C4", "C5"):
        trait("aggressive_investor", "进取型投资者", "Aggressive investor",
              f"risk tolerance {row['risk_tolerance']}")  # fmt: skip

    return Portrait(
        customer_id=row["id"],
        branch_id=row["branch_id"],
        kind=row["kind"],
        name=row["name"],
        gender=row["gender"],
        age=_age(row["birth_date"], today),
        phone=pii.mask(row["phone"], 3, 4),
        id_number=row["id_number_masked"],
        status=row["status"],
        value_tier=row["value_tier"],
        credit_grade=row["credit_grade"],
        risk_tolerance=row["risk_tolerance"],
        ratings=[
            RatingMark(r["kind"], r["value"], r["source"], _datetime(r["rated_at"]))
            for r in _json(row["latest_ratings"])
        ],
        aum=aum,
        aum_average_90d=_decimal(averages.get("last_90")) if sees_holdings else None,
        aum_trend=trend,
        aum_direction=direction,
        product_mix=mix,
        products_held=products,
        tags=[
            TagMark(t["id"], t["name"], t["color"], t["kind"], t["source"], _datetime(t["since"]))
            for t in _json(row["tag_marks"])
        ],
        customer_since=customer_since,
        tenure_days=tenure_days,
        last_activity_at=row["last_activity_at"],
        days_since_activity=days_since_activity,
        contact_channels=row["channel_count"],
        contact_persons=row["person_count"],
        traits=traits,
    )


async def portrait(customer_id: int) -> Portrait:
    """The portrait of a visible customer, the view audited (404 outside the scope)."""
    scope = require_scope()
    row = await db.fetchrow(VIEW_PORTRAIT_SQL, customer_id, scope.request_id)
    if row is None:
        raise not_found(f"customer {customer_id}")
    return await _build(row, scope)


async def portrait_section(customer_id: int, scope: Scope) -> Section | None:
    """The portrait as a 360 section, read on its own (the caller has audited the view);
    None when the customer is not visible."""
    row = await db.fetchrow(PORTRAIT_SQL, customer_id)
    if row is None:
        return None
    return await portrait_section_of(row, scope)


async def portrait_section_of(row: Mapping[str, Any], scope: Scope) -> Section:
    """The portrait section from a row already read: the customer's columns (those of
    ``_READ``) and :data:`PORTRAIT_COLUMNS`, as the 360 statement has them."""
    return Section(PORTRAIT_SECTION, "客户画像", "Portrait", {"portrait": await _build(row, scope)})
