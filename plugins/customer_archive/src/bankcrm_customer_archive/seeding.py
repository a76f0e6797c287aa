"""Demo data: the product catalogue, each branch's tags and ``demo.scale`` customers.

Customers come from :mod:`.demo_data` (deterministic for ``demo.seed``). They are spread
over the Beijing and Shanghai branches by where they live (Haidian residents to BJ-HD, ...;
people from elsewhere to any of them) and get the relationship manager of their branch.

Loading 100,000 customers must take seconds, not minutes: rows are COPYed into temporary
staging tables (COPY cannot write to a table with row-level security) and moved with one
INSERT ... SELECT per table and chunk, which row-level security checks like any insert.
Everything happens in one transaction, audited per branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from itertools import islice
from typing import Any

import asyncpg

from bankcrm import audit, db, pii
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import names
from bankcrm_customer_archive.demo_data import (
    PRODUCT_CATALOGUE,
    TAG_VOCABULARY,
    GeneratedCustomer,
    ProductSpec,
    generate_customers,
)
from bankcrm_customer_archive.profile import seeding as profile_seeding
from bankcrm_customer_archive.records import ENTITY_CUSTOMER, ENTITY_PRODUCT
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.tagging import services as tagging
from bankcrm_customer_archive.tiers import services as tiers

log = logging.getLogger(__name__)

CHUNK = 5_000
CORPORATE_RATIO = 0.15

# Branch codes of the demo tree that get customers, and who manages them there.
HOME_BRANCHES = {
    "demo.bj.manager": "BJ",
    "demo.bj.rm": "BJ-HD",
    "demo.sh.manager": "SH",
    "demo.sh.rm": "SH-PD",
}
"""Where each demo relationship manager's own saved search lives."""

RELATIONSHIP_MANAGERS = {
    "BJ": "demo.bj.manager",
    "BJ-HD": "demo.bj.rm",
    "BJ-CY": "demo.bj.manager",
    "SH": "demo.sh.manager",
    "SH-PD": "demo.sh.rm",
    "SH-XH": "demo.sh.manager",
}
DISTRICT_BRANCHES = {
    ("北京市", "海淀区"): "BJ-HD",
    ("北京市", "朝阳区"): "BJ-CY",
    ("上海市", "浦东新区"): "SH-PD",
    ("上海市", "徐汇区"): "SH-XH",
}
CITY_BRANCHES = {"北京市": ("BJ", "BJ-HD", "BJ-CY"), "上海市": ("SH", "SH-PD", "SH-XH")}
# Customers living elsewhere: sub-branches serve most of them, the branches fewer.
ELSEWHERE = ("BJ-HD", "BJ-CY", "SH-PD", "SH-XH", "BJ-HD", "BJ-CY", "SH-PD", "SH-XH", "BJ", "SH")

# Debit-type cards hold the customer's own money; the other cards are credit lines.
ASSET_CARDS = frozenset({"CARD-DEB", "CC-SET"})
TAG_COLOURS = (
    "#1677ff", "#f5222d", "#fa8c16", "#faad14", "#52c41a", "#13c2c2", "#2f54eb", "#722ed1",
    "#eb2f96", "#a0d911",
)  # fmt: skip
CHINA = timezone(timedelta(hours=8))

CUSTOMER_COLUMNS = (
    "id", "branch_id", "kind", "name", "name_pinyin", "name_initials", "gender", "birth_date",
    "id_type", "id_number_encrypted", "id_number_hash", "id_number_masked", "phone", "email",
    "occupation", "employer", "industry", "relationship_manager", "status", "created_at",
    "updated_at", "aum_cents",
)  # fmt: skip
ADDRESS_COLUMNS = (
    "branch_id", "customer", "kind", "province", "city", "district", "street", "postcode",
    "is_primary", "created_at", "updated_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "branch_id", "customer", "name", "title", "phone", "email", "is_primary", "created_at",
    "updated_at",
)  # fmt: skip
HOLDING_COLUMNS = (
    "branch_id", "customer", "product", "account_no", "balance", "currency", "opened_on",
    "status", "created_at", "updated_at",
)  # fmt: skip
CUSTOMER_TAG_COLUMNS = ("branch_id", "customer", "tag", "created_at")
SEARCH_KEY_COLUMNS = ("branch_id", "customer", "key")

