"""Demo data (the ``seed_demo_data`` hook): in each demo sub-branch a launched call
campaign with its staff, cost lines and a control group, an SMS campaign targeted but not
yet launched, and a customer who asked not to be contacted; built through the plugin's
own services, so every row is audited as in real use."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import campaigns, competitors, contacts, surveys, targeting
from bankcrm_marketing.questionnaire import Option, Question, ShowIf

# relationship manager, branch manager, branch of their campaigns
DEMO_BRANCHES = (
    ("demo.bj.rm", "demo.bj.manager", "BJ-HD"),
    ("demo.sh.rm", "demo.sh.manager", "SH-PD"),
)


async def seed_demo(demo: DemoContext) -> None:
    today = datetime.now(UTC).date()
    products = await archive.list_products(active=True)
    product = next((p.code for p in products if p.category == "wealth"), None)
    for rm_name, manager_name, code in DEMO_BRANCHES:
        rm, manager = demo.users.get(rm_name), demo.users.get(manager_name)
        branch_id = demo.branches.get(code)
        if rm is None or manager is None or branch_id is None:
            continue
        criteria = archive.CustomerFilter(branch_id=branch_id)
        found = await archive.search_customers(criteria, limit=1)
        if found.items:
            await contacts.add_do_not_contact(
                contacts.DoNotContactIn(
                    customer_id=found.items[0].id,
                    channel="sms",
                    reason="客户来电要求不再发送营销短信",
                )
            )
        call = await campaigns.create_campaign(
            campaigns.CampaignIn(
                title=f"理财到期客户回访（{code}）",
                objective="到期理财资金留存，推荐稳健型理财产品",
                plan="客户经理逐一电话回访，介绍新发行的稳健型理财，有意向者预约到网点面谈",
                channel="call",
                product_code=product,
                message="您好，我是您的客户经理。您在我行的理财即将到期，我们新发行了一款稳健型产品……",
                criteria=criteria,
                owner_id=manager,
                budget=Decimal("20000"),
                starts_on=today,
                ends_on=today + timedelta(days=30),
                control_share=0.2,
                seed=demo.seed % (2**31 - 1),
                branch_id=branch_id,
            )
        )
        await campaigns.add_staff(call.id, campaigns.StaffIn(user_id=rm, role="电话回访"))
        await campaigns.add_cost(
            call.id,
            campaigns.CostIn(category="staff", amount=Decimal("6000"), spent_on=today,
                             note="外呼人工"),
        )  # fmt: skip
        await campaigns.add_cost(
            call.id,
            campaigns.CostIn(category="gift", amount=Decimal("3500"), spent_on=today,
                             note="到店礼品"),
        )  # fmt: skip
        await targeting.target(call.id)
        await contacts.launch(call.id)
        # The calls are handed to the staff now (the job the launch queued finds them done).
        await contacts.send_due(call.id)
        made = await contacts.list_contacts(call.id, status="sent", limit=2)
        answers: tuple[tuple[contacts.ResponseName, str], ...] = (
            ("accepted", "客户同意到网点面谈"),
            ("declined", "资金另有安排"),
        )
        for contact, (answer, note) in zip(made.items, answers, strict=False):
            await contacts.record_response(
                contact.id, contacts.ResponseIn(response=answer, note=note)
            )
        sms = await campaigns.create_campaign(
            campaigns.CampaignIn(
                title=f"信用卡分期优惠短信（{code}）",
                objective="提升信用卡分期使用率",
                plan="向持卡客户发送分期手续费八折短信，七天后电话跟进有意向客户",
                channel="sms",
                message="【示范银行】尊敬的客户，本月办理信用卡账单分期享手续费八折优惠，回复TD退订。",
                criteria=criteria,
                owner_id=rm,
                budget=Decimal("5000"),
                starts_on=today + timedelta(days=7),
                ends_on=today + timedelta(days=21),
                seed=(demo.seed + 1) % (2**31 - 1),
                branch_id=branch_id,
            )
        )
        await targeting.target(sms.id)
        await seed_competitors(branch_id, today, {p.code for p in products})
        await seed_surveys(branch_id, manager, [c.id for c in (
            await archive.search_customers(criteria, limit=6)).items])  # fmt: skip
    # Sales' opportunities won or lost against a competitor, when sales is there (no
    # running kernel to ask when the demo is seeded outside one).
    with contextlib.suppress(RuntimeError):
        await competitors.sync_deals()


# competitor, type, products: (name, category, term months, rate a year ago, rate now)
DEMO_COMPETITORS: tuple[
    tuple[str, competitors.InstitutionTypeName, tuple[tuple[str, competitors.Category,
                                                            int | None, str, str], ...]], ...
] = (
    ("招商银行", "bank", (
        ("一年期整存整取", "deposit", 12, "1.65", "1.35"),
        ("三年期整存整取", "deposit", 36, "2.25", "1.75"),
        ("首套住房贷款", "loan", 300, "4.10", "3.30"),
    )),
    ("建设银行", "bank", (
        ("一年期定期存款", "deposit", 12, "1.65", "1.30"),
        ("大额存单（3年）", "deposit", 36, "2.60", "1.90"),
        ("快贷", "loan", 12, "3.95", "3.45"),
    )),
    ("蚂蚁财富", "fintech", (
        ("货币基金（余额宝）", "wealth", None, "1.90", "1.45"),
    )),
)  # fmt: skip
# our product, rate a year ago, rate now
OUR_RATES = (
    ("DEP-1Y", "1.65", "1.40"),
    ("DEP-3Y", "2.35", "1.80"),
    ("DEP-LCD", "2.65", "1.95"),
    ("LN-MORT", "4.20", "3.35"),
    ("LN-CONS", "4.35", "3.50"),
    ("WM-30D", "2.10", "1.70"),
)
DEMO_DEALS: tuple[tuple[str, competitors.OutcomeName, competitors.Category, str, str], ...] = (
    ("招商银行", "lost", "deposit", "500000", "对方大额存单利率高0.1个百分点"),
    ("招商银行", "lost", "loan", "1200000", "对方房贷审批更快"),
    ("招商银行", "won", "deposit", "300000", "客户经理上门服务"),
    ("建设银行", "won", "loan", "800000", "我行利率更低"),
    ("建设银行", "lost", "deposit", "200000", "对方大额存单利率高0.1个百分点"),
    ("蚂蚁财富", "lost", "wealth", "50000", "线上购买更方便"),
)


async def seed_competitors(branch_id: int, today: date, our_codes: set[str]) -> None:
    """Competitors in the branch's market with their rates a year ago and now, our rates,
    and deals won or lost against them (entered by staff)."""
    year_ago = today - timedelta(days=365)
    found: dict[str, int] = {}
    for name, kind, products in DEMO_COMPETITORS:
        competitor = await competitors.create_competitor(
            competitors.CompetitorIn(name=name, institution_type=kind, branch_id=branch_id,
                                     note="同一商圈主要竞争机构")
        )  # fmt: skip
        found[name] = competitor.id
        for title, category, term, before, now in products:
            product = await competitors.add_product(
                competitor.id,
                competitors.ProductIn(name=title, product_category=category, term_months=term),
            )
            for day, rate in ((year_ago, before), (today, now)):
                await competitors.record_rate(
                    competitors.RateIn(competitor_product_id=product.id, rate=Decimal(rate),
                                       effective_from=day, source="对方官网挂牌利率")
                )  # fmt: skip
    for code, before, now in OUR_RATES:
        if code not in our_codes:
            continue
        for day, rate in ((year_ago, before), (today, now)):
            await competitors.record_rate(
                competitors.RateIn(product_code=code, rate=Decimal(rate), effective_from=day,
                                   source="本行挂牌利率", branch_id=branch_id)
            )  # fmt: skip
    for number, (name, outcome, category, amount, reason) in enumerate(DEMO_DEALS):
        await competitors.record_deal(
            competitors.DealIn(competitor_id=found[name], outcome=outcome,
                               closed_on=today - timedelta(days=3 * number + 1),
                               product_category=category, amount=Decimal(amount), reason=reason)
        )  # fmt: skip


def _options(*pairs: tuple[str, str]) -> list[Option]:
    return [Option(value, label) for value, label in pairs]


RESEARCH = [
    Question(key="bank", question_kind="single", prompt="您目前主要在哪家银行购买理财产品？",
             options=_options(("ours", "本行"), ("cmb", "招商银行"), ("ccb", "建设银行"),
                              ("other", "其他机构"))),
    Question(key="why_other", question_kind="single", prompt="您选择其他机构的主要原因是？",
             options=_options(("rate", "收益率更高"), ("near", "网点更近"),
                              ("app", "手机银行更好用")),
             show_if=ShowIf(question="bank", any_of=["cmb", "ccb", "other"])),
    Question(key="values", question_kind="multiple", prompt="最看重理财产品的哪些方面？（可多选）",
             options=_options(("yield", "收益率"), ("safety", "安全性"),
                              ("liquidity", "流动性"), ("service", "服务"))),
    Question(key="satisfaction", question_kind="scale", prompt="对本行理财服务的满意程度（1-5分）",
             scale_min=1, scale_max=5),
    Question(key="improve", question_kind="text", prompt="请告诉我们需要改进的地方",
             required=False, show_if=ShowIf(question="satisfaction", at_most=3)),
]  # fmt: skip
SATISFACTION = [
    Question(key="nps", question_kind="scale", prompt="您向亲友推荐我行的可能性有多大？（0-10分）",
             scale_min=0, scale_max=10),
    Question(key="comment", question_kind="text", prompt="还有什么想告诉我们的？", required=False),
]  # fmt: skip
RESEARCH_ANSWERS: tuple[dict[str, object], ...] = (
    {"bank": "ours", "values": ["safety", "service"], "satisfaction": 5},
    {"bank": "cmb", "why_other": "rate", "values": ["yield"], "satisfaction": 3,
     "improve": "希望理财产品收益率再高一些"},
    {"bank": "ccb", "why_other": "app", "values": ["yield", "liquidity"], "satisfaction": 2,
     "improve": "手机银行购买理财步骤太多"},
    {"bank": "ours", "values": ["safety"], "satisfaction": 4},
)  # fmt: skip


async def seed_surveys(branch_id: int, manager: int, customers: list[int]) -> None:
    """A market-research questionnaire with skip logic, open with a public link, answered
    by customers through staff, the link and an invitation; and a satisfaction survey for
    the service plugin to send."""
    research = await surveys.create_survey(
        surveys.SurveyIn(title="理财客户需求调查", description="了解客户理财偏好与对我行服务的评价",
                         questions=RESEARCH, owner_id=manager, branch_id=branch_id)
    )  # fmt: skip
    await surveys.update_survey(research.id, surveys.SurveyPatch(status="active", public_link=True))
    for number, answers in enumerate(RESEARCH_ANSWERS):
        customer = customers[number] if number < len(customers) else None
        await surveys.record_staff_response(
            research.id, surveys.StaffResponseIn(answers=dict(answers), customer_id=customer)
        )
    if len(customers) > 4:
        invitation = await surveys.invite(
            research.id, customers[4], source_ref=f"demo:{branch_id}:research"
        )
        await surveys.submit_public(
            invitation.url.rsplit("/", 1)[-1],
            surveys.AnswersIn(answers={"bank": "other", "why_other": "near",
                                       "values": ["liquidity"], "satisfaction": 4}),
        )  # fmt: skip
    satisfaction = await surveys.create_survey(
        surveys.SurveyIn(title="服务满意度回访", purpose="satisfaction", questions=SATISFACTION,
                         owner_id=manager, branch_id=branch_id)
    )  # fmt: skip
    await surveys.update_survey(satisfaction.id, surveys.SurveyPatch(status="active"))
    if len(customers) > 5:
        await surveys.send_satisfaction_survey(customers[5], source_ref=f"demo:{branch_id}:nps")
