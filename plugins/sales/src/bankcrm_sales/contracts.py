"""Contracts (销售合同) from won opportunities.

A won opportunity is signed as one contract: the archive's contract (the customer's
record of it, with its documents and status) and this plugin's sales contract, which keeps
the products sold as the opportunity held them at signing and the deal it came from. Both
are written in one audited transaction. Terminating the sales contract terminates the
archive's contract with it; a termination inside a commission rule's clawback window
gives that deal's commission back in the next run (:mod:`bankcrm_sales.commissions`).

Contracts are visible as their opportunity is: to its owner and everyone above them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from bankcrm import audit, business_calendar, db
from bankcrm.context import require_scope
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales.common import OPPORTUNITY, OPPORTUNITY_PRODUCT, Problems, utcnow

CONTRACT = "sales_contract"
ENTITY = "sales.contract"
KindName = Literal["loan", "deposit", "wealth", "custody", "service", "guarantee"]
KIND_OF_CATEGORY: dict[str, KindName] = {
    "deposit": "deposit",
    "loan": "loan",
    "wealth": "wealth",
    "card": "service",
}
"""The archive's contract kind for a product category, when the request names none."""
ContractNumber = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_/\-]{0,63}$")]


class ContractFromDeal(Struct, forbid_unknown_fields=True, kw_only=True):
    number: ContractNumber
    """Unique within the customer's branch (the archive's rule)."""
    signed_on: date
    start_on: date | None = None
    """Default: the day it is signed."""
    end_on: date | None = None
    kind: KindName | None = None
    """Default: from the category of the largest product line (deposit, loan, wealth; a card
    is a service contract)."""
    title: Annotated[str, Meta(max_length=200)] = ""
    """Default: the opportunity's title."""


class TerminationIn(Struct, forbid_unknown_fields=True, kw_only=True):
    terminated_on: date
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class ContractLine(Struct):
    product: int
    product_code: str
    product_name: str
    category: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    options: dict[str, Any]


class SalesContractOut(Struct):
    id: int
    branch_id: int
    opportunity: int
    customer: int
    archive_contract: int
    """The customer archive's contract (``GET /api/v1/customer_archive/contracts/{id}``)."""
    number: str
    contract_kind: str
    title: str
    signed_on: date
    start_on: date | None
    end_on: date | None
    amount: Decimal
    currency: str
    owner: int
    status: str
    terminated_on: date | None
    termination_reason: str
    created_by: str
    created_at: datetime
    lines: list[ContractLine]


COLUMNS = (
    "id, branch_id, opportunity, customer, archive_contract, number, contract_kind, title,"
    " signed_on, start_on, end_on, amount, currency, owner, status, terminated_on,"
    " termination_reason, created_by, created_at, lines"
)


def _out(row: Any) -> SalesContractOut:
    values = dict(row)
    lines = values.pop("lines")
    if isinstance(lines, str):
        lines = msgspec.json.decode(lines)
    return SalesContractOut(**values, lines=msgspec.convert(lines, list[ContractLine]))


async def get_contract(contract_id: int) -> SalesContractOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {CONTRACT} WHERE id = $1", contract_id)
    if row is None:
        raise not_found(f"sales contract {contract_id}")
    return _out(row)


