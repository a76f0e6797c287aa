"""The demo world's profile data: background, ratings, relations, households, contracts,
documents and 90 days of snapshots for a sample."""

from typing import Any

from bankcrm import db
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive.profile import services as profile
from bankcrm_customer_archive.profile.seeding import HISTORY_DAYS
from bankcrm_customer_archive.seeding import seed_demo
from bankcrm_sdk.world import World


async def test_demo_profile(world: World, kit: Any) -> None:
    with world.bind(world.system_scope()):
        await seed_demo(DemoContext(branches=world.branches, users=world.users, scale=80, seed=7))
        customers = await db.fetch("SELECT * FROM customer_archive_customer ORDER BY id")
        counts = {
            table: await db.fetchval(
                f"SELECT count(DISTINCT branch_id) FROM customer_archive_{table}"
            )
            for table in ("contact_channel", "relation", "household", "household_member",
                          "balance_snapshot", "aum_snapshot", "contract", "contract_document",
                          "rating")
        }  # fmt: skip
        ratings = await db.fetchval(
            "SELECT count(*) FROM customer_archive_rating WHERE source = 'import'"
        )
        days = await db.fetch(
            "SELECT customer, count(*) AS n, max(snapshot_on) AS last"
            " FROM customer_archive_aum_snapshot GROUP BY customer"
        )
        today_aum = await db.fetch(
            "SELECT s.customer, s.aum, coalesce(sum(h.balance) FILTER (WHERE p.balance_type ="
            " 'asset'), 0) AS current FROM customer_archive_aum_snapshot s"
            " LEFT JOIN customer_archive_holding h ON h.customer = s.customer"
            " LEFT JOIN customer_archive_product p ON p.id = h.product"
            " WHERE s.snapshot_on = $1 GROUP BY s.customer, s.aum",
            profile.business_date(),
        )
        spouses = await db.fetch(
            "SELECT a.customer, a.related FROM customer_archive_relation a"
            " WHERE a.kind = 'spouse' AND NOT EXISTS (SELECT 1 FROM customer_archive_relation b"
            " WHERE b.kind = 'spouse' AND b.customer = a.related AND b.related = a.customer)"
        )
    # Every profile table has rows in at least two branches (isolation tests rely on it).
    assert all(n >= 2 for n in counts.values()), counts
    assert all(c["credit_grade"] and c["value_tier"] for c in customers)
    # (Other parts of the demo, such as the value-tier job, may rate customers again.)
    individuals = [c for c in customers if c["kind"] == "individual"]
    companies = [c for c in customers if c["kind"] == "corporate"]
    assert all(c["education"] and c["company_size"] is None for c in individuals)
    assert all(c["company_size"] and c["registered_capital"] for c in companies)
    assert ratings == sum(1 + (c["risk_tolerance"] is not None) + 1 for c in customers)
    assert all(d["n"] == HISTORY_DAYS and d["last"] == profile.business_date() for d in days)
    assert all(row["aum"] == row["current"] for row in today_aum)
    assert spouses == []  # mirrored
    # The scheduled job on top of the demo data changes nothing for today.
    with world.bind(world.system_scope()):
        run = await profile.take_snapshots()
    assert run.customers == len(customers) - len(days)  # only the customers without history
