"""Commissions (佣金管理): rules per product category and period (a percentage or
marginal tiers, a cap per person and period), a split of each won opportunity between
several staff, a monthly run computed as a job, approved by a second person
(maker-checker), marked paid, and a statement per person. A rule may claw commission back:
when the contract of a deal paid under it is terminated within ``clawback_days`` of its
signing (the product closed early), the first run computed after the termination gives
back what approved runs paid for that deal, as negative lines; a deal terminated early
before its own month's run earns nothing.

Lines are visible to the person they pay and everyone above them (an access rule), so a
relationship manager's statement is theirs alone.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, db, jobs
from bankcrm.context import require_scope
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales.analytics import ZONE
from bankcrm_sales.common import OPPORTUNITY, Problems, check_owner, money
from bankcrm_sales.contracts import CONTRACT
from bankcrm_sales.plans import period_end

log = logging.getLogger(__name__)
RULE = "sales_commission_rule"
SPLIT = "sales_commission_split"
RUN = "sales_commission_run"
LINE = "sales_commission_line"
CENT = Decimal("0.01")
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Category = Literal["", "deposit", "loan", "card", "wealth"]


class Tier(Struct, forbid_unknown_fields=True, kw_only=True):
    from_amount: Decimal
    to_amount: Decimal | None = None
    """Exclusive; None: no upper bound."""
    rate: Decimal
    """Percent of the part of the amount inside the tier."""


class RuleIn(Struct, forbid_unknown_fields=True, kw_only=True):
    branch_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    product_category: Category = ""
    valid_from: date
    valid_to: date | None = None
    """Exclusive; None: open-ended."""
    rate: Decimal | None = None
    """A flat percentage; or give ``tiers``."""
    tiers: Annotated[list[Tier], Meta(max_length=20)] = []
    cap: Decimal | None = None
    """The most one person earns under this rule in one month."""
    clawback_days: Annotated[int, Meta(ge=0, le=3660)] = 0
    """A contract terminated within this many days of signing gives the deal's commission
    back; 0: never."""


class RuleOut(Struct):
    id: int
    branch_id: int
    name: str
    product_category: str
    valid_from: date
    valid_to: date | None
    rate: Decimal | None
    tiers: list[dict[str, Any]]
    cap: Decimal | None
    clawback_days: int


async def get_rule(rule_id: int) -> RuleOut:
    row = await db.fetchrow(
        "SELECT id, branch_id, name, product_category, valid_from, valid_to, rate, tiers, cap,"
        f" clawback_days FROM {RULE} WHERE id = $1",
        rule_id,
    )
    if row is None:
        raise not_found(f"commission rule {rule_id}")
    values = dict(row)
    if isinstance(values["tiers"], str):
        values["tiers"] = json.loads(values["tiers"])
    return RuleOut(**values)


class SplitIn(Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: Id
    percent: Decimal


class RunIn(Struct, forbid_unknown_fields=True, kw_only=True):
    branch_id: Id
    month: date
    """Any day of the month to compute."""


class RunOut(Struct):
    id: int
    branch_id: int
    month: date
    status: str
    total: Decimal
    computed_by: str
    computed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    paid_at: datetime | None


class LineOut(Struct):
    run: int
    month: date
    status: str
    opportunity: int
    user: int
    base: Decimal
    amount: Decimal
    note: str


def _rate(problems: Problems, field: str, value: Decimal) -> Decimal | None:
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        problems.add(field, "a percentage from 0 to 100")
        return None
    return value


async def create_rule(data: RuleIn) -> RuleOut:
    """A commission rule; overlapping tiers, a rate and tiers at once, a bad period are
    refused naming the field."""
    problems = Problems()
    if data.branch_id not in require_scope().branch_ids:
        problems.add("body.branch_id", "the branch is outside your scope")
    if (data.rate is None) == (not data.tiers):
        problems.add("body.rate", "give either a rate or tiers")
    if data.rate is not None:
        _rate(problems, "body.rate", data.rate)
    if data.valid_to is not None and data.valid_to <= data.valid_from:
        problems.add("body.valid_to", "must be after valid_from")
    tiers = sorted(enumerate(data.tiers), key=lambda t: t[1].from_amount)
    for position, (i, tier) in enumerate(tiers):
        money(problems, f"body.tiers[{i}].from_amount", tier.from_amount)
        _rate(problems, f"body.tiers[{i}].rate", tier.rate)
        if tier.to_amount is not None and tier.to_amount <= tier.from_amount:
            problems.add(f"body.tiers[{i}].to_amount", "must be above from_amount")
        if position > 0:
            j, before = tiers[position - 1]
            if before.to_amount is None or before.to_amount > tier.from_amount:
                problems.add(
                    f"body.tiers[{i}].from_amount",
                    f"overlaps tier {j} ({before.from_amount} to {before.to_amount or '∞'})",
                )
    if data.cap is not None:
        money(problems, "body.cap", data.cap)
    problems.raise_if_any()
    tiers_json = [
        {"from_amount": str(t.from_amount), "to_amount": None if t.to_amount is None
         else str(t.to_amount), "rate": str(t.rate)}
        for _, t in tiers
    ]  # fmt: skip
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {RULE} (branch_id, name, product_category, valid_from, valid_to, rate,"
            " tiers, cap, clawback_days, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6,"
            " $7, $8, $9, $10, now()) RETURNING id",
            data.branch_id, data.name.strip(), data.product_category, data.valid_from,
            data.valid_to, data.rate, db.jsonb(tiers_json), data.cap, data.clawback_days,
            require_scope().actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, "sales.commission_rule", row["id"], branch_id=data.branch_id,
            after={"name": data.name, "rate": data.rate, "tiers": tiers_json, "cap": data.cap,
                   "clawback_days": data.clawback_days},
        )  # fmt: skip
    return RuleOut(
        row["id"], data.branch_id, data.name.strip(), data.product_category, data.valid_from,
        data.valid_to, data.rate, tiers_json, data.cap, data.clawback_days,
    )  # fmt: skip


async def set_split(opportunity_id: int, splits: list[SplitIn]) -> list[SplitIn]:
    """Who shares the commission of an opportunity, in percent summing to 100."""
    problems = Problems()
    total = sum((s.percent for s in splits), Decimal(0))
    if not splits:
        problems.add("body", "give at least one person")
    elif total != 100:
        problems.add("body", f"the shares must sum to 100 %, not {total} %")
    for i, split in enumerate(splits):
        if not Decimal(0) < split.percent <= Decimal(100):
            problems.add(f"body[{i}].percent", "a share above 0 and at most 100")
    if len({s.user_id for s in splits}) != len(splits):
        problems.add("body", "each person once")
    row = await db.fetchrow(
        f"SELECT branch_id, status FROM {OPPORTUNITY} WHERE id = $1", opportunity_id
    )
    if row is None:
        raise not_found(f"opportunity {opportunity_id}")
    for i, split in enumerate(splits):
        await check_owner(problems, f"body[{i}].user_id", split.user_id, row["branch_id"])
    problems.raise_if_any()
    async with db.transaction():
        await db.fetch(f"DELETE FROM {SPLIT} WHERE opportunity = $1", opportunity_id)
        await db.execute_many(
            f"INSERT INTO {SPLIT} (branch_id, opportunity, user_id, percent)"
            " VALUES ($1, $2, $3, $4)",
            [(row["branch_id"], opportunity_id, s.user_id, s.percent) for s in splits],
        )
        await audit.record(
            audit.Action.UPDATE, "sales.opportunity", opportunity_id, branch_id=row["branch_id"],
            after={"commission_split": [{"user": s.user_id, "percent": s.percent}
                                        for s in splits]},
        )  # fmt: skip
    return splits


def _tiered(amount: Decimal, tiers: list[dict[str, Any]]) -> Decimal:
    paid = Decimal(0)
    for tier in tiers:
        low = Decimal(tier["from_amount"])
        high = Decimal(tier["to_amount"]) if tier["to_amount"] is not None else None
        inside = (min(amount, high) if high is not None else amount) - low
        if inside > 0:
            paid += inside * Decimal(tier["rate"]) / 100
    return paid


async def compute_run(branch_id: int, month: date) -> RunOut:
    """Compute (or recompute, while still a draft) the branch's run for a month: every
    opportunity won in the month, each product line under the most specific rule valid
    then, split between its people, capped per person and rule. Idempotent."""
    start = month.replace(day=1)
    end = period_end("month", start)
    actor = require_scope().actor
    async with db.transaction():
        run = await db.fetchrow(
            f"INSERT INTO {RUN} (branch_id, month, status, total, computed_by, computed_at)"
            " VALUES ($1, $2, 'draft', 0, $3, now()) ON CONFLICT (branch_id, month)"
            " DO UPDATE SET computed_by = $3, computed_at = now()"
            f" WHERE {RUN}.status = 'draft' RETURNING id",
            branch_id, start, actor,
        )  # fmt: skip
        if run is None:
            raise Problem(
                409, f"the run of {start:%Y-%m} is approved already; it no longer changes",
                [FieldError("body.month", "approved or paid")], "run_closed",
            )  # fmt: skip
        run_id = run["id"]
        await db.fetch(f"DELETE FROM {LINE} WHERE run = $1", run_id)
        rules = await db.fetch(
            f"SELECT id, name, product_category, rate, tiers, cap, clawback_days FROM {RULE}"
            " WHERE branch_id = $1 AND valid_from < $3 AND (valid_to IS NULL OR valid_to > $2)"
            " ORDER BY (product_category = '') , id",
            branch_id, start, end,
        )  # fmt: skip
        categories = {p.id: p.category for p in await archive.list_products()}
        won = await db.fetch(
            "SELECT o.id, o.owner, p.product, p.amount, c.terminated_on - c.signed_on AS kept,"
            " c.number AS contract FROM sales_opportunity o"
            " JOIN sales_opportunity_product p ON p.opportunity = o.id"
            f" LEFT JOIN {CONTRACT} c ON c.opportunity = o.id AND c.terminated_on < $3"
            " WHERE o.branch_id = $1 AND o.status = 'won' AND o.closed_at >= $2"
            " AND o.closed_at < $3 ORDER BY o.id, p.id",
            branch_id,
            datetime.combine(start, time(), ZONE),
            datetime.combine(end, time(), ZONE),
        )  # fmt: skip
        splits: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for s in await db.fetch(
            f"SELECT opportunity, user_id, percent FROM {SPLIT} WHERE opportunity = ANY($1::int[])",
            list({w["id"] for w in won}),
        ):
            splits[s["opportunity"]].append((s["user_id"], s["percent"]))
        earned: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)  # (user, rule, opp)
        bases: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
        forfeited: dict[tuple[int, int, int], str] = {}
        for line in won:
            category = categories.get(line["product"], "")
            rule = next((r for r in rules if r["product_category"] in ("", category)), None)
            if rule is None:
                continue
            tiers = json.loads(rule["tiers"]) if isinstance(rule["tiers"], str) else rule["tiers"]
            if line["kept"] is not None and line["kept"] < rule["clawback_days"]:
                for user, _share in splits.get(line["id"]) or [(line["owner"], Decimal(100))]:
                    forfeited[(user, rule["id"], line["id"])] = line["contract"]
                continue
            pay = (
                line["amount"] * rule["rate"] / 100 if rule["rate"] is not None
                else _tiered(line["amount"], tiers)
            )  # fmt: skip
            for user, percent in splits.get(line["id"]) or [(line["owner"], Decimal(100))]:
                key = (user, rule["id"], line["id"])
                earned[key] += pay * percent / 100
                bases[key] += line["amount"] * percent / 100
        caps = {r["id"]: r["cap"] for r in rules}
        so_far: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        rows = []
        for (user, rule_id, opportunity), amount in sorted(earned.items()):
            amount = amount.quantize(CENT, ROUND_HALF_UP)
            note = ""
            cap = caps[rule_id]
            if cap is not None and so_far[(user, rule_id)] + amount > cap:
                amount = max(cap - so_far[(user, rule_id)], Decimal(0))
                note = f"capped at {cap}"
            so_far[(user, rule_id)] += amount
            base = bases[(user, rule_id, opportunity)].quantize(CENT)
            rows.append((branch_id, run_id, opportunity, user, rule_id, base, amount, note))
        for (user, rule_id, opportunity), number in sorted(forfeited.items()):
            if (user, rule_id, opportunity) not in earned:
                note = f"contract {number} terminated early: nothing earned"[:100]
                rows.append((branch_id, run_id, opportunity, user, rule_id, Decimal(0),
                             Decimal(0), note))  # fmt: skip
        rows.extend(await _clawbacks(branch_id, run_id, end))
        if rows:
            await db.execute_many(
                f"INSERT INTO {LINE} (branch_id, run, opportunity, user_id, rule, base, amount,"
                " note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                rows,
            )
        total = sum((r[6] for r in rows), Decimal(0))
        out = await db.fetchrow(
            f"UPDATE {RUN} SET total = $2 WHERE id = $1 RETURNING *", run_id, total
        )
        await audit.record(
            audit.Action.UPDATE, "sales.commission_run", run_id, branch_id=branch_id,
            after={"month": start, "total": total, "lines": len(rows)},
        )  # fmt: skip
    return _run_out(out)


async def _clawbacks(
    branch_id: int, run_id: int, end: date
) -> list[tuple[int, int, int, int, int, Decimal, Decimal, str]]:
    """Negative lines giving back, per person and rule, what other runs paid for deals
    whose contract was terminated before this run's month ends, inside the rule's clawback
    window, and that no run has given back yet. Earnings count once approved; a clawback
    counts wherever it stands, so a termination is clawed back by one run only."""
    owed = await db.fetch(
        "SELECT l.user_id, l.rule, l.opportunity, c.number, c.terminated_on,"
        " sum(CASE WHEN r.status <> 'draft' OR l.amount < 0 THEN l.base ELSE 0 END) AS base,"
        " sum(CASE WHEN r.status <> 'draft' OR l.amount < 0 THEN l.amount ELSE 0 END) AS amount"
        f" FROM {LINE} l JOIN {RUN} r ON r.id = l.run JOIN {RULE} u ON u.id = l.rule"
        f" JOIN {CONTRACT} c ON c.opportunity = l.opportunity"
        " WHERE r.branch_id = $1 AND r.id <> $2 AND c.terminated_on < $3"
        " AND c.terminated_on - c.signed_on < u.clawback_days"
        " GROUP BY l.user_id, l.rule, l.opportunity, c.number, c.terminated_on"
        " HAVING sum(CASE WHEN r.status <> 'draft' OR l.amount < 0 THEN l.amount ELSE 0 END) > 0"
        " ORDER BY l.user_id, l.opportunity",
        branch_id, run_id, end,
    )  # fmt: skip
    return [
        (branch_id, run_id, r["opportunity"], r["user_id"], r["rule"], -r["base"], -r["amount"],
         f"clawback: contract {r['number']} terminated on {r['terminated_on']}"[:100])
        for r in owed
    ]  # fmt: skip


def _run_out(row: Any) -> RunOut:
    return RunOut(
        row["id"], row["branch_id"], row["month"], row["status"], row["total"],
        row["computed_by"], row["computed_at"], row["approved_by"], row["approved_at"],
        row["paid_at"],
    )  # fmt: skip


async def approve_run(run_id: int) -> RunOut:
    """The checker approves the maker's run: never the person who computed it."""
    actor = require_scope().actor
    async with db.transaction():
        run = await db.fetchrow(f"SELECT * FROM {RUN} WHERE id = $1 FOR UPDATE", run_id)
        if run is None:
            raise not_found(f"commission run {run_id}")
        if run["status"] != "draft":
            raise invalid("status", f"the run is {run['status']}")
        if run["computed_by"] == actor:
            raise Problem(
                409, "a second person must approve the run (maker-checker)",
                [FieldError("computed_by", "you computed this run")], "maker_checker",
            )  # fmt: skip
        row = await db.fetchrow(
            f"UPDATE {RUN} SET status = 'approved', approved_by = $2, approved_at = now()"
            " WHERE id = $1 RETURNING *",
            run_id, actor,
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, "sales.commission_run", run_id, branch_id=run["branch_id"],
            before={"status": "draft"}, after={"status": "approved"},
        )  # fmt: skip
    return _run_out(row)


