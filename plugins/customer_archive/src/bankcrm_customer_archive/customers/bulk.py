"""Set-at-a-time reads for other plugins' data pipelines: linking outside records to
customers, and the facts a feature store needs about many customers at once.

Each runs under the bound scope, so row-level security decides which customers exist: a
load or a feature build in one branch links and sees that branch's customers only.
Deleted and merged-away customers are never answered. Nothing here writes or audits a
view: the answers carry ids, dates, codes and amounts, no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from msgspec import Struct

from bankcrm import db, pii
from bankcrm_customer_archive.records import CUSTOMER, HOLDING, PRODUCT
from bankcrm_customer_archive.validation import normalise_phone

MatchKey = Literal["id_number", "account_no", "phone"]


class CustomerMatch(Struct, frozen=True):
    customer_id: int
    branch_id: int


class CustomerFacts(Struct, frozen=True):
    customer_id: int
    branch_id: int
    kind: str
    status: str
    created_at: datetime
    birth_date: date | None
    established_on: date | None


class HoldingFacts(Struct, frozen=True):
    customer_id: int
    product_code: str
    product_category: str
    balance: Decimal
    currency: str
    opened_on: date | None
    status: str


_LIVE = "c.deleted_at IS NULL AND c.merged_into IS NULL"


def _distinct(values: Iterable[str | None]) -> list[str]:
    return sorted({v.strip() for v in values if v is not None and v.strip()})


async def match_customers(key: MatchKey, values: Iterable[str | None]) -> dict[str, CustomerMatch]:
    """The customer each value identifies, by ``key``: an identity document number (matched
    through its keyed hash, never stored), one of the bank's account or card numbers, or
    the customer's own phone. A value that fits no customer, or several (a shared phone),
    is left out: the caller counts it unlinked rather than guess."""
    wanted = _distinct(values)
    if not wanted:
        return {}
    if key == "id_number":
        hashes = {pii.lookup_hash(v): v for v in wanted}
        rows = await db.fetch(
            f"SELECT c.id_number_hash AS key, c.id, c.branch_id FROM {CUSTOMER} c"
            f" WHERE c.id_number_hash = ANY($1::text[]) AND {_LIVE}",
            list(hashes),
        )
        found = [(hashes[r["key"]], r) for r in rows]
    elif key == "account_no":
        rows = await db.fetch(
            f"SELECT h.account_no AS key, c.id, c.branch_id FROM {HOLDING} h"
            f" JOIN {CUSTOMER} c ON c.id = h.customer"
            f" WHERE h.account_no = ANY($1::text[]) AND {_LIVE}",
            wanted,
        )
        found = [(r["key"], r) for r in rows]
    else:
        normal: dict[str, list[str]] = {}
        for value in wanted:
            phone = normalise_phone(value)
            if phone is not None:
                normal.setdefault(phone, []).append(value)
        rows = await db.fetch(
            f"SELECT c.phone AS key, c.id, c.branch_id FROM {CUSTOMER} c"
            f" WHERE c.phone = ANY($1::text[]) AND {_LIVE}",
            list(normal),
        )
        found = [(raw, r) for r in rows for raw in normal[r["key"]]]
    answers: dict[str, set[tuple[int, int]]] = {}
    for value, row in found:
        answers.setdefault(value, set()).add((row["id"], row["branch_id"]))
    return {
        value: CustomerMatch(*next(iter(ids))) for value, ids in answers.items() if len(ids) == 1
    }


async def customer_facts(customer_ids: Sequence[int] | None = None) -> list[CustomerFacts]:
    """Kind, status and dates of the given customers (None: every customer in scope)."""
    rows = await db.fetch(
        f"SELECT c.id, c.branch_id, c.kind, c.status, c.created_at, c.birth_date,"
        f" c.established_on FROM {CUSTOMER} c"
        f" WHERE ($1::bigint[] IS NULL OR c.id = ANY($1::bigint[])) AND {_LIVE} ORDER BY c.id",
        None if customer_ids is None else list(customer_ids),
    )
    return [CustomerFacts(*r.values()) for r in rows]


async def holding_facts(customer_ids: Sequence[int] | None = None) -> list[HoldingFacts]:
    """Every holding (open or closed) of the given customers with its product's code and
    category (None: every customer in scope); no account numbers."""
    rows = await db.fetch(
        f"SELECT h.customer, p.code, p.category, h.balance, h.currency, h.opened_on, h.status"
        f" FROM {HOLDING} h JOIN {PRODUCT} p ON p.id = h.product"
        f" JOIN {CUSTOMER} c ON c.id = h.customer"
        f" WHERE ($1::bigint[] IS NULL OR h.customer = ANY($1::bigint[])) AND {_LIVE}"
        " ORDER BY h.customer, h.id",
        None if customer_ids is None else list(customer_ids),
    )
    return [HoldingFacts(*r.values()) for r in rows]
