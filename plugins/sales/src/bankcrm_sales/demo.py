"""Demo data (the ``seed_demo_data`` hook): leads from every channel, opportunities in
every stage with products, contracts signed for the won ones, and activities, owned by
the demo's relationship managers and branch managers. A branch manager's own rows sit in
the sub-branch of their relationship manager, so the owner rules have rows one user of a
branch sees and another does not.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bankcrm import audit, db
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_sales.analytics import ZONE
from bankcrm_sales.commissions import compute_run
from bankcrm_sales.common import LEAD_KIND, OPPORTUNITY_KIND
from bankcrm_sales.contracts import ContractFromDeal, create_from_opportunity
from bankcrm_sales.scoring import rule_score
from bankcrm_sales.settings import DEFAULT_STAGES

# owner, branch of their rows
OWNERS = (
    ("demo.bj.rm", "BJ-HD"),
    ("demo.bj.manager", "BJ-HD"),
    ("demo.sh.rm", "SH-PD"),
    ("demo.sh.manager", "SH-PD"),
)
PROSPECTS = ("赵敏", "钱进", "孙丽", "周强", "吴芳", "郑伟", "王磊", "冯静")
NEEDS = (
    "孩子留学需要换汇和资产配置建议",
    "企业扩产需要流动资金贷款",
    "到期定存想转理财，风险偏好稳健",
    "申请白金信用卡，关注机场贵宾服务",
    "",
)
CHANNELS = ("web", "call_centre", "branch", "referral", "campaign", "partner", "event")
COMPETITORS = ("", "招商银行", "工商银行", "平安银行")
LOST_REASONS = ("利率不具竞争力", "客户选择了他行", "客户暂缓需求")


async def seed_demo(demo: DemoContext) -> None:
    rng = random.Random(demo.seed)  # noqa: S311 - reproducible demo data, no secret
    now = datetime.now(UTC)
    products = [p for p in await archive.list_products(active=True)]
    per_owner = max(2, min(20, demo.scale // 200))
    async with db.transaction():
        for username, code in OWNERS:
            owner = demo.users.get(username)
            branch_id = demo.branches.get(code)
            if owner is None or branch_id is None:
                continue
            customers = (
                await archive.search_customers(
                    archive.CustomerFilter(branch_id=branch_id), limit=len(DEFAULT_STAGES) + 4
                )
            ).items
            for n in range(per_owner):
                await _lead(rng, now, branch_id, owner, n, products)
            for n, stage in enumerate(DEFAULT_STAGES):
                if n < len(customers):
                    made = await _opportunity(rng, now, branch_id, owner, customers[n].id,
                                              stage.code, products)  # fmt: skip
                    if stage.outcome == "won" and products:
                        await create_from_opportunity(made, ContractFromDeal(
                            number=f"XS{made:08d}",
                            signed_on=now.astimezone(ZONE).date(),
                            end_on=(now + timedelta(days=365)).astimezone(ZONE).date(),
                        ))  # fmt: skip
            if customers:
                await _activity(rng, now, branch_id, owner, customers[-1].id)
        await _plans_and_commissions(demo, now)


async def _plans_and_commissions(demo: DemoContext, now: datetime) -> None:
    """A month's plan per demo sub-branch and a commission rule; the commission run of
    this month is computed (a draft, for a second person to approve)."""
    month = now.astimezone(ZONE).date().replace(day=1)
    for code in ("BJ-HD", "SH-PD"):
        branch_id = demo.branches.get(code)
        if branch_id is None:
            continue
        await db.fetch(
            "INSERT INTO sales_plan (branch_id, period, period_start, product_category,"
            " target_amount, target_count, created_by, created_at) VALUES ($1, 'month', $2,"
            " '', 5000000, 10, 'system:demo', now())",
            branch_id, month,
        )  # fmt: skip
        await db.fetch(
            "INSERT INTO sales_commission_rule (branch_id, name, product_category, valid_from,"
            " rate, tiers, cap, clawback_days, created_by, created_at) VALUES ($1, '标准提成',"
            " '', $2, NULL, $3, 50000, 90, 'system:demo', now())",
            branch_id, month.replace(month=1),
            db.jsonb([{"from_amount": "0", "to_amount": "1000000", "rate": "0.5"},
                      {"from_amount": "1000000", "to_amount": None, "rate": "0.8"}]),
        )  # fmt: skip
        await compute_run(branch_id, month)


async def _lead(
    rng: random.Random,
    now: datetime,
    branch_id: int,
    owner: int,
    n: int,
    products: list[archive.ProductOut],
) -> None:
    channel = CHANNELS[(n + owner) % len(CHANNELS)]
    product = rng.choice(products) if products and n % 3 else None
    values = {
        "channel": channel, "campaign": "开门红" if channel == "campaign" else "",
        "prospect_name": PROSPECTS[(n + owner) % len(PROSPECTS)], "phone": f"1380013{n:04d}",
        "email": f"prospect{n}@example.cn" if n % 2 else None, "company": "",
        "product_interest": product.code if product else "", "need": NEEDS[n % len(NEEDS)],
        "estimated_amount": Decimal(rng.choice((50_000, 200_000, 1_500_000))), "customer": None,
    }  # fmt: skip
    score = rule_score(values)
    status = ("new", "contacted", "qualified", "lost")[n % 4]
    due = None if status == "lost" else now + timedelta(hours=rng.choice((-30, -3, 5, 48)))
    lead_id = await db.fetchval(
        "INSERT INTO sales_lead (branch_id, channel, campaign, prospect_name, phone, email,"
        " company, product_interest, need, estimated_amount, status, lost_reason, owner, score,"
        " score_reasons, next_follow_up_at, created_by, created_at, updated_at) VALUES ($1,"
        " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'system:demo',"
        " $17, $17) RETURNING id",
        branch_id, values["channel"], values["campaign"], values["prospect_name"],
        values["phone"], values["email"], "", values["product_interest"], values["need"],
        values["estimated_amount"], status, "客户暂无需求" if status == "lost" else "", owner,
        score.score, db.jsonb([r.as_dict() for r in score.reasons]), due,
        now - timedelta(days=n + 1),
    )  # fmt: skip
    await audit.record(
        audit.Action.CREATE, LEAD_KIND, lead_id, branch_id=branch_id, after={"demo": True}
    )


async def _opportunity(
    rng: random.Random,
    now: datetime,
    branch_id: int,
    owner: int,
    customer: int,
    stage: str,
    products: list[archive.ProductOut],
) -> int:
    spec = next(s for s in DEFAULT_STAGES if s.code == stage)
    lines = rng.sample(products, k=min(2, len(products))) if products else []
    priced = [(p.id, Decimal(rng.choice((100_000, 300_000, 2_000_000)))) for p in lines]
    amount = sum((price for _, price in priced), Decimal(0))
    created = now - timedelta(days=rng.randint(20, 90))
    path = [s.code for s in DEFAULT_STAGES if s.outcome == "open"]
    if spec.outcome == "open":
        path = path[: path.index(stage) + 1]
    else:
        path = [*path[: rng.randint(1, len(path))], stage]
    closed = spec.outcome != "open"
    opportunity_id = await db.fetchval(
        "INSERT INTO sales_opportunity (branch_id, customer, title, stage, stage_entered_at,"
        " probability, amount, expected_close, competitor, sales_method, project, channel,"
        " status, lost_reason, owner, next_follow_up_at, closed_at, created_by, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'relationship', $10, $11,"
        " $12, $13, $14, $15, $16, 'system:demo', $17, $5) RETURNING id",
        branch_id, customer, f"{spec.name}演示商机", stage,
        created + timedelta(days=3 * len(path)), spec.probability, amount,
        (now + timedelta(days=30)).date(), rng.choice(COMPETITORS), "2026年财富季",
        rng.choice(CHANNELS), spec.outcome, rng.choice(LOST_REASONS) if stage == "lost" else "",
        owner, None if closed else now + timedelta(hours=rng.choice((-20, 6, 30))),
        now - timedelta(hours=1) if closed else None, created,
    )  # fmt: skip
    for product, price in priced:
        await db.fetch(
            "INSERT INTO sales_opportunity_product (branch_id, opportunity, product, quantity,"
            " unit_price, amount, options) VALUES ($1, $2, $3, 1, $4, $4, $5)",
            branch_id, opportunity_id, product, price, db.jsonb({"term_months": 12}),
        )  # fmt: skip
    previous = None
    for step, code in enumerate(path):
        await db.fetch(
            "INSERT INTO sales_stage_change (branch_id, opportunity, from_stage, to_stage,"
            " changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, 'system:demo')",
            branch_id, opportunity_id, previous, code, created + timedelta(days=3 * step),
        )  # fmt: skip
        previous = code
    await audit.record(
        audit.Action.CREATE, OPPORTUNITY_KIND, opportunity_id, branch_id=branch_id,
        after={"demo": True},
    )  # fmt: skip
    return int(opportunity_id)


async def _activity(
    rng: random.Random, now: datetime, branch_id: int, owner: int, customer: int
) -> None:
    for kind, result, intent in (
        ("call", "客户对大额存单感兴趣，约下周面谈", "strong"),
        ("visit", "上门沟通家庭资产配置方案", "moderate"),
    ):
        await db.fetch(
            "INSERT INTO sales_activity (branch_id, kind, customer, at, result, intent,"
            " next_step, next_follow_up_at, owner, created_at) VALUES ($1, $2, $3, $4, $5, $6,"
            " $7, $8, $9, now())",
            branch_id, kind, customer, now - timedelta(days=rng.randint(1, 10)), result,
            intent, "发送产品说明书", now + timedelta(days=3), owner,
        )  # fmt: skip
