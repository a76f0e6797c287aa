"""Demo data (the ``seed_demo_data`` hook): tickets of every kind and status in four
branches, for the branches' own customers, with their history, so every role sees a
working service desk and no branch sees another's."""

from __future__ import annotations

from bankcrm import audit, db
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_service.services import ENTITY, EVENT, TABLE

DEMO_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
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
        for code in DEMO_BRANCHES:
            branch_id = demo.branches.get(code)
            if branch_id is None:
                continue
            facts = [f for f in await archive.customer_facts() if f.branch_id == branch_id]
            for index, (kind, channel, priority, status, title, body) in enumerate(TICKETS):
                customer = facts[index].customer_id if index < len(facts) else None
                row_id = await db.fetchval(
                    f"INSERT INTO {TABLE} (branch_id, customer, kind, channel, priority, title,"
                    " body, status, created_by, resolved_at, created_at, updated_at) VALUES ($1,"
                    " $2, $3, $4, $5, $6, $7, $8::varchar, 'system:demo',"
                    " CASE WHEN $8::varchar IN ('resolved', 'closed') THEN now() END, now(),"
                    " now()) RETURNING id",
                    branch_id, customer, kind, channel, priority, title, body, status,
                )  # fmt: skip
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