STAGES = {
    "customer_archive_customer": CUSTOMER_COLUMNS,
    "customer_archive_customer_address": ADDRESS_COLUMNS,
    "customer_archive_customer_contact": CONTACT_COLUMNS,
    "customer_archive_holding": HOLDING_COLUMNS,
    "customer_archive_customer_tag": CUSTOMER_TAG_COLUMNS,
    "customer_archive_search_key": SEARCH_KEY_COLUMNS,
}
# The profile (background and ratings on the customer row, then its own tables, parents
# before children): see profile_seeding.
STAGES["customer_archive_customer"] = (
    *STAGES["customer_archive_customer"],
    *profile_seeding.PROFILE_CUSTOMER_COLUMNS,
)
STAGES.update(profile_seeding.PROFILE_STAGES)


def balance_type(spec: ProductSpec) -> str:
    if spec.category in ("deposit", "wealth") or spec.code in ASSET_CARDS:
        return "asset"
    return "credit"


def branch_for(customer: GeneratedCustomer, rng: random.Random) -> str:
    home = customer.addresses[0] if customer.addresses else None
    if home is not None:
        exact = DISTRICT_BRANCHES.get((home.province, home.district))
        if exact is not None:
            return exact
        nearby = CITY_BRANCHES.get(home.province)
        if nearby is not None:
            return rng.choice(nearby)
    return rng.choice(ELSEWHERE)


@dataclass
class _Batch:
    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in STAGES}
    )
    per_branch: dict[int, int] = field(default_factory=dict)


def _customer_since(customer: GeneratedCustomer, now: datetime) -> datetime:
    """The customer's first account opening (09:30 Beijing time), else now."""
    if not customer.holdings:
        return now
    first = min(h.opened_on for h in customer.holdings)
    return datetime.combine(first, time(9, 30), CHINA)


_SPECS = {spec.code: spec for spec in PRODUCT_CATALOGUE}


def _aum_cents(customer: GeneratedCustomer) -> int:
    """What :func:`.search.refresh_aum` would compute (all demo holdings are open, CNY)."""
    return sum(
        int(h.balance * 100) for h in customer.holdings
        if balance_type(_SPECS[h.product_code]) == "asset"
    )  # fmt: skip


def _rows(
    batch: _Batch,
    customer_id: int,
    customer: GeneratedCustomer,
    branch_id: int,
    manager: int | None,
    status: str,
    products: dict[str, int],
    tags: dict[str, int],
    now: datetime,
) -> None:
    individual = customer.kind == "individual"
    pinyin, initials = names.pinyin_keys(customer.name, individual=individual)
    since = _customer_since(customer, now)
    batch.rows["customer_archive_customer"].append((
        customer_id, branch_id, customer.kind, customer.name, pinyin, initials, customer.gender,
        customer.birth_date, "resident_id" if individual else "uscc",
        pii.encrypt(customer.id_number), pii.lookup_hash(customer.id_number),
        pii.mask_id_number(customer.id_number), customer.phone, customer.email,
        customer.occupation, customer.employer, customer.industry, manager, status, since, now,
        _aum_cents(customer),
    ))  # fmt: skip
    for index, address in enumerate(customer.addresses):
        batch.rows["customer_archive_customer_address"].append((
            branch_id, customer_id, address.kind, address.province, address.city,
            address.district, address.street, address.postcode, index == 0, since, now,
        ))  # fmt: skip
    for index, contact in enumerate(customer.contacts):
        batch.rows["customer_archive_customer_contact"].append((
            branch_id, customer_id, contact.name, contact.title, contact.phone, None,
            index == 0, since, now,
        ))  # fmt: skip
    for holding in customer.holdings:
        opened = datetime.combine(holding.opened_on, time(9, 30), CHINA)
        batch.rows["customer_archive_holding"].append((
            branch_id, customer_id, products[holding.product_code], holding.account_no,
            holding.balance, "CNY", holding.opened_on, "active", opened, now,
        ))  # fmt: skip
    keys = batch.rows["customer_archive_search_key"]
    for key in names.search_keys(customer.name, individual=individual, phone=customer.phone):
        keys.append((branch_id, customer_id, key))
    places = ((a.district, a.street) for a in customer.addresses)
    for key in search.text_keys(customer.employer, places):
        keys.append((branch_id, customer_id, key))
    for tag in customer.tags:
        batch.rows["customer_archive_customer_tag"].append((branch_id, customer_id, tags[tag], now))
    batch.per_branch[branch_id] = batch.per_branch.get(branch_id, 0) + 1