async def mark_paid(run_id: int) -> RunOut:
    async with db.transaction():
        run = await db.fetchrow(f"SELECT * FROM {RUN} WHERE id = $1 FOR UPDATE", run_id)
        if run is None:
            raise not_found(f"commission run {run_id}")
        if run["status"] != "approved":
            raise invalid("status", f"only an approved run is paid (this one is {run['status']})")
        row = await db.fetchrow(
            f"UPDATE {RUN} SET status = 'paid', paid_at = now() WHERE id = $1 RETURNING *", run_id
        )
        await audit.record(
            audit.Action.UPDATE, "sales.commission_run", run_id, branch_id=run["branch_id"],
            before={"status": "approved"}, after={"status": "paid"},
        )  # fmt: skip
    return _run_out(row)


async def statement(month: date | None = None, user_id: int | None = None) -> list[LineOut]:
    """Commission lines of the caller and everyone under them (the rule decides)."""
    rows = await db.fetch(
        f"SELECT l.run, r.month, r.status, l.opportunity, l.user_id AS user, l.base, l.amount,"
        f" l.note FROM {LINE} l JOIN {RUN} r ON r.id = l.run"
        " WHERE ($1::date IS NULL OR r.month = $1) AND ($2::int IS NULL OR l.user_id = $2)"
        " ORDER BY r.month DESC, l.user_id, l.opportunity",
        month.replace(day=1) if month else None,
        user_id,
    )
    return [LineOut(**dict(r)) for r in rows]


