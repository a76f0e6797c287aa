"""Demo data (the ``seed_demo_data`` hook): a small approved credit scorecard, so the
registry screen shows what a credit officer reads; and in each demo branch a year of
transactions of its customers (one load with its quality report), a feature run over
them and its scoring by the scorecard, and a churn model trained on a run four months
earlier with outcomes from the latest, so every screen and route of the plugin has rows
in several branches and the 360 views show scores."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from bankcrm import audit, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import services as archive
from bankcrm_mining.features import OwnOnly, build_features
from bankcrm_mining.learning import run_training, start_training
from bankcrm_mining.registry import ENTITY, TABLE, check_spec
from bankcrm_mining.scoring import run_scoring, start_run

DEMO_NAME = "demo_credit_scorecard"
DEMO_BRANCHES = ("BJ", "BJ-HD", "SH", "SH-PD")
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
CHANNELS = ("柜面", "手机银行", "网上银行", "ATM", "POS")
CATEGORIES = ("工资", "消费", "转账", "理财申购", "还款")
MAX_CUSTOMERS = 200
"""Transactions for at most this many customers per branch (the demo stays quick)."""


async def _seed_model(demo: DemoContext) -> int:
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
    return int(row_id)


async def _seed_transactions(rng: random.Random, branch_id: int, code: str) -> bool:
    """A year of a branch's customers' transactions as one load (linked_by ``demo``: the
    demo writes the customer ids it generated for, no file was matched)."""
    facts = await archive.customer_facts()  # the branch and its sub-branches
    customers = [c.customer_id for c in facts if c.branch_id == branch_id][:MAX_CUSTOMERS]
    if not customers:
        return False
    now = datetime.now(DEFAULT_ZONE)
    rows = []
    for customer in customers:
        balance = Decimal(rng.randrange(1_000, 200_000))
        for n in range(rng.randrange(3, 30)):
            amount = Decimal(round(rng.lognormvariate(7, 1.2), 2))
            amount = amount if rng.random() < 0.45 else -min(amount, balance)
            balance += amount
            at = now - timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(0, 600))
            rows.append((branch_id, f"DEMO-{code}-{customer}-{n}", customer, at, amount,
                         rng.choice(CHANNELS), rng.choice(CATEGORIES), balance))  # fmt: skip
    rows.sort(key=lambda r: r[3])
    async with db.transaction():
        load_id = await db.fetchval(
            "INSERT INTO mining_load (branch_id, source, file_name, file_sha256, status, rows_in,"
            " rows_loaded, rows_linked, report, created_by, created_at) VALUES ($1,"
            " 'transactions', $2, $3, 'loaded', $4, $4, $4, $5, $6, now()) RETURNING id",
            branch_id, f"演示交易流水-{code}.csv", "0" * 64, len(rows),
            db.jsonb({"rows_in": len(rows), "rows_loaded": len(rows), "rows_rejected": 0,
                      "rejected": {}, "rejected_rows": [], "rows_linked": len(rows),
                      "linked_by": {"demo": len(rows)}, "rows_unlinked": 0}),
            require_scope().actor,
        )  # fmt: skip
        await db.execute_many(
            "INSERT INTO mining_transaction (branch_id, load, txn_id, customer, linked_by,"
            " booked_at, amount, currency, channel, category, balance_after) VALUES ($1, $2,"
            " $3, $4, 'demo', $5, $6, 'CNY', $7, $8, $9)",
            [(b, load_id, t, c, at, a, ch, cat, bal) for b, t, c, at, a, ch, cat, bal in rows],
        )
        await audit.record(
            audit.Action.CREATE, "mining.load", load_id, branch_id=branch_id,
            after={"demo": True, "rows_loaded": len(rows)},
        )  # fmt: skip
    return True


async def seed_demo(demo: DemoContext) -> None:
    model_id = await _seed_model(demo)
    rng = random.Random(demo.seed)  # noqa: S311 - reproducible demo data, not a secret
    outer = require_scope()
    # As of tomorrow: everything up to now counts (the demo customers were created today).
    as_of = datetime.now(DEFAULT_ZONE).date() + timedelta(days=1)
    for code in DEMO_BRANCHES:
        branch_id = demo.branches.get(code)
        if branch_id is None:
            continue
        scope = Scope(
            actor=outer.actor, branch_ids=frozenset({branch_id}), is_superuser=True,
            home_branch_id=branch_id, request_id=outer.request_id,
        )  # fmt: skip
        with bind_scope(scope):
            if await _seed_transactions(rng, branch_id, code):
                feature_run = await build_features(as_of, branch_id, OwnOnly())
                # Scored here rather than by the worker, so the demo's 360 views show
                # scores as soon as it is up (the queued job then finds the run done).
                run = await start_run(model_id, feature_run.id)
                await run_scoring(run.id)
                # A churn model trained on the branch's history: features four months
                # ago, outcomes now (a draft until someone approves it).
                earlier = await build_features(as_of - timedelta(days=120), branch_id, OwnOnly())
                training = await start_training(
                    "demo_deposit_churn", "churn", earlier.id, feature_run.id
                )
                await run_training(training.id)
