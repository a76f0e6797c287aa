"""The analytics roll-ups: kept in the writes' own transactions by the triggers, they answer
exactly what the direct queries answer, under every scope, after random inserts, stage
moves, reassignments, branch moves, closings and deletions; and no branch or person sees
another's rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bankcrm import db
from bankcrm.context import Scope
from bankcrm_sales import analytics
from bankcrm_sdk.world import World

STAGES = ("discovery", "qualified", "proposal", "negotiation", "won", "lost")
CHANNELS = ("web", "call_centre", "branch", "referral", "campaign", "import")
OWNERS = ("demo.bj.rm", "demo.bj.manager", "demo.sh.rm", "demo.sh.manager")
BRANCHES = ("BJ", "BJ-HD", "SH-PD")

# The roll-ups rebuilt from scratch, to compare with what the triggers kept.
REBUILT = {
    "sales_stage_day": (
        "WITH c AS (SELECT o.branch_id, o.owner, s.to_stage, s.changed_at,"
        " lead(s.to_stage) OVER w AS next_stage, lead(s.changed_at) OVER w AS left_at"
        " FROM sales_stage_change s JOIN sales_opportunity o ON o.id = s.opportunity"
        " WINDOW w AS (PARTITION BY s.opportunity ORDER BY s.changed_at, s.id))"
        " SELECT branch_id, owner, (changed_at AT TIME ZONE 'Asia/Shanghai')::date AS day,"
        " to_stage AS stage, coalesce(next_stage, '') AS next_stage, count(*) AS entered,"
        " coalesce(sum(extract(epoch FROM left_at - changed_at))"
        " FILTER (WHERE left_at IS NOT NULL), 0) AS stayed,"
        " coalesce(sum(extract(epoch FROM changed_at)) FILTER (WHERE left_at IS NULL), 0)"
        " AS open_since FROM c GROUP BY 1, 2, 3, 4, 5"
    ),
    "sales_opportunity_day": (
        "SELECT branch_id, owner, day, channel, sum(created) AS created, sum(won) AS won,"
        " sum(lost) AS lost, sum(won_amount) AS won_amount FROM ("
        " SELECT branch_id, owner, (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day,"
        " channel, 1 AS created, 0 AS won, 0 AS lost, 0 AS won_amount FROM sales_opportunity"
        " UNION ALL SELECT branch_id, owner, (closed_at AT TIME ZONE 'Asia/Shanghai')::date,"
        " channel, 0, (status = 'won')::int, (status = 'lost')::int,"
        " CASE WHEN status = 'won' THEN amount ELSE 0 END FROM sales_opportunity"
        " WHERE closed_at IS NOT NULL AND status IN ('won', 'lost')) x GROUP BY 1, 2, 3, 4"
    ),
    "sales_lead_day": (
        "SELECT branch_id, owner, (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day,"
        " channel, count(*) AS leads FROM sales_lead GROUP BY 1, 2, 3, 4"
    ),
}
KEPT = {
    "sales_stage_day": "SELECT branch_id, owner, day, stage, next_stage, entered,"
    " stayed_seconds AS stayed, open_since_seconds AS open_since FROM sales_stage_day"
    " WHERE entered <> 0 OR stayed_seconds <> 0 OR open_since_seconds <> 0",
    "sales_opportunity_day": "SELECT branch_id, owner, day, channel, created, won, lost,"
    " won_amount FROM sales_opportunity_day"
    " WHERE created <> 0 OR won <> 0 OR lost <> 0 OR won_amount <> 0",
    "sales_lead_day": "SELECT branch_id, owner, day, channel, leads FROM sales_lead_day"
    " WHERE leads <> 0",
}


async def user_scope(world: World, username: str, branch: str) -> Scope:
    return Scope(
        actor=f"user:{world.users[username]}", user_id=world.users[username],
        branch_ids=await world.subtree(branch), home_branch_id=world.branch(branch),
    )  # fmt: skip


async def scramble(world: World, customer: int, rng: random.Random) -> None:
    """Random writes through the application role, in many statements of every kind."""
    now = datetime.now(UTC)

    def when() -> datetime:
        return now - timedelta(days=rng.uniform(0, 100), seconds=rng.randint(0, 86399))

    with world.bind(world.system_scope()):
        ids: list[int] = []
        for _ in range(6):  # several rows per statement
            rows = []
            for _ in range(rng.randint(3, 12)):
                created = when()
                status = rng.choice(("open", "open", "won", "lost"))
                closed = created + timedelta(days=rng.uniform(0, 30)) if status != "open" else None
                rows.append((
                    world.branch(rng.choice(BRANCHES)), customer, rng.choice(STAGES),
                    rng.randint(0, 500) * 1000, rng.choice(CHANNELS), status,
                    world.users[rng.choice(OWNERS)], closed, created,
                ))  # fmt: skip
            made = await db.fetch(
                "INSERT INTO sales_opportunity (branch_id, customer, title, stage, probability,"
                " amount, competitor, sales_method, project, channel, status, lost_reason,"
                " owner, flagged, closed_at, created_by, created_at, updated_at)"
                " SELECT b, c, 'r', s, 10, a, '', 'relationship', '', ch, st, '', o, false, cl,"
                " 'system:test', cr, cr FROM unnest($1::int[], $2::int[], $3::text[],"
                " $4::numeric[], $5::text[], $6::text[], $7::int[], $8::timestamptz[],"
                " $9::timestamptz[]) AS u(b, c, s, a, ch, st, o, cl, cr) RETURNING id, branch_id",
                *[list(column) for column in zip(*rows, strict=True)],
            )
            ids += [r["id"] for r in made]
            # Stage changes: several opportunities in one statement, then one at a time,
            # sometimes out of order.
            batch = [(r["branch_id"], r["id"], rng.choice(STAGES), when()) for r in made]
            await db.fetch(
                "INSERT INTO sales_stage_change (branch_id, opportunity, to_stage, changed_at,"
                " changed_by) SELECT b, o, s, t, 'system:test' FROM unnest($1::int[],"
                " $2::int[], $3::text[], $4::timestamptz[]) AS u(b, o, s, t)",
                *[list(column) for column in zip(*batch, strict=True)],
            )
            for branch_id, opportunity, _, _ in batch:
                for _ in range(rng.randint(0, 3)):
                    await db.fetch(
                        "INSERT INTO sales_stage_change (branch_id, opportunity, to_stage,"
                        " changed_at, changed_by) VALUES ($1, $2, $3, $4, 'system:test')",
                        branch_id, opportunity, rng.choice(STAGES), when(),
                    )  # fmt: skip
        for _ in range(25):
            target = rng.choice(ids)
            match rng.randint(0, 5):
                case 0:  # reassignment
                    await db.fetch(
                        "UPDATE sales_opportunity SET owner = $2 WHERE id = $1",
                        target, world.users[rng.choice(OWNERS)],
                    )  # fmt: skip
                case 1:  # closing
                    await db.fetch(
                        "UPDATE sales_opportunity SET status = $2, closed_at = $3, amount = $4"
                        " WHERE id = $1",
                        target, rng.choice(("won", "lost")), when(), rng.randint(1, 99) * 500,
                    )  # fmt: skip
                case 2:  # moving to another branch with its history (as a customer
                    # merge does), and a sweep-like touch of many rows
                    branch = world.branch(rng.choice(BRANCHES))
                    async with db.transaction():
                        await db.fetch(
                            "UPDATE sales_opportunity SET branch_id = $2 WHERE id = $1",
                            target, branch,
                        )  # fmt: skip
                        await db.fetch(
                            "UPDATE sales_stage_change SET branch_id = $2"
                            " WHERE opportunity = $1",
                            target, branch,
                        )  # fmt: skip
                    await db.fetch("UPDATE sales_opportunity SET flagged = NOT flagged")
                case 3:  # a stage change taken back
                    await db.fetch(
                        "DELETE FROM sales_stage_change WHERE id = (SELECT max(id)"
                        " FROM sales_stage_change WHERE opportunity = $1)",
                        target,
                    )
                case 4:  # an entry time corrected
                    await db.fetch(
                        "UPDATE sales_stage_change SET changed_at = changed_at - interval"
                        " '2 days' WHERE id = (SELECT min(id) FROM sales_stage_change"
                        " WHERE opportunity = $1)",
                        target,
                    )
                case _:  # an opportunity deleted with its history
                    await db.fetch("DELETE FROM sales_stage_change WHERE opportunity = $1", target)
                    await db.fetch("DELETE FROM sales_opportunity WHERE id = $1", target)
                    ids.remove(target)
        leads = [
            (world.branch(rng.choice(BRANCHES)), rng.choice(CHANNELS),
             world.users[rng.choice(OWNERS)], when())
            for _ in range(40)
        ]  # fmt: skip
        made = await db.fetch(
            "INSERT INTO sales_lead (branch_id, channel, campaign, prospect_name, company,"
            " product_interest, need, status, lost_reason, owner, score, score_reasons,"
            " flagged, external_ref, created_by, created_at, updated_at)"
            " SELECT b, ch, '', '潜客', '', '', '', 'new', '', o, 0, '[]', false, '',"
            " 'system:test', t, t FROM unnest($1::int[], $2::text[], $3::int[],"
            " $4::timestamptz[]) AS u(b, ch, o, t) RETURNING id",
            *[list(column) for column in zip(*leads, strict=True)],
        )
        lead_ids = [r["id"] for r in made]
        for target in rng.sample(lead_ids, 8):
            await db.fetch(
                "UPDATE sales_lead SET owner = $2, channel = $3 WHERE id = $1",
                target, world.users[rng.choice(OWNERS)], rng.choice(CHANNELS),
            )  # fmt: skip
        await db.fetch("DELETE FROM sales_lead WHERE id = ANY($1::int[])", lead_ids[:5])


async def test_the_roll_ups_answer_what_the_direct_queries_answer(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    customer = await kit.customer(manager)
    await scramble(world, customer, random.Random(20261204))
    for table, sql in REBUILT.items():
        kept = {tuple(r.values()) for r in await kit.owner_fetch(KEPT[table])}
        rebuilt = {tuple(r.values()) for r in await kit.owner_fetch(sql)}
        assert kept == rebuilt, table
    today = datetime.now(UTC).date()
    periods: list[tuple[date | None, date | None]] = [
        (None, None), (today - timedelta(days=40), today - timedelta(days=3)),
        (today - timedelta(days=200), today + timedelta(days=2)),
    ]  # fmt: skip
    scopes = [
        await user_scope(world, "demo.bj.manager", "BJ"),
        await user_scope(world, "demo.bj.rm", "BJ-HD"),
        await user_scope(world, "demo.sh.manager", "SH"),
        await user_scope(world, "demo.sh.rm", "SH-PD"),
        await world.scope_of("HQ"),
    ]
    seen = set()
    for scope in scopes:
        with world.bind(scope):
            for start, end in periods:
                async with db.transaction():  # one now() for both
                    rolled = await analytics.funnel(start, end)
                    direct = await analytics.funnel(start, end, direct=True)
                assert rolled == direct, (scope.actor, start, end)
                assert await analytics.channels(start, end) == await analytics.channels(
                    start, end, direct=True
                )
                seen.add(sum(s.entered for s in rolled.stages))
    assert len(seen) > 3  # the scopes and periods do see different numbers


async def test_no_branch_and_no_one_else_sees_the_roll_up_rows(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    customer = await kit.customer(manager)
    await scramble(world, customer, random.Random(7))
    bj = await world.subtree("BJ")
    with world.bind(await user_scope(world, "demo.sh.manager", "SH")):
        for table in KEPT:
            rows = await db.fetch(f"SELECT branch_id FROM {table}")
            assert rows, table
            assert not {r["branch_id"] for r in rows} & bj, table
    with world.bind(await user_scope(world, "demo.bj.rm", "BJ-HD")):
        for table in KEPT:
            owners = {r["owner"] for r in await db.fetch(f"SELECT owner FROM {table}")}
            assert owners == {world.users["demo.bj.rm"]}, table
    # Through the API: Shanghai's funnel counts none of Beijing's entries.
    sh = await world.client("demo.sh.manager")
    with world.bind(world.system_scope()):
        rows = await db.fetch(
            "SELECT to_stage, count(*) AS n FROM sales_stage_change s"
            " JOIN sales_opportunity o ON o.id = s.opportunity"
            " WHERE o.branch_id = ANY($1::int[]) AND s.changed_at >= now() - interval '89 days'"
            " GROUP BY 1",
            list(await world.subtree("SH")),
        )
    expected = {r["to_stage"]: r["n"] for r in rows}
    funnel = (await sh.get("/api/v1/sales/analytics/funnel")).json()
    for stage in funnel["stages"]:
        assert stage["entered"] <= expected.get(stage["stage"], 0)
