"""Demo data (the ``seed_demo_data`` hook): tickets of every kind and status in four
branches, for the branches' own customers, with their history, so every role sees a
working service desk and no branch sees another's. Beijing and Shanghai have SLA policies;
each ticket carries its due time, one per branch is past it and the SLA sweep has warned
and escalated, so the breach report and the escalation log have rows in both."""

from __future__ import annotations

from datetime import timedelta

from bankcrm import audit, branches, business_calendar, db
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_service import care, faq, sla, triage_queue
from bankcrm_service.services import ENTITY, EVENT, TABLE

DEMO_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
ASSIGNEES = {
    "BJ": "demo.bj.manager", "BJ-HD": "demo.bj.rm", "SH": "demo.sh.manager",
    "SH-PD": "demo.sh.rm",
}  # fmt: skip
POLICIES = (
    ("BJ", "投诉（紧急）", "complaint", "urgent", None, 4, 75),
    ("BJ", "投诉", "complaint", None, None, 16, 80),
    ("BJ", "私行客户", None, None, "private", 8, 80),
    ("SH", "申告", "report", None, None, 8, 80),
    ("SH", "咨询", "inquiry", None, None, 24, 80),
)  # fmt: skip
AGE_DAYS = (6, 3, 1, 2, 8)
FAQ_BRANCHES = ("BJ", "SH")
FAQ = (
    ("银行卡", "Cards", (
        ("银行卡丢失了怎么办？",
         "请立即拨打客服热线或通过手机银行办理临时挂失，"
         "再携带身份证到任一网点办理正式挂失和补卡。",
         "卡丢了 挂失 补卡 lost card"),
        ("信用卡年费怎么收取？",
         "主卡年费在开卡后每年收取一次；当年刷卡满6次可免次年年费，"
         "具体以卡种为准。",
         "年费 免年费 annual fee"),
        ("银行卡被盗刷怎么处理？",
         "请立即冻结卡片并拨打客服热线报案，保留交易短信，"
         "我行将在核实后处理争议交易。",
         "盗刷 被盗 fraud stolen"),
    )),
    ("存款与理财", "Deposits and wealth", (
        ("定期存款提前支取利息怎么算？",
         "提前支取部分按支取日活期利率计息，"
         "未支取部分仍按原定期利率计息。",
         "提前支取 定期 利息 early withdrawal"),
        ("理财产品到期后资金多久到账？",
         "一般在到期日后1至3个工作日内返还至您的活期账户，"
         "节假日顺延。",
         "理财到期 到账 maturity"),
    )),
    ("电子银行", "E-banking", (
        ("手机银行登录密码忘记了怎么办？",
         "在登录页点击“忘记密码”，验证身份"
         "证、银行卡和短信验证码后即可重置。",
         "忘记密码 重置密码 forgot password reset"),
        ("手机银行转账限额是多少？",
         "默认单笔5万元、日累计20万元，可在手机银行“安全中心”调整，"
         "最高以安全认证方式为准。",
         "转账限额 limit transfer"),
    )),
)  # fmt: skip
"""(category, English name, ((question, answer, other wordings), ...)); each branch's
copy has one article edited once (two versions) and one left a draft."""
"""How long ago each of :data:`TICKETS` was opened: the first, in progress, is overdue."""
TICKETS = (
    ("complaint", "phone", "high", "in_progress",
     "信用卡年费被重复扣收", "客户称本月被扣两次年费，要求退还。"),
    ("inquiry", "counter", "normal", "resolved",
     "定期存款提前支取利息怎么算", "已按活期利率向客户解释。"),
    ("suggestion", "app", "low", "new",
     "手机银行转账限额希望可自行调整", "客户建议开放限额自助设置。"),
    ("report", "wechat", "urgent", "waiting_customer",
     "银行卡疑似被盗刷", "已临时冻结，待客户到网点确认。"),
    ("bill", "email", "normal", "closed",
     "账单分期手续费疑问", "已解释分期手续费计算方式，客户认可。"),
)  # fmt: skip


