"""Demo profile data, loaded by :mod:`.seeding` through the same COPY staging tables.

Every customer gets background fields and ratings (current value on the customer, one
history row each, source ``import``). A sample (the first :data:`SAMPLE_FIRST` customers
and every :data:`SAMPLE_EVERY`-th after them) also gets contact channels, contracts for
its accounts (some with a PDF attached), relations (spouses, parents, a company's legal
representative and shareholder), households, and :data:`HISTORY_DAYS` days of balance
and AUM snapshots ending today. Deterministic for a seed: each customer draws from its
own random generator, so the generator of the base data is untouched.

Rows are built in a worker thread, away from the database, so they cannot know the ids
the database will give: balance snapshots name their holding by account number, documents
their contract by number, household members their household by its head (a customer heads
one household at most); :func:`load_deferred` resolves them once everything else is in.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from bankcrm_customer_archive.demo_data import PRODUCT_CATALOGUE, GeneratedCustomer
from bankcrm_customer_archive.profile.services import CHINA, business_date

SAMPLE_FIRST = 40
SAMPLE_EVERY = 100
HISTORY_DAYS = 90

PROFILE_CUSTOMER_COLUMNS = (
    "education", "income_band", "marital_status", "company_size", "registered_capital",
    "established_on", "credit_grade", "risk_tolerance", "value_tier",
)  # fmt: skip
PROFILE_STAGES: dict[str, tuple[str, ...]] = {
    "customer_archive_contact_channel": (
        "branch_id", "customer", "kind", "value", "label", "is_primary", "created_at",
        "updated_at",
    ),
    "customer_archive_relation": (
        "branch_id", "customer", "related", "kind", "share_ratio", "note", "created_at",
        "updated_at",
    ),
    "customer_archive_household": ("branch_id", "name", "head", "created_at", "updated_at"),
    "customer_archive_aum_snapshot": ("branch_id", "customer", "snapshot_on", "aum",
                                      "created_at"),
    "customer_archive_contract": (
        "branch_id", "customer", "kind", "number", "title", "signed_on", "start_on",
        "end_on", "status", "amount", "currency", "created_at", "updated_at",
    ),
    "customer_archive_rating": (
        "branch_id", "customer", "kind", "value", "source", "rated_at", "note",
    ),
}  # fmt: skip

_CATEGORY = {spec.code: spec.category for spec in PRODUCT_CATALOGUE}
_CONTRACT_KIND = {"loan": "loan", "deposit": "deposit", "wealth": "wealth", "card": "service"}
_CONTRACT_TITLE = {
    "loan": "借款合同", "deposit": "存款协议", "wealth": "理财产品销售协议",
    "service": "银行卡领用合约",
}  # fmt: skip
_CONTRACT_YEARS = {"loan": 5, "deposit": 3, "wealth": 1, "service": 5}
_ASSET_CATEGORIES = frozenset({"deposit", "wealth"})
_ASSET_CARDS = frozenset({"CARD-DEB", "CC-SET"})
_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
_GRADE_WEIGHTS = (4, 12, 26, 30, 16, 8, 4)
_EDUCATION = ("primary", "secondary", "vocational", "bachelor", "master", "doctorate")
_DOCUMENT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
_DOCUMENT_SHA256 = hashlib.sha256(_DOCUMENT).hexdigest()


def _is_asset(code: str) -> bool:
    return _CATEGORY[code] in _ASSET_CATEGORIES or code in _ASSET_CARDS


def value_tier(assets: Decimal) -> str:
    """The tier of the default thresholds (see :class:`.settings.ValueTierSettings`)."""
    if assets >= 6_000_000:
        return "private"
    if assets >= 600_000:
        return "wealth"
    if assets >= 50_000:
        return "affluent"
    return "mass"


def _income_band(assets: Decimal, rng: random.Random) -> str:
    bands = ("lt_100k", "100k_300k", "300k_1m", "1m_5m", "gt_5m")
    base = 0 if assets < 50_000 else 1 if assets < 500_000 else 2 if assets < 3_000_000 else 3
    return bands[min(4, max(0, base + rng.choice((-1, 0, 0, 1))))]


@dataclass
class _Partner:
    customer_id: int
    branch_id: int
    gender: str | None


@dataclass
class ProfileSeed:
    """Builds the profile rows of each generated customer (runs in the worker thread)."""

    seed: int
    today: date = field(default_factory=business_date)
    seen: int = 0
    balances: list[tuple[Any, ...]] = field(default_factory=list)
    """(account number, day, balance, created at)."""
    documents: list[tuple[Any, ...]] = field(default_factory=list)
    """(branch, contract number, file name, size, created at)."""
    members: list[tuple[Any, ...]] = field(default_factory=list)
    """(branch, head, customer, role, created at)."""
    _single: _Partner | None = None
    _last_person: _Partner | None = None

    def new_batch(self) -> None:
        # Relations and households point only within one COPY chunk (foreign keys).
        self._single = None
        self._last_person = None

    def add(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        customer_id: int,
        customer: GeneratedCustomer,
        branch_id: int,
        now: datetime,
        since: datetime,
    ) -> None:
        """Append the background and rating columns to the customer's row (the last one
        appended) and add its profile rows."""
        rng = random.Random(self.seed * 1_000_003 + customer_id)  # noqa: S311 - demo data
        individual = customer.kind == "individual"
        assets = sum((h.balance for h in customer.holdings if _is_asset(h.product_code)),
                     Decimal(0))  # fmt: skip
        if individual:
            age = (self.today - customer.birth_date).days // 365 if customer.birth_date else 40
            education = _EDUCATION[min(5, max(0, int(rng.gauss(3.0 if age < 50 else 2.0, 1.1))))]
            marital = ("single" if age < 26 and rng.random() < 0.8 else
                       rng.choices(("married", "divorced", "widowed", "single"),
                                   (80, 8, 4 if age < 65 else 20, 8))[0])  # fmt: skip
            background: tuple[Any, ...] = (education, _income_band(assets, rng), marital,
                                           None, None, None)  # fmt: skip
            risk = rng.choice(("C2", "C3", "C4") if any(
                _CATEGORY[h.product_code] == "wealth" for h in customer.holdings
            ) else ("C1", "C2", "C3"))  # fmt: skip
        else:
            size = rng.choices(("micro", "small", "medium", "large"), (40, 35, 18, 7))[0]
            capital = Decimal(rng.choice((50, 100, 200, 500, 1000, 5000, 10000))) * 10_000
            founded = date(1995, 1, 1) + timedelta(days=rng.randrange(29 * 365))
            background = (None, None, None, size, capital, founded)
            risk = None
        grade = rng.choices(_GRADES, _GRADE_WEIGHTS)[0]
        tier = value_tier(assets)
        customers = rows["customer_archive_customer"]
        customers[-1] = (*customers[-1], *background, grade, risk, tier)
        ratings = rows["customer_archive_rating"]
        for kind, value in (("credit_grade", grade), ("risk_tolerance", risk),
                            ("value_tier", tier)):  # fmt: skip
            if value is not None:
                ratings.append((branch_id, customer_id, kind, value, "import", since, "演示数据"))
        self.seen += 1
        if self.seen <= SAMPLE_FIRST or customer_id % SAMPLE_EVERY == 0:
            self._sample(rows, rng, customer_id, customer, branch_id, now)

    def _sample(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        rng: random.Random,
        customer_id: int,
        customer: GeneratedCustomer,
        branch_id: int,
        now: datetime,
    ) -> None:
        individual = customer.kind == "individual"
        channels = rows["customer_archive_contact_channel"]
        number_kind = "mobile" if customer.phone.startswith("1") else "phone"
        channels.append((branch_id, customer_id, number_kind, customer.phone, "", True, now, now))
        if customer.email:
            channels.append((branch_id, customer_id, "email", customer.email.lower(), "", True,
                             now, now))  # fmt: skip
        if individual and rng.random() < 0.4:
            wechat = f"wx{customer_id}{rng.randrange(1000, 9999)}"
            channels.append((branch_id, customer_id, "wechat", wechat, "", True, now, now))
        self._contracts(rows, rng, customer_id, customer, branch_id, now)
        self._history(rows, rng, customer_id, customer, branch_id, now)
        me = _Partner(customer_id, branch_id, customer.gender)
        relations = rows["customer_archive_relation"]
        if individual:
            partner = self._single
            if partner is not None and partner.gender != customer.gender:
                for one, other in ((me, partner), (partner, me)):
                    relations.append((one.branch_id, one.customer_id, other.customer_id,
                                      "spouse", None, "", now, now))  # fmt: skip
                head = partner if partner.gender == "M" else me
                rows["customer_archive_household"].append(
                    (head.branch_id, f"家庭{head.customer_id}", head.customer_id, now, now)
                )
                for member in (head, partner if head is me else me):
                    self.members.append((member.branch_id, head.customer_id, member.customer_id,
                                         "head" if member is head else "member", now))  # fmt: skip
                self._single = None
            else:
                self._single = me
            self._last_person = me
        elif self._last_person is not None:
            person = self._last_person
            relations.append((branch_id, customer_id, person.customer_id, "legal_representative",
                              None, "", now, now))  # fmt: skip
            relations.append((branch_id, customer_id, person.customer_id, "shareholder",
                              Decimal(rng.choice((30, 51, 60, 100))), "", now, now))  # fmt: skip

    def _contracts(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        rng: random.Random,
        customer_id: int,
        customer: GeneratedCustomer,
        branch_id: int,
        now: datetime,
    ) -> None:
        for index, holding in enumerate(customer.holdings):
            kind = _CONTRACT_KIND[_CATEGORY[holding.product_code]]
            number = f"HT{customer_id:09d}{index}"
            start = holding.opened_on
            end = date(start.year + _CONTRACT_YEARS[kind], start.month, min(start.day, 28))
            status = "expired" if end < self.today else "active"
            rows["customer_archive_contract"].append((
                branch_id, customer_id, kind, number,
                _CONTRACT_TITLE[kind], start, start, end, status, holding.balance, "CNY",
                datetime.combine(start, time(10), CHINA), now,
            ))  # fmt: skip
            if index == 0 and rng.random() < 0.5:
                self.documents.append((branch_id, number, f"{number}.pdf", now))

    def _history(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        rng: random.Random,
        customer_id: int,
        customer: GeneratedCustomer,
        branch_id: int,
        now: datetime,
    ) -> None:
        """A random walk of the balances ending at today's, one row per holding and day."""
        factors = [Decimal(1)]
        for _ in range(HISTORY_DAYS - 1):
            step = Decimal(str(round(rng.gauss(0, 0.004), 4)))
            factors.append(max(Decimal("0.5"), factors[-1] * (1 - step)))
        factors.reverse()  # oldest first; today's factor is 1
        aum = rows["customer_archive_aum_snapshot"]
        for offset, factor in enumerate(factors):
            day = self.today - timedelta(days=HISTORY_DAYS - 1 - offset)
            total = Decimal(0)
            for holding in customer.holdings:
                balance = (holding.balance * factor).quantize(Decimal("0.01"))
                self.balances.append((holding.account_no, day, balance, now))
                if _is_asset(holding.product_code):
                    total += balance
            aum.append((branch_id, customer_id, day, total, now))