async def seed_products(connection: asyncpg.Connection) -> dict[str, int]:
    await connection.executemany(
        "INSERT INTO customer_archive_product (code, name, name_en, category, segment,"
        " balance_type, currency, active, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'CNY', true, now(), now())"
        " ON CONFLICT (code) DO NOTHING",
        [
            (p.code, p.name_zh, p.name_en, p.category, p.segment, balance_type(p))
            for p in PRODUCT_CATALOGUE
        ],
    )
    rows = await connection.fetch("SELECT id, code FROM customer_archive_product")
    return {r["code"]: r["id"] for r in rows}


async def seed_tags(connection: asyncpg.Connection, branch_id: int) -> dict[str, int]:
    await connection.executemany(
        "INSERT INTO customer_archive_tag (branch_id, name, color, created_at)"
        " VALUES ($1, $2, $3, now()) ON CONFLICT (branch_id, name) DO NOTHING",
        [
            (branch_id, name, TAG_COLOURS[i % len(TAG_COLOURS)])
            for i, name in enumerate(TAG_VOCABULARY)
        ],
    )
    rows = await connection.fetch(
        "SELECT id, name FROM customer_archive_tag WHERE branch_id = $1", branch_id
    )
    return {r["name"]: r["id"] for r in rows}


async def _flush(connection: asyncpg.Connection, batch: _Batch) -> None:
    for table, columns in STAGES.items():
        rows = batch.rows[table]
        if not rows:
            continue
        stage = f"stage_{table}"
        await connection.copy_records_to_table(stage, records=rows, columns=list(columns))
        names_sql = ", ".join(columns)
        await connection.execute(
            f"INSERT INTO {table} ({names_sql}) SELECT {names_sql} FROM {stage}"
        )
        await connection.execute(f"TRUNCATE {stage}")


@dataclass
class _Plan:
    """What turns generated customers into rows (runs in a worker thread)."""

    demo: DemoContext
    products: dict[str, int]
    tags: dict[int, dict[str, int]]
    customers: Iterator[GeneratedCustomer]
    rng: random.Random
    now: datetime
    profile: profile_seeding.ProfileSeed | None = None

    def batch(self, ids: Sequence[int]) -> _Batch:
        users = self.demo.users
        managers = {code: users.get(user) for code, user in RELATIONSHIP_MANAGERS.items()}
        batch = _Batch()
        if self.profile is not None:
            self.profile.new_batch()
        for customer_id, customer in zip(ids, islice(self.customers, len(ids)), strict=True):
            code = branch_for(customer, self.rng)
            branch_id = self.demo.branches[code]
            status = "dormant" if self.rng.random() < 0.03 else "active"
            _rows(batch, customer_id, customer, branch_id, managers[code], status, self.products,
                  self.tags[branch_id], self.now)  # fmt: skip
            if self.profile is not None:
                self.profile.add(batch.rows, customer_id, customer, branch_id, self.now,
                                 _customer_since(customer, self.now))  # fmt: skip
        return batch