COMPUTE = "sales.compute_commissions"


@jobs.actor(COMPUTE)
async def compute_commissions(branch_id: int, month: str) -> None:
    """The job behind ``POST /commissions/runs``: idempotent while the run is a draft; a
    message arriving after the approval changes nothing (and is not retried)."""
    try:
        await compute_run(branch_id, date.fromisoformat(month))
    except Problem as problem:
        if problem.code != "run_closed":
            raise
        log.info("commission run not recomputed: %s", problem.detail)


async def request_run(data: RunIn) -> dict[str, Any]:
    if data.branch_id not in require_scope().branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    status = await db.fetchval(
        f"SELECT status FROM {RUN} WHERE branch_id = $1 AND month = $2",
        data.branch_id,
        data.month.replace(day=1),
    )
    if status not in (None, "draft"):
        raise Problem(
            409, f"the run of {data.month:%Y-%m} is {status}; it no longer changes",
            [FieldError("body.month", f"the run is {status}")], "run_closed",
        )  # fmt: skip
    async with db.transaction():
        message = await jobs.enqueue(
            compute_commissions, data.branch_id, data.month.replace(day=1).isoformat()
        )
    return {"queued": message, "branch_id": data.branch_id, "month": data.month.replace(day=1)}


async def list_runs() -> list[RunOut]:
    return [_run_out(r) for r in await db.fetch(f"SELECT * FROM {RUN} ORDER BY month DESC, id")]
