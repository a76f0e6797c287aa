"""The assignment engine at bank scale: 100,000 work items among 500 employees.

500 employees in ten sub-branches of the test world, each with products, languages and a
capacity (150–450); three rules per branch (loans over a million to loan specialists who
speak the customer's language, VIPs by round robin, the rest least loaded). Items are
assigned through ``assign_many`` in batches of 5,000, each batch one transaction, as a
nightly redistribution job would. The baseline, in the same run, is the floor of the
work: inserting the same 100,000 assignment rows with one precomputed ``INSERT … SELECT
unnest(…)`` per batch. Reported: wall time of both, their ratio, and the spread of load
(max/mean of open items per employee, and how many items fell back to the branch
manager). Nothing about time is asserted; run

``CI=true BANKCRM_DATABASE_URL=… uv run pytest benchmarks/test_bench_assignment.py -s``
``-p no:randomly``

and record the printed table in ``results/``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from bankcrm import branches, db
from bankcrm.assignment import WorkItem, assign_many, service
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import Label, WorkKind
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_sdk.world import World

ITEMS = 100_000
EMPLOYEES = 500
SUB_BRANCHES = 10
BATCH = 5_000
PRODUCTS = ("loan", "deposit", "wealth", "card", "insurance")
LANGUAGES = ("zh", "en", "yue")
LEAD = WorkKind(
    "benchwork.lead",
    Label("线索", "Lead"),
    {"product": "string", "amount": "number", "language": "string", "vip": "boolean"},
)


@pytest.fixture
def work_kind(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> Iterator[None]:
    plugin = make_plugin("benchwork", hooks={"register_work_kinds": lambda: [LEAD]})
    service.install(kernel_with([plugin]).registry)
    yield
    service.install(kernel.registry)


async def seed(world: World, rng: random.Random) -> tuple[list[int], Scope]:
    """Ten sub-branches under Beijing with 50 employees and three rules each."""
    scope = await world.scope_of("HQ")
    sub_ids = []
    async with db.transaction():
        for n in range(SUB_BRANCHES):
            node = await branches.create_branch(
                f"BJ-B{n}", f"北京测试支行{n}", "", world.branch("BJ")
            )
            sub_ids.append(node.id)
    branches.invalidate()
    scope = Scope(
        actor="system:bench", branch_ids=scope.branch_ids | frozenset(sub_ids), is_superuser=True
    )
    with bind_scope(scope):
        async with db.transaction():
            rows = []
            for n in range(EMPLOYEES):
                products = rng.sample(PRODUCTS, rng.randint(1, 3))
                languages = ["zh", *rng.sample(LANGUAGES[1:], rng.randint(0, 2))]
                rows.append(
                    (sub_ids[n % SUB_BRANCHES], f"B{n:04d}", f"员工{n}", products, languages,
                     rng.randint(150, 450))
                )  # fmt: skip
            await db.execute_many(
                "INSERT INTO bankcrm_employee (branch_id, employee_no, name, products, languages,"
                " capacity) VALUES ($1, $2, $3, $4, $5, $6)",
                rows,
            )
            for branch_id in sub_ids:
                for priority, condition, strategy, skills in (
                    (1, 'product == "loan" and amount >= 1000000', "least_loaded",
                     {"products": "product", "languages": "language"}),
                    (2, "vip", "round_robin", {"products": "product"}),
                ):  # fmt: skip
                    await db.fetch(
                        "INSERT INTO bankcrm_assignment_rule (branch_id, work_kind, name,"
                        " priority, condition, strategy, match_skills) VALUES ($1, $2, $3, $4,"
                        " $5, $6, $7::jsonb)",
                        branch_id, LEAD.name, f"rule {priority}", priority, condition, strategy,
                        db.jsonb(skills),
                    )  # fmt: skip
    return sub_ids, scope


def items(rng: random.Random, sub_ids: list[int], start: int, count: int) -> list[WorkItem]:
    return [
        WorkItem(
            LEAD.name,
            f"L{n}",
            sub_ids[rng.randrange(SUB_BRANCHES)],
            {
                "product": rng.choice(PRODUCTS),
                "amount": float(rng.choice((5e4, 3e5, 2e6))),
                "language": rng.choice(("zh", "zh", "zh", "en", "yue")),
                "vip": rng.random() < 0.1,
            },
        )
        for n in range(start, start + count)
    ]


@pytest.mark.usefixtures("work_kind")
async def test_assign_100k_items_among_500_employees(world: World) -> None:
    rng = random.Random(20261204)
    sub_ids, scope = await seed(world, rng)
    batches = [items(rng, sub_ids, start, BATCH) for start in range(0, ITEMS, BATCH)]
    with bind_scope(scope):
        started = time.perf_counter()
        results = []
        for batch in batches:
            async with db.transaction():
                results += await assign_many(batch)
        engine_seconds = time.perf_counter() - started

        employees = [
            r["id"]
            for r in await db.fetch("SELECT id FROM bankcrm_employee WHERE employee_no LIKE 'B%'")
        ]
        planned = [
            (item.branch_id, item.kind, item.item_id + "-floor", employees[n % len(employees)])
            for n, item in enumerate(i for b in batches for i in b)
        ]
        started = time.perf_counter()
        for start in range(0, ITEMS, BATCH):
            chunk = planned[start : start + BATCH]
            async with db.transaction():
                await db.fetch(
                    "INSERT INTO bankcrm_assignment (branch_id, work_kind, item_id, employee_id,"
                    " how, assigned_by) SELECT b, k, i, e, 'default', 'system:bench' FROM"
                    " unnest($1::int[], $2::text[], $3::text[], $4::int[]) AS t(b, k, i, e)",
                    *[list(column) for column in zip(*chunk, strict=True)],
                )
        floor_seconds = time.perf_counter() - started
        capacity = {
            r["id"]: r["capacity"]
            for r in await db.fetch(
                "SELECT id, capacity FROM bankcrm_employee WHERE employee_no LIKE 'B%'"
            )
        }

    assert len(results) == ITEMS
    hows = Counter(r.how for r in results)
    load = Counter(r.employee_id for r in results if r.how != "fallback")
    over = [e for e, n in load.items() if n > capacity[e]]
    assert over == []
    per_employee = [load.get(e, 0) for e in capacity]
    mean = statistics.mean(per_employee)
    ratios = [load.get(e, 0) / capacity[e] for e in capacity]
    print(
        f"\nassignment of {ITEMS:,} items among {EMPLOYEES} employees in {SUB_BRANCHES}"
        f" sub-branches, batches of {BATCH:,}:\n"
        f"| what | seconds | items/s | ratio to floor |\n|---|---|---|---|\n"
        f"| assign_many (rules, skills, capacity, turns) | {engine_seconds:.2f} |"
        f" {ITEMS / engine_seconds:,.0f} | {engine_seconds / floor_seconds:.2f} |\n"
        f"| floor: precomputed INSERT … unnest | {floor_seconds:.2f} |"
        f" {ITEMS / floor_seconds:,.0f} | 1.00 |\n"
        f"how: {dict(hows)}\n"
        f"open items per employee: max {max(per_employee)}, mean {mean:.1f},"
        f" max/mean {max(per_employee) / mean:.2f}; load/capacity max {max(ratios):.2f},"
        f" mean {statistics.mean(ratios):.2f}, min {min(ratios):.2f}"
    )