async def seed_customers(
    connection: asyncpg.Connection,
    demo: DemoContext,
    products: dict[str, int],
    tags: dict[int, dict[str, int]],
) -> dict[int, int]:
    """Generate and load ``demo.scale`` customers; answers customers per branch id.

    The next chunk is generated in a thread while the database loads the previous one:
    on two cores that hides most of the Python work behind the inserts.
    """
    for table, columns in STAGES.items():
        await connection.execute(
            f"CREATE TEMP TABLE stage_{table} ON COMMIT DROP AS"
            f" SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
        )
    ids = [
        r["id"]
        for r in await connection.fetch(
            "SELECT nextval(pg_get_serial_sequence('customer_archive_customer', 'id')) AS id"
            " FROM generate_series(1, $1)",
            demo.scale,
        )
    ]
    plan = _Plan(
        demo, products, tags, generate_customers(demo.scale, demo.seed, CORPORATE_RATIO),
        random.Random(demo.seed),  # noqa: S311 - reproducible demo data, not a secret
        datetime.now(UTC),
    )  # fmt: skip
    plan.profile = profile_seeding.ProfileSeed(demo.seed)
    loop = asyncio.get_running_loop()
    totals: dict[int, int] = {}
    loading: asyncio.Task[None] | None = None
    try:
        for start in range(0, len(ids), CHUNK):
            batch = await loop.run_in_executor(None, plan.batch, ids[start : start + CHUNK])
            if loading is not None:
                await loading
            loading = asyncio.create_task(_flush(connection, batch))
            for branch_id, count in batch.per_branch.items():
                totals[branch_id] = totals.get(branch_id, 0) + count
        if loading is not None:
            await loading
        await profile_seeding.load_deferred(connection, plan.profile)
    except BaseException:
        # The connection must be idle before the transaction can roll back.
        if loading is not None and not loading.done():
            loading.cancel()
            with contextlib.suppress(BaseException):
                await loading
        raise
    return totals


async def seed_demo(demo: DemoContext) -> None:
    branch_ids: Sequence[int] = sorted({demo.branches[c] for c in RELATIONSHIP_MANAGERS})
    async with db.transaction() as transaction:
        connection = transaction.connection
        products = await seed_products(connection)
        tags = {branch_id: await seed_tags(connection, branch_id) for branch_id in branch_ids}
        await audit.record(
            audit.Action.CREATE,
            ENTITY_PRODUCT,
            "demo",
            branch_id=None,
            after={"products": sorted(products)},
        )
        totals = await seed_customers(connection, demo, products, tags)
        for branch_id in branch_ids:
            await audit.record(
                audit.Action.CREATE, ENTITY_CUSTOMER, "demo", branch_id=branch_id,
                after={"customers": totals.get(branch_id, 0), "tags": list(TAG_VOCABULARY),
                       "seed": demo.seed},
            )  # fmt: skip
    # Tiers and rule tags query what was just loaded: commit it and refresh the planner's
    # statistics first, or a large load is planned as a handful of rows.
    if demo.refresh_statistics is not None:
        await demo.refresh_statistics()
    async with db.transaction() as transaction:
        await search.seed_segments(transaction.connection, branch_ids)
        for branch_id in branch_ids:
            await tiers.recompute_branch(branch_id, run_id="demo")
        await tagging.seed_demo_rules(branch_ids)
    await seed_private_searches(demo, branch_ids)
    log.info("demo customers loaded", extra={"customers": sum(totals.values())})


async def seed_private_searches(demo: DemoContext, branch_ids: Sequence[int]) -> None:
    """A private saved search for each branch's relationship managers, in the branch they
    look after: a manager and a relationship manager of one branch each own one the other
    must not see (the generated access-rule tests need such rows)."""
    owners = [
        (demo.users[user], demo.branches[code])
        for user, code in HOME_BRANCHES.items()
        if user in demo.users and code in demo.branches
    ]
    for user_id, branch_id in owners:
        scope = Scope(
            actor=f"user:{user_id}",
            branch_ids=frozenset(branch_ids),
            user_id=user_id,
            is_superuser=True,
        )
        with bind_scope(scope):
            await search.seed_private_search(user_id, branch_id)
