"""Sales at volume: the follow-up sweep, bulk lead assignment and the analytics queries.

    BANKCRM_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bankcrm_bench_sales \\
        uv run python benchmarks/sales/bench_sales.py --follow-ups 1000000 \\
        --assign 100000 --opportunities 1000000

What is measured, each beside a baseline taken in the same run on the same rows:

1. **Sweep**: ``followups.sweep`` (system scope over every branch) over N open leads in
   one sub-branch, 5 % of them due within the reminder window: wall time, steps recorded,
   notifications written; then the same tick again (must record and send nothing).
   Baseline: one ``UPDATE … RETURNING`` touching the same due rows.
2. **Assignment**: ``assignment.assign_many`` of M imported leads (default rules, least
   loaded) in one transaction. Baseline: a bare ``INSERT … SELECT unnest`` of M rows.
3. **Analytics**: ``analytics.funnel`` and ``analytics.channels`` (read from the daily
   roll-ups) as the branch manager of the branch holding K opportunities (with their stage
   changes, written with the roll-up triggers on): p50/p95 over 20 calls. Baselines: the
   same answers by the direct queries (``direct=True``, a few calls: they are slow) and
   ``SELECT count(*)`` over the same opportunities under the same scope.
4. **Write overhead** of the roll-up triggers: W single transactions creating an
   opportunity with its first stage change, and W moving one to the next stage (UPDATE and
   a stage change), as the branch manager, with the triggers disabled and then enabled.

The database is prepared with ``benchmarks/load/prepare_db.py`` (demo world, small) and
the bulk rows are written by the owner with ``generate_series``; ``--reset`` rebuilds.
Results go to ``benchmarks/results/<date>-sales.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RESULTS = HERE.parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bankcrm_bench_sales"


def prepare(reset: bool) -> None:
    argv = [sys.executable, str(REPO / "benchmarks/load/prepare_db.py"), "--customers", "200"]
    done = subprocess.run(
        argv + (["--reset"] if reset else []), capture_output=True, text=True, check=False,
        cwd=REPO, env=dict(os.environ),
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"preparing failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


async def owner_ids(owner: asyncpg.Connection) -> dict[str, int]:
    rows = await owner.fetch("SELECT code, id FROM bankcrm_branch")
    users = await owner.fetch("SELECT username, id FROM piccolo_user")
    return {**{r["code"]: r["id"] for r in rows}, **{r["username"]: r["id"] for r in users}}


async def seed_follow_ups(owner: asyncpg.Connection, ids: dict[str, int], n: int) -> None:
    """N open leads in BJ-HD owned by its relationship manager; 5 % due in the next hour
    (within the reminder window whenever the branch is open), the rest next month."""
    await owner.execute("TRUNCATE sales_follow_up_step, sales_intake_key, sales_activity")
    await owner.execute("DELETE FROM sales_lead")
    await owner.execute(
        "INSERT INTO sales_lead (branch_id, channel, campaign, prospect_name, phone, company,"
        " product_interest, need, status, lost_reason, owner, score, score_reasons,"
        " next_follow_up_at, flagged, external_ref, created_by, created_at, updated_at)"
        " SELECT $1, 'web', '', '潜客' || g, NULL, '', '', '', 'new', '', $2::int, 0, '[]',"
        " CASE WHEN g % 20 = 0 THEN now() + interval '20 minutes'"
        " ELSE now() + interval '30 days' END, false, '', 'system:bench', now(), now()"
        " FROM generate_series(1, $3::int) g",
        ids["BJ-HD"], ids["demo.bj.rm"], n,
    )  # fmt: skip
    await owner.execute("ANALYZE sales_lead")


async def seed_opportunities(owner: asyncpg.Connection, ids: dict[str, int], n: int) -> None:
    await owner.execute("DELETE FROM sales_commission_line")
    await owner.execute("DELETE FROM sales_contract")
    await owner.execute("DELETE FROM sales_activity")
    await owner.execute("DELETE FROM sales_commission_split")
    await owner.execute("DELETE FROM sales_stage_change")
    await owner.execute("DELETE FROM sales_opportunity_product")
    await owner.execute("DELETE FROM sales_opportunity")
    customer = await owner.fetchval("SELECT min(id) FROM customer_archive_customer")
    await owner.execute(
        "INSERT INTO sales_opportunity (branch_id, customer, title, stage, stage_entered_at,"
        " probability, amount, competitor, sales_method, project, channel, status,"
        " lost_reason, owner, flagged, closed_at, created_by, created_at, updated_at)"
        " SELECT $1::int, $2::int, 'bench', (ARRAY['discovery','qualified','proposal',"
        "'negotiation','won','lost'])[1 + g % 6], now() - (g % 80) * interval '1 day',"
        " 10 * (g % 6),"
        " 1000 * (g % 500), '', 'relationship', '', (ARRAY['web','call_centre','branch',"
        "'referral','campaign','partner','event','import'])[1 + g % 8],"
        " CASE g % 6 WHEN 4 THEN 'won' WHEN 5 THEN 'lost' ELSE 'open' END, '',"
        " CASE WHEN g % 2 = 0 THEN $3::int ELSE $4::int END, false,"
        " CASE WHEN g % 6 >= 4 THEN now() - (g % 60) * interval '1 day' END, 'system:bench',"
        " now() - (g % 90) * interval '1 day', now() FROM generate_series(1, $5::int) g",
        ids["BJ-HD"], customer, ids["demo.bj.rm"], ids["demo.bj.manager"], n,
    )  # fmt: skip
    await owner.execute(
        "INSERT INTO sales_stage_change (branch_id, opportunity, from_stage, to_stage,"
        " changed_at, changed_by) SELECT branch_id, id, NULL, 'discovery', created_at,"
        " 'system:bench' FROM sales_opportunity"
    )
    await owner.execute(
        "INSERT INTO sales_stage_change (branch_id, opportunity, from_stage, to_stage,"
        " changed_at, changed_by) SELECT branch_id, id, 'discovery', stage, stage_entered_at,"
        " 'system:bench' FROM sales_opportunity WHERE stage <> 'discovery'"
    )
    await owner.execute(
        "ANALYZE sales_opportunity; ANALYZE sales_stage_change; ANALYZE sales_stage_day;"
        " ANALYZE sales_opportunity_day; ANALYZE sales_lead_day"
    )


ROLLUP_TRIGGER_TABLES = ("sales_opportunity", "sales_stage_change")


async def write_overhead(owner: asyncpg.Connection, ids: dict[str, int], n: int) -> dict[str, Any]:
    """Median and p95 per transaction (ms) of creating and of moving an opportunity, with
    the roll-up triggers off and on; rows written with them off are removed while off."""
    from bankcrm import db
    from bankcrm.context import Scope, bind_scope

    customer = await owner.fetchval("SELECT min(id) FROM customer_archive_customer")
    manager = Scope(
        actor=f"user:{ids['demo.bj.manager']}", user_id=ids["demo.bj.manager"],
        branch_ids=frozenset({ids["BJ"], ids["BJ-HD"], ids["BJ-CY"]}),
        home_branch_id=ids["BJ"],
    )  # fmt: skip
    out: dict[str, Any] = {}
    for label in ("off", "on"):
        if label == "off":
            for table in ROLLUP_TRIGGER_TABLES:
                await owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        created: list[float] = []
        moved: list[float] = []
        made: list[int] = []
        with bind_scope(manager):
            for i in range(n):
                started = time.perf_counter()
                async with db.transaction():
                    opportunity = await db.fetchval(
                        "INSERT INTO sales_opportunity (branch_id, customer, title, stage,"
                        " probability, amount, competitor, sales_method, project, channel,"
                        " status, lost_reason, owner, flagged, created_by)"
                        " VALUES ($1, $2, 'bench-write', 'discovery', 10, 1000, '',"
                        " 'relationship', '', 'web', 'open', '', $3, false, 'system:bench')"
                        " RETURNING id",
                        ids["BJ-HD"], customer,
                        ids["demo.bj.rm"] if i % 2 else ids["demo.bj.manager"],
                    )  # fmt: skip
                    await db.fetch(
                        "INSERT INTO sales_stage_change (branch_id, opportunity, to_stage,"
                        " changed_by) VALUES ($1, $2, 'discovery', 'system:bench')",
                        ids["BJ-HD"], opportunity,
                    )  # fmt: skip
                created.append(time.perf_counter() - started)
                made.append(opportunity)
            for opportunity in made:
                started = time.perf_counter()
                async with db.transaction():
                    await db.fetch(
                        "UPDATE sales_opportunity SET stage = 'qualified', probability = 30,"
                        " stage_entered_at = now(), updated_at = now() WHERE id = $1",
                        opportunity,
                    )
                    await db.fetch(
                        "INSERT INTO sales_stage_change (branch_id, opportunity, from_stage,"
                        " to_stage, changed_by) VALUES ($1, $2, 'discovery', 'qualified',"
                        " 'system:bench')",
                        ids["BJ-HD"], opportunity,
                    )  # fmt: skip
                moved.append(time.perf_counter() - started)
        if label == "off":
            await owner.execute(
                "DELETE FROM sales_stage_change WHERE opportunity = ANY($1::int[])", made
            )
            await owner.execute("DELETE FROM sales_opportunity WHERE id = ANY($1::int[])", made)
            for table in ROLLUP_TRIGGER_TABLES:
                await owner.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        out[label] = {
            "create_p50": statistics.median(created), "create_p95": percentile(created, 0.95),
            "move_p50": statistics.median(moved), "move_p95": percentile(moved, 0.95),
        }  # fmt: skip
    out["writes"] = n
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bankcrm import assignment, db
    from bankcrm.assignment import WorkItem
    from bankcrm.context import Scope, bind_scope
    from bankcrm.plugin_api import kernel_session
    from bankcrm_sales import analytics, followups

    owner = await asyncpg.connect(os.environ["BANKCRM_DATABASE_URL"])
    ids = await owner_ids(owner)
    out: dict[str, Any] = {"load": os.getloadavg()}
    async with kernel_session():
        everything = Scope(actor="system:bench", branch_ids=frozenset(
            v for k, v in ids.items() if not k.startswith("demo.")), is_superuser=True)  # fmt: skip
        if args.follow_ups:
            await seed_follow_ups(owner, ids, args.follow_ups)
            started = time.perf_counter()
            base = await owner.fetch(
                "UPDATE sales_lead SET flagged = flagged WHERE next_follow_up_at < now()"
                " + interval '1 hour' AND status = 'new' RETURNING id"
            )
            baseline = time.perf_counter() - started
            with bind_scope(everything):
                started = time.perf_counter()
                first = await followups.sweep()
                took = time.perf_counter() - started
                started = time.perf_counter()
                second = await followups.sweep()
                again = time.perf_counter() - started
            out["sweep"] = {
                "open": args.follow_ups, "due": len(base), "seconds": took,
                "reminded": first.reminded, "notifications": first.notifications,
                "second_seconds": again, "second_reminded": second.reminded,
                "second_notifications": second.notifications, "baseline_seconds": baseline,
            }  # fmt: skip
            print("sweep", out["sweep"], flush=True)
        if args.assign:
            await owner.execute(
                "DELETE FROM bankcrm_assignment WHERE work_kind = 'sales.lead'"
                " AND item_id LIKE 'bench-%'"
            )
            await owner.execute("UPDATE bankcrm_employee SET capacity = 1000000")
            items = [
                WorkItem("sales.lead", f"bench-{i}", ids["BJ-HD"],
                         {"product": "deposit", "amount": 1.0, "channel": "import", "vip": False})
                for i in range(args.assign)
            ]  # fmt: skip
            with bind_scope(everything):
                started = time.perf_counter()
                async with db.transaction():
                    made = await assignment.assign_many(items)
                took = time.perf_counter() - started
            await owner.execute("CREATE TEMP TABLE bench_copy (item text, employee int)")
            started = time.perf_counter()
            await owner.execute(
                "INSERT INTO bench_copy SELECT unnest($1::text[]), 1", [i.item_id for i in items]
            )
            baseline = time.perf_counter() - started
            out["assign"] = {
                "items": len(made), "seconds": took, "baseline_seconds": baseline,
                "employees": len({m.employee_id for m in made}),
            }  # fmt: skip
            print("assign", out["assign"], flush=True)
        if args.opportunities:
            started = time.perf_counter()
            await seed_opportunities(owner, ids, args.opportunities)
            out["seed_seconds"] = time.perf_counter() - started
            print("seeded", out["seed_seconds"], flush=True)
            manager = Scope(
                actor=f"user:{ids['demo.bj.manager']}", user_id=ids["demo.bj.manager"],
                branch_ids=frozenset({ids["BJ"], ids["BJ-HD"], ids["BJ-CY"]}),
                home_branch_id=ids["BJ"],
            )  # fmt: skip
            timings: dict[str, list[float]] = {
                "funnel": [], "channels": [], "baseline": [], "funnel_direct": [],
                "channels_direct": [],
            }  # fmt: skip
            with bind_scope(manager):
                # The answers agree (days in stage may differ in the last digit: now()
                # moves between the calls).
                rolled, direct = await analytics.funnel(), await analytics.funnel(direct=True)
                assert [(s.entered, s.advanced) for s in rolled.stages] == [
                    (s.entered, s.advanced) for s in direct.stages
                ], (rolled, direct)
                assert (rolled.won, rolled.lost) == (direct.won, direct.lost)
                assert await analytics.channels() == await analytics.channels(direct=True)
                for _ in range(args.direct_rounds):
                    for name, call in (
                        ("funnel_direct", lambda: analytics.funnel(direct=True)),
                        ("channels_direct", lambda: analytics.channels(direct=True)),
                    ):
                        started = time.perf_counter()
                        await call()
                        timings[name].append(time.perf_counter() - started)
                for _ in range(args.rounds):
                    for name, call in (
                        ("funnel", analytics.funnel),
                        ("channels", analytics.channels),
                        ("baseline", lambda: db.fetchval(
                            "SELECT count(*) FROM sales_opportunity")),
                    ):  # fmt: skip
                        started = time.perf_counter()
                        await call()
                        timings[name].append(time.perf_counter() - started)
            out["analytics"] = {
                name: {"p50": statistics.median(v), "p95": percentile(v, 0.95)}
                for name, v in timings.items()
            }
            out["analytics"]["opportunities"] = args.opportunities
            print("analytics", out["analytics"], flush=True)
        if args.writes:
            out["writes"] = await write_overhead(owner, ids, args.writes)
            print("writes", out["writes"], flush=True)
    await owner.close()
    return out


def report(out: dict[str, Any], args: argparse.Namespace) -> Path:
    today = dt.date.today().isoformat()
    lines = [
        f"# Sales at volume ({today})", "",
        f"- Machine: {psutil.cpu_count()} logical cores, "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, shared with other work: load"
        f" average {out['load'][0]:.1f} / {out['load'][1]:.1f} / {out['load'][2]:.1f} at the"
        " start (1/5/15 min)",
        f"- Run: `uv run python benchmarks/sales/bench_sales.py --follow-ups {args.follow_ups}"
        f" --assign {args.assign} --opportunities {args.opportunities} --writes {args.writes}`",
        "",
    ]  # fmt: skip
    if "sweep" in out:
        s = out["sweep"]
        lines += [
            "## Follow-up sweep", "",
            f"{s['open']:,} open leads, {s['due']:,} due within the reminder window.", "",
            "| | seconds | reminded | notifications |", "|---|---:|---:|---:|",
            f"| sweep | {s['seconds']:.2f} | {s['reminded']:,} | {s['notifications']:,} |",
            f"| same tick again | {s['second_seconds']:.2f} | {s['second_reminded']:,} |"
            f" {s['second_notifications']:,} |",
            f"| baseline: one UPDATE … RETURNING of the due rows | {s['baseline_seconds']:.2f}"
            " | | |", "",
        ]  # fmt: skip
    if "assign" in out:
        a = out["assign"]
        lines += [
            "## Assignment", "",
            "| | seconds |", "|---|---:|",
            f"| assign_many of {a['items']:,} leads ({a['employees']} employees) |"
            f" {a['seconds']:.2f} |",
            f"| baseline: bare INSERT of {a['items']:,} rows | {a['baseline_seconds']:.2f} |",
            f"| ratio | {a['seconds'] / max(a['baseline_seconds'], 1e-9):.0f}x |", "",
        ]  # fmt: skip
    if "analytics" in out:
        an = out["analytics"]
        lines += [
            "## Analytics as a branch manager", "",
            f"{an['opportunities']:,} opportunities (with their stage changes) in the branch,"
            f" seeded with the roll-up triggers on in {out['seed_seconds']:.0f} s;"
            f" {args.rounds} calls each from the roll-ups, {args.direct_rounds} by the direct"
            " queries.", "",
            "| | p50 ms | p95 ms |", "|---|---:|---:|",
        ] + [
            f"| {label} | {an[name]['p50'] * 1e3:.1f} | {an[name]['p95'] * 1e3:.1f} |"
            for name, label in (
                ("funnel", "funnel (roll-ups)"), ("channels", "channels (roll-ups)"),
                ("funnel_direct", "baseline: funnel by the direct query"),
                ("channels_direct", "baseline: channels by the direct query"),
                ("baseline", "baseline: `count(*)` of the opportunities in scope"),
            )
        ] + [""]  # fmt: skip
    if "writes" in out:
        w = out["writes"]
        lines += [
            "## Write overhead of the roll-up triggers", "",
            f"{w['writes']} single transactions each, as the branch manager (RLS live).", "",
            "| | triggers off p50 ms | p95 ms | triggers on p50 ms | p95 ms |",
            "|---|---:|---:|---:|---:|",
        ] + [
            f"| {label} | {w['off'][k + '_p50'] * 1e3:.2f} | {w['off'][k + '_p95'] * 1e3:.2f}"
            f" | {w['on'][k + '_p50'] * 1e3:.2f} | {w['on'][k + '_p95'] * 1e3:.2f} |"
            for k, label in (
                ("create", "create (INSERT opportunity + first stage change)"),
                ("move", "move (UPDATE stage + stage change)"),
            )
        ] + [""]  # fmt: skip
    path = RESULTS / f"{today}-{args.name}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--follow-ups", type=int, default=1_000_000)
    parser.add_argument("--assign", type=int, default=100_000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--direct-rounds", type=int, default=3)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--name", default="sales", help="results file: <date>-<name>.md")
    args = parser.parse_args()
    os.environ.setdefault("BANKCRM_DATABASE_URL", DEFAULT_URL)
    prepare(args.reset)
    out = asyncio.run(run(args))
    print(report(out, args))


if __name__ == "__main__":
    main()