async def seed_demo(demo: DemoContext) -> None:
    async with db.transaction():
        for code, name, kind, priority, tier, hours, warn in POLICIES:
            if code in demo.branches:
                await db.fetch(
                    f"INSERT INTO {sla.POLICY} (branch_id, name, kind, priority, value_tier,"
                    " resolve_hours, warn_percent, active, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, true, now(), now())",
                    demo.branches[code], name, kind, priority, tier, hours, warn,
                )  # fmt: skip
    await _seed_faq(demo)
    seeded: list[int] = []
    async with db.transaction():
        now = sla.utcnow()
        for code in DEMO_BRANCHES:
            branch_id = demo.branches.get(code)
            if branch_id is None:
                continue
            seeded.append(branch_id)
            assignee = demo.users.get(ASSIGNEES[code])
            facts = [f for f in await archive.customer_facts() if f.branch_id == branch_id]
            for index, (kind, channel, priority, status, title, body) in enumerate(TICKETS):
                customer = facts[index].customer_id if index < len(facts) else None
                created = now - timedelta(days=AGE_DAYS[index])
                due = await sla.start(branch_id, kind, priority, customer, created)
                row_id = await db.fetchval(
                    f"INSERT INTO {TABLE} (branch_id, customer, kind, channel, priority, title,"
                    " body, status, created_by, assignee, resolved_at, created_at, updated_at,"
                    " sla_policy, sla_hours, sla_warn_at, sla_due_at, sla_paused_at) VALUES ($1,"
                    " $2, $3, $4, $5, $6, $7, $8::varchar, 'system:demo', $9,"
                    " CASE WHEN $8::varchar IN ('resolved', 'closed') THEN $10::timestamptz END,"
                    " $11, $10,"
                    " $12, $13, $14, $15, CASE WHEN $8::varchar NOT IN ('new', 'in_progress')"
                    " THEN $11::timestamptz + interval '1 hour' END) RETURNING id",
                    branch_id, customer, kind, channel, priority, title, body, status, assignee,
                    now, created, due["sla_policy"], due["sla_hours"], due["sla_warn_at"],
                    due["sla_due_at"],
                )  # fmt: skip
                await triage_queue.assess(row_id, branch_id, f"{title}\n{body}", kind)
                await db.fetch(
                    f"INSERT INTO {EVENT} (branch_id, ticket, from_status, to_status, note,"
                    " actor, at) VALUES ($1, $2, NULL, 'new', '', 'system:demo', now())",
                    branch_id, row_id,
                )  # fmt: skip
                if status != "new":
                    await db.fetch(
                        f"INSERT INTO {EVENT} (branch_id, ticket, from_status, to_status, note,"
                        " actor, at) VALUES ($1, $2, 'new', $3, $4, 'system:demo', now())",
                        branch_id, row_id, status, body,
                    )  # fmt: skip
                await audit.record(
                    audit.Action.CREATE, ENTITY, row_id, branch_id=branch_id, after={"demo": True}
                )
    # The SLA sweep over the demo: overdue tickets are escalated, their steps recorded.
    await sla.sweep(branch_ids=seeded)
    await _seed_care(demo)


VISIT_PLANS = (
    ("BJ", "私行客户月度走访", "private", 1),
    ("BJ", "财富客户季度走访", "wealth", 3),
    ("SH", "私行客户月度走访", "private", 1),
)  # fmt: skip
CARE_BRANCHES = ("BJ", "SH")


async def _seed_care(demo: DemoContext) -> None:
    """Visit plans in Beijing and Shanghai, the care job run once, and in each of the two
    branches one task done (on the customer's timeline) and one open."""
    async with db.transaction():
        for code, name, tier, months in VISIT_PLANS:
            if code in demo.branches:
                await db.fetch(
                    f"INSERT INTO {care.PLAN} (branch_id, name, value_tier, every_months,"
                    " active, created_at, updated_at) VALUES ($1, $2, $3, $4, true, now(), now())",
                    demo.branches[code], name, tier, months,
                )  # fmt: skip
    await care.generate()
    for code in CARE_BRANCHES:
        branch_id = demo.branches.get(code)
        if branch_id is None:
            continue
        facts = [f for f in await archive.customer_facts() if f.branch_id == branch_id][:2]
        today = sla.utcnow().astimezone(business_calendar.DEFAULT_ZONE).date()
        async with db.transaction():
            for index, fact in enumerate(facts):
                # A visit already made this week, and one the job planned (if any).
                occasion = today - timedelta(days=7 * (index + 1))
                await care.insert_task(branch_id, fact.customer_id, "visit", occasion, occasion)
            done = await db.fetchval(
                f"SELECT id FROM {care.TASK} WHERE status = 'open' AND branch_id = $1"
                " ORDER BY due_on, id LIMIT 1",
                branch_id,
            )
            await db.fetch(
                f"UPDATE {care.TASK} SET status = 'done', result = $2, done_by = 'system:demo',"
                " done_at = now() WHERE id = $1",
                done, "已上门走访，客户对理财到期安排满意，约下月复访。",
            )  # fmt: skip


async def _seed_faq(demo: DemoContext) -> None:
    codes = [c for c in FAQ_BRANCHES if c in demo.branches]
    for code in codes:
        branch_id = demo.branches[code]
        for position, (name, name_en, articles) in enumerate(FAQ):
            category = await faq.create_category(
                faq.FaqCategoryIn(name=name, name_en=name_en, position=position,
                                  branch_id=branch_id)
            )  # fmt: skip
            for index, (question, answer, keywords) in enumerate(articles):
                draft = position == len(FAQ) - 1 and index == len(articles) - 1
                article = await faq.create_article(
                    faq.FaqArticleIn(
                        question=question, answer=answer, keywords=keywords,
                        category_id=category.id, branch_id=branch_id,
                        status="draft" if draft else "published",
                    )
                )  # fmt: skip
                if position == 0 and index == 0:
                    await faq.update_article(
                        article.id, faq.FaqArticlePatch(answer=answer + "（24小时服务）")
                    )
    if codes:
        # The public self-service answers from Beijing's FAQ and hands over to Beijing.
        tree = await branches.snapshot()
        root = min(n for n, node in tree.nodes.items() if node.parent_id is None)
        async with db.transaction():
            await branches.store_plugin_settings(
                root, "service", {"self_service_branch": codes[0]}, "system:demo"
            )
        branches.invalidate()