async def list_contracts(
    *,
    status: str | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[SalesContractOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {CONTRACT} WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::bigint IS NULL OR customer = $2) AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        status, customer_id, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def _lines(opportunity_id: int) -> list[ContractLine]:
    rows = await db.fetch(
        "SELECT product, quantity, unit_price, amount, options"
        f" FROM {OPPORTUNITY_PRODUCT} WHERE opportunity = $1 ORDER BY id",
        opportunity_id,
    )
    catalogue = {p.id: p for p in await archive.list_products()} if rows else {}
    return [
        ContractLine(
            r["product"], catalogue[r["product"]].code, catalogue[r["product"]].name,
            catalogue[r["product"]].category, r["quantity"], r["unit_price"], r["amount"],
            msgspec.json.decode(r["options"]) if isinstance(r["options"], str) else r["options"],
        )
        for r in rows
    ]  # fmt: skip


def _today() -> date:
    return utcnow().astimezone(business_calendar.DEFAULT_ZONE).date()


def _kind(lines: list[ContractLine]) -> KindName:
    largest = max(lines, key=lambda line: line.amount)
    return KIND_OF_CATEGORY.get(largest.category, "service")


async def create_from_opportunity(opportunity_id: int, data: ContractFromDeal) -> SalesContractOut:
    """Sign a won opportunity as a contract: the archive's contract (active, for the
    opportunity's amount) and the sales contract with the products sold, in one audited
    transaction. A deal is signed once; an open or lost one is refused."""
    problems = Problems()
    start_on = data.start_on or data.signed_on
    if data.signed_on > _today():
        problems.add("body.signed_on", "cannot be in the future")
    if data.end_on is not None and data.end_on <= start_on:
        problems.add("body.end_on", "must be after the start")
    problems.raise_if_any()
    async with db.transaction():
        deal = await db.fetchrow(
            f"SELECT id, branch_id, customer, title, status, amount, owner FROM {OPPORTUNITY}"
            " WHERE id = $1 FOR UPDATE",
            opportunity_id,
        )
        if deal is None:
            raise not_found(f"opportunity {opportunity_id}")
        if deal["status"] != "won":
            raise Problem(
                409, f"only a won opportunity is signed as a contract (this one is"
                f" {deal['status']})", [FieldError("/path/opportunity_id", "not won")],
                "opportunity_not_won",
            )  # fmt: skip
        signed = await db.fetchval(
            f"SELECT id FROM {CONTRACT} WHERE opportunity = $1", opportunity_id
        )
        if signed is not None:
            raise Problem(
                409, f"the opportunity is signed already as sales contract {signed}",
                [FieldError("/path/opportunity_id", "signed already")], "contract_exists",
            )  # fmt: skip
        lines = await _lines(opportunity_id)
        kind = data.kind or _kind(lines)
        title = data.title.strip() or deal["title"]
        recorded = await archive.create_contract(
            deal["customer"],
            archive.ContractIn(
                kind=kind, number=data.number, title=title, signed_on=data.signed_on,
                start_on=start_on, end_on=data.end_on, status="active", amount=deal["amount"],
            ),
        )  # fmt: skip
        row = await db.fetchrow(
            f"INSERT INTO {CONTRACT} (branch_id, opportunity, customer, archive_contract, number,"
            " contract_kind, title, signed_on, start_on, end_on, amount, currency, lines, owner,"
            " status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
            " $12, $13, $14, 'active', $15, now()) RETURNING " + COLUMNS,
            deal["branch_id"], opportunity_id, deal["customer"], recorded.id, data.number, kind,
            title, data.signed_on, start_on, data.end_on, deal["amount"], recorded.currency,
            db.jsonb(msgspec.to_builtins(lines)), deal["owner"], require_scope().actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=deal["branch_id"],
            after={"opportunity": opportunity_id, "archive_contract": recorded.id,
                   "number": data.number, "amount": deal["amount"], "lines": len(lines)},
        )  # fmt: skip
    return _out(row)


async def terminate(contract_id: int, data: TerminationIn) -> SalesContractOut:
    """End a contract early (the product is closed): the archive's contract is terminated
    with it. The day may not be before signing nor in the future."""
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT {COLUMNS} FROM {CONTRACT} WHERE id = $1 FOR UPDATE", contract_id
        )
        if row is None:
            raise not_found(f"sales contract {contract_id}")
        if row["status"] != "active":
            raise Problem(
                409, f"the contract was terminated on {row['terminated_on']}",
                [FieldError("/path/contract_id", "terminated already")], "contract_terminated",
            )  # fmt: skip
        problems = Problems()
        if data.terminated_on < row["signed_on"]:
            problems.add("body.terminated_on", f"before the signing on {row['signed_on']}")
        if data.terminated_on > _today():
            problems.add("body.terminated_on", "cannot be in the future")
        problems.raise_if_any()
        await archive.update_contract(
            row["archive_contract"], archive.ContractPatch(status="terminated")
        )
        updated = await db.fetchrow(
            f"UPDATE {CONTRACT} SET status = 'terminated', terminated_on = $2,"
            f" termination_reason = $3 WHERE id = $1 RETURNING {COLUMNS}",
            contract_id, data.terminated_on, data.reason.strip(),
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, ENTITY, contract_id, branch_id=row["branch_id"],
            before={"status": "active"},
            after={"status": "terminated", "terminated_on": data.terminated_on,
                   "reason": data.reason.strip()},
        )  # fmt: skip
    return _out(updated)
