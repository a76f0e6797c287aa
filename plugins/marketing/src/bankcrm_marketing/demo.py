"""Demo data (the ``seed_demo_data`` hook): in each demo sub-branch a launched call
campaign with its staff, cost lines and a control group, an SMS campaign targeted but not
yet launched, and a customer who asked not to be contacted; built through the plugin's
own services, so every row is audited as in real use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import campaigns, contacts, targeting

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
