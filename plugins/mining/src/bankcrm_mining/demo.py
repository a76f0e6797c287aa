"""Demo data (the ``seed_demo_data`` hook): a small approved credit scorecard, so the
registry screen shows what a credit officer reads — a points table per feature bin."""

from __future__ import annotations

from bankcrm import audit, db
from bankcrm.plugin_api import DemoContext
from bankcrm_mining.registry import ENTITY, TABLE, check_spec

DEMO_NAME = "demo_credit_scorecard"
FEATURES = ["tenure_days", "product_count", "monetary_90d"]
SPEC = {
    "base_points": 600,
    "points": [
        {"feature": "tenure_days", "bin": {"lo": None, "hi": 365}, "points": -20},
        {"feature": "tenure_days", "bin": {"lo": 365, "hi": 1825}, "points": 5},
        {"feature": "tenure_days", "bin": {"lo": 1825, "hi": None}, "points": 25},
        {"feature": "tenure_days", "bin": {"missing": True}, "points": -10},
        {"feature": "product_count", "bin": {"lo": None, "hi": 2}, "points": -15},
        {"feature": "product_count", "bin": {"lo": 2, "hi": None}, "points": 15},
        {"feature": "monetary_90d", "bin": {"lo": None, "hi": 10000}, "points": -5},
        {"feature": "monetary_90d", "bin": {"lo": 10000, "hi": None}, "points": 20},
    ],
}
FINGERPRINT = "0" * 64


async def seed_demo(demo: DemoContext) -> None:
    check_spec("scorecard", SPEC, FEATURES)
    maker = demo.users.get("demo.bj.manager")
    checker = demo.users.get("demo.admin")
    async with db.transaction():
        row_id = await db.fetchval(
            f"INSERT INTO {TABLE} (name, task, version, status, kind, spec, features, metrics,"
            " data_fingerprint, description, created_by, approved_by, approved_at, created_at,"
            " updated_at) VALUES ($1, 'scorecard', 1, 'approved', 'scorecard', $2, $3, $4, $5,"
            " $6, $7, $8, now(), now(), now()) RETURNING id",
            DEMO_NAME, db.jsonb(SPEC), db.jsonb(FEATURES), db.jsonb({"roc_auc": 0.71}),
            FINGERPRINT, "演示用信用评分卡（非真实数据训练）",
            f"user:{maker}", f"user:{checker}",
        )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, ENTITY, row_id, branch_id=None, after={"demo": True}
        )
