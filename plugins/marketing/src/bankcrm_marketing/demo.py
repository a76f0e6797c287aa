"""Demo data (the ``seed_demo_data`` hook): a few rows in each branch that has staff in
the demo, so every role sees something and no branch sees another's."""

from __future__ import annotations

from bankcrm import audit, db
from bankcrm.plugin_api import DemoContext
from bankcrm_marketing.services import ENTITY, TABLE

DEMO_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
TITLES = (
    ("晨会纪要", "Morning meeting notes"),
    ("本周重点客户回访", "Key customers to call back this week"),
    ("网点物料盘点", "Branch supplies count"),
)


async def seed_demo(demo: DemoContext) -> None:
    async with db.transaction():
        for code in DEMO_BRANCHES:
            branch_id = demo.branches.get(code)
            if branch_id is None:
                continue
            for title, body in TITLES:
                row_id = await db.fetchval(
                    f"INSERT INTO {TABLE} (branch_id, title, body, status, created_at,"
                    " updated_at) VALUES ($1, $2, $3, 'open', now(), now()) RETURNING id",
                    branch_id,
                    f"{title}（{code}）",
                    body,
                )
                await audit.record(
                    audit.Action.CREATE, ENTITY, row_id, branch_id=branch_id, after={"demo": True}
                )