async def load_deferred(connection: asyncpg.Connection, profile: ProfileSeed) -> None:
    """Insert the rows that name their parent by a natural key (see the module doc)."""
    steps = (
        (profile.balances, "account_no varchar(32), snapshot_on date, balance numeric(18, 2),"
         " created_at timestamptz",
         "INSERT INTO customer_archive_balance_snapshot (branch_id, holding, customer,"
         " snapshot_on, balance, currency, created_at) SELECT h.branch_id, h.id, h.customer,"
         " s.snapshot_on, s.balance, h.currency, s.created_at FROM {stage} s"
         " JOIN customer_archive_holding h ON h.account_no = s.account_no"),
        (profile.documents, "branch_id bigint, number varchar(64), filename varchar(255),"
         " created_at timestamptz",
         "INSERT INTO customer_archive_contract_document (branch_id, contract, filename,"
         " content_type, size, sha256, content, uploaded_at) SELECT s.branch_id, t.id,"
         " s.filename, 'application/pdf', length($1::bytea), $2, $1::bytea, s.created_at"
         " FROM {stage} s JOIN customer_archive_contract t"
         " ON t.branch_id = s.branch_id AND t.number = s.number"),
        (profile.members, "branch_id bigint, head integer, customer integer, role varchar(16),"
         " created_at timestamptz",
         "INSERT INTO customer_archive_household_member (branch_id, household, customer, role,"
         " created_at) SELECT s.branch_id, h.id, s.customer, s.role, s.created_at"
         " FROM {stage} s JOIN customer_archive_household h ON h.head = s.head"),
    )  # fmt: skip
    for index, (records, columns, insert) in enumerate(steps):
        if not records:
            continue
        stage = f"stage_profile_{index}"
        await connection.execute(f"CREATE TEMP TABLE {stage} ({columns}) ON COMMIT DROP")
        await connection.copy_records_to_table(stage, records=records)
        arguments = (_DOCUMENT, _DOCUMENT_SHA256) if "$1" in insert else ()
        await connection.execute(insert.format(stage=stage), *arguments)
        records.clear()
