"""Opportunities (客户商业机会): products from the archive's catalogue, the branch's
pipeline stages with entry criteria and default probabilities, and lead conversion.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import assignment, audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.notifications import NotificationSource, notify
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_sales import events, settings
from bankcrm_sales.common import (
    ACTIVITY,
    LEAD,
    LEAD_KIND,
    OPPORTUNITY,
    OPPORTUNITY_KIND,
    OPPORTUNITY_PRODUCT,
    STAGE_CHANGE,
    Problems,
    as_engine,
    assign_owner,
    branch_for_new,
    check_owner,
    future,
    money,
    utcnow,
    work_attributes,
)
from bankcrm_sales.leads import OPEN_STATUSES, Id, first_due
from bankcrm_sales.leads import audited as lead_audited

Money = Decimal
SalesMethodName = Literal["relationship", "telephone", "visit", "seminar", "online", "cross_sell"]
ShortText = Annotated[str, Meta(max_length=100)]

COLUMNS = (
    "id, branch_id, customer, lead, title, stage, stage_entered_at, probability, amount,"
    " expected_close, competitor, sales_method, project, channel, status, lost_reason, owner,"
    " next_follow_up_at, flagged, closed_at, created_by, created_at, updated_at"
)
AUDITED = (
    "customer", "title", "stage", "probability", "amount", "expected_close", "competitor",
    "sales_method", "project", "status", "lost_reason", "owner", "next_follow_up_at",
)  # fmt: skip


class ProductLine(Struct, forbid_unknown_fields=True, kw_only=True):
    """产品服务配置: one product of the catalogue with its options and price."""

    product_code: Annotated[str, Meta(min_length=1, max_length=32)]
    quantity: Annotated[int, Meta(ge=1, le=1_000_000)] = 1
    unit_price: Money
    options: dict[str, str | int | float | bool] = {}
    """Options of the configuration (term, rate, card tier ...)."""


class OpportunityIn(Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    channel: Literal[
        "web", "call_centre", "branch", "referral", "campaign", "partner", "event", "import"
    ] = "branch"
    products: Annotated[list[ProductLine], Meta(max_length=50)] = []
    stage: str | None = None
    """Default: the branch's first stage."""
    expected_close: date | None = None
    competitor: ShortText = ""
    sales_method: SalesMethodName = "relationship"
    project: ShortText = ""
    branch_id: Id | None = None
    """Default: the customer's branch."""
    owner_id: Id | None = None
    """Default: whoever the branch's assignment rules choose."""
    next_follow_up_at: datetime | None = None


class OpportunityPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    expected_close: date | UnsetType | None = UNSET
    competitor: ShortText | UnsetType = UNSET
    sales_method: SalesMethodName | UnsetType = UNSET
    project: ShortText | UnsetType = UNSET
    probability: Annotated[int, Meta(ge=0, le=100)] | UnsetType = UNSET
    next_follow_up_at: datetime | UnsetType = UNSET


class StageMove(Struct, forbid_unknown_fields=True, kw_only=True):
    stage: Annotated[str, Meta(min_length=1, max_length=32)]
    lost_reason: Annotated[str, Meta(max_length=200)] = ""
    competitor: ShortText | None = None
    """For a lost deal: who won it."""


class ProductOut(Struct):
    id: int
    product: int
    product_code: str
    product_name: str
    category: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    options: dict[str, Any]


class StageChangeOut(Struct):
    from_stage: str | None
    to_stage: str
    changed_at: datetime
    changed_by: str


class OpportunityOut(Struct):
    id: int
    branch_id: int
    customer: int
    lead: int | None
    title: str
    stage: str
    stage_entered_at: datetime
    probability: int
    amount: Decimal
    expected_close: date | None
    competitor: str
    sales_method: str
    project: str
    channel: str
    status: str
    lost_reason: str
    owner: int
    next_follow_up_at: datetime | None
    flagged: bool
    closed_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    products: list[ProductOut] = []
    stages: list[StageChangeOut] = []


class ConversionIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """Turn a lead into a customer (or link the one it is about) and an opportunity."""

    customer_id: Id | None = None
    """An existing customer to link; default: the lead's customer, else a new one."""
    kind: Literal["individual", "corporate"] = "individual"
    id_type: str | None = None
    """For a new customer: the identity document (the archive checks it and refuses a
    second customer with the same document in the branch; an existing one is linked)."""
    id_number: str | None = None
    opportunity: OpportunityIn | None = None
    """Default: an opportunity titled after the lead in the branch's first stage."""


class ConversionOut(Struct):
    lead: int
    customer: int
    customer_created: bool
    opportunity_id: int
    """The created opportunity (the answer's ``Location``)."""
    opportunity: OpportunityOut


async def _products(
    problems: Problems, lines: list[ProductLine], prefix: str
) -> list[dict[str, Any]]:
    catalogue = {p.code: p for p in await archive.list_products(active=True)}
    rows = []
    for i, line in enumerate(lines):
        product = catalogue.get(line.product_code)
        if product is None:
            problems.add(f"{prefix}[{i}].product_code", "no active product with this code")
            continue
        price = money(problems, f"{prefix}[{i}].unit_price", line.unit_price)
        if price is None:
            continue
        rows.append({
            "product": product.id, "quantity": line.quantity, "unit_price": price,
            "amount": price * line.quantity, "options": dict(line.options),
            "category": product.category,
        })  # fmt: skip
    return rows


def _missing_criteria(
    stage: settings.StageSpec, opportunity: dict[str, Any], products: int, activities: int
) -> list[FieldError]:
    checks = {
        "products": (products > 0, "products", "add the products sold first"),
        "expected_close": (
            opportunity.get("expected_close") is not None, "expected_close",
            "set the expected closing date first",
        ),
        "competitor": (bool(opportunity.get("competitor")), "competitor", "name the competitor"),
        "amount": (Decimal(opportunity.get("amount") or 0) > 0, "products", "needs an amount"),
        "activity": (activities > 0, "activities", "record a sales activity first"),
    }  # fmt: skip
    errors = []
    for criterion in stage.entry_criteria:
        ok, field_name, message = checks[criterion]
        if not ok:
            errors.append(FieldError(field_name, f"{message} (to enter stage {stage.code})"))
    return errors


async def _detail(row: Any) -> OpportunityOut:
    products = await db.fetch(
        "SELECT id, product, quantity, unit_price, amount, options"
        f" FROM {OPPORTUNITY_PRODUCT} WHERE opportunity = $1 ORDER BY id",
        row["id"],
    )
    catalogue = {p.id: p for p in await archive.list_products()} if products else {}
    stages = await db.fetch(
        f"SELECT from_stage, to_stage, changed_at, changed_by FROM {STAGE_CHANGE}"
        " WHERE opportunity = $1 ORDER BY id",
        row["id"],
    )
    out = OpportunityOut(**dict(row))
    out.products = [
        ProductOut(
            p["id"], p["product"], catalogue[p["product"]].code, catalogue[p["product"]].name,
            catalogue[p["product"]].category, p["quantity"], p["unit_price"], p["amount"],
            msgspec.json.decode(p["options"]) if isinstance(p["options"], str) else p["options"],
        )
        for p in products
    ]  # fmt: skip
    out.stages = [StageChangeOut(**dict(s)) for s in stages]
    return out


async def list_opportunities(
    *,
    status: str | None = None,
    stage: str | None = None,
    owner_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[OpportunityOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {OPPORTUNITY}"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR stage = $2)"
        " AND ($3::bigint IS NULL OR owner = $3) AND ($4::bigint IS NULL OR customer = $4)"
        " AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
        status, stage, owner_id, customer_id, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [OpportunityOut(**dict(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_opportunity(opportunity_id: int) -> OpportunityOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {OPPORTUNITY} WHERE id = $1", opportunity_id)
    if row is None:
        raise not_found(f"opportunity {opportunity_id}")
    return await _detail(row)


async def _insert(
    data: OpportunityIn,
    branch_id: int,
    prefix: str,
    *,
    lead_id: int | None = None,
    owner: int | None = None,
) -> Any:
    """Check and insert an opportunity inside the caller's transaction."""
    problems = Problems()
    config = await settings.for_branch(branch_id)
    stage = config.stage(data.stage) if data.stage else config.open_stages[0]
    if stage is None:
        known = ", ".join(s.code for s in config.stages)
        problems.add(f"{prefix}stage", f"no stage {data.stage!r} in this branch (known: {known})")
    elif stage.outcome != "open":
        problems.add(f"{prefix}stage", "a new opportunity starts in an open stage")
    products = await _products(problems, data.products, f"{prefix}products")
    future(problems, f"{prefix}next_follow_up_at", data.next_follow_up_at)
    if data.expected_close is not None and data.expected_close < utcnow().date():
        problems.add(f"{prefix}expected_close", "must not be in the past")
    if data.owner_id is not None:
        await check_owner(problems, f"{prefix}owner_id", data.owner_id, branch_id)
    amount = sum((p["amount"] for p in products), Decimal(0))
    values: dict[str, Any] = {
        "branch_id": branch_id, "customer": data.customer_id, "lead": lead_id,
        "title": data.title.strip(), "expected_close": data.expected_close,
        "competitor": data.competitor.strip(), "sales_method": data.sales_method,
        "project": data.project.strip(), "channel": data.channel, "amount": amount,
    }  # fmt: skip
    if not values["title"]:
        problems.add(f"{prefix}title", "must not be blank")
    if stage is not None:
        for error in _missing_criteria(stage, values, len(products), 0):
            problems.add(f"{prefix}{error.field}", error.message)
    problems.raise_if_any()
    assert stage is not None
    opportunity_id = await db.fetchval(
        "SELECT nextval(pg_get_serial_sequence($1, 'id'))", OPPORTUNITY
    )
    how = "manual"
    if owner is None and data.owner_id is not None:
        owner = data.owner_id
    elif owner is None:
        category = products[0]["category"] if products else ""
        assigned = await assign_owner(
            OPPORTUNITY_KIND, opportunity_id, branch_id,
            work_attributes(category, amount, data.channel),
        )  # fmt: skip
        assert assigned.user_id is not None
        owner, how = assigned.user_id, assigned.how
    due = data.next_follow_up_at or await first_due(branch_id, utcnow())
    columns = {
        **values, "id": opportunity_id, "stage": stage.code, "probability": stage.probability,
        "status": "open", "owner": owner, "next_follow_up_at": due,
        "created_by": require_scope().actor,
    }  # fmt: skip
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    async with as_engine():
        row = await db.fetchrow(
            f"INSERT INTO {OPPORTUNITY} ({', '.join(columns)}, stage_entered_at, created_at,"
            f" updated_at) VALUES ({placeholders}, now(), now(), now()) RETURNING {COLUMNS}",
            *columns.values(),
        )
        assert row is not None
        if products:
            await db.execute_many(
                f"INSERT INTO {OPPORTUNITY_PRODUCT} (branch_id, opportunity, product, quantity,"
                " unit_price, amount, options) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [
                    (branch_id, opportunity_id, p["product"], p["quantity"], p["unit_price"],
                     p["amount"], db.jsonb(p["options"]))
                    for p in products
                ],
            )  # fmt: skip
        await db.fetch(
            f"INSERT INTO {STAGE_CHANGE} (branch_id, opportunity, from_stage, to_stage,"
            " changed_at, changed_by) VALUES ($1, $2, NULL, $3, now(), $4)",
            branch_id, opportunity_id, stage.code, require_scope().actor,
        )  # fmt: skip
    await audit.record(
        audit.Action.CREATE, OPPORTUNITY_KIND, opportunity_id, branch_id=branch_id,
        after={**{k: row[k] for k in AUDITED}, "assigned": how,
               "products": [{k: p[k] for k in ("product", "quantity", "unit_price")}
                            for p in products]},
    )  # fmt: skip
    await emit_event(
        events.OPPORTUNITY_CREATED,
        {"opportunity_id": opportunity_id, "branch_id": branch_id, "lead_id": lead_id},
    )
    if owner != require_scope().user_id:
        await notify(
            [owner], "sales.opportunity_assigned", {"title": row["title"], "id": opportunity_id},
            NotificationSource("sales", OPPORTUNITY, opportunity_id, branch_id),
        )  # fmt: skip
    return row


async def _customer_branch(customer_id: int, field_name: str) -> int:
    try:
        customer = await archive.get_customer(customer_id, audit_view=False)
    except Problem:
        raise invalid(field_name, f"no customer {customer_id} in your branches") from None
    return customer.branch_id


async def create_opportunity(data: OpportunityIn) -> OpportunityOut:
    branch_id = (
        branch_for_new(data.branch_id)
        if data.branch_id is not None
        else await _customer_branch(data.customer_id, "body.customer_id")
    )
    if data.branch_id is not None:
        await _customer_branch(data.customer_id, "body.customer_id")
    async with db.transaction():
        row = await _insert(data, branch_id, "body.")
        out = await _detail(row)
    return out


async def update_opportunity(opportunity_id: int, data: OpportunityPatch) -> OpportunityOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    problems = Problems()
    if "title" in values:
        values["title"] = values["title"].strip()
        if not values["title"]:
            problems.add("body.title", "must not be blank")
    if "next_follow_up_at" in values:
        future(problems, "body.next_follow_up_at", values["next_follow_up_at"])
        values["flagged"] = False
    if values.get("expected_close") is not None and values["expected_close"] < utcnow().date():
        problems.add("body.expected_close", "must not be in the past")
    problems.raise_if_any()
    async with db.transaction():
        before = await _locked(opportunity_id)
        if before["status"] != "open":
            raise invalid("body", f"the opportunity is {before['status']}; it can no longer change")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return await _detail(before)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {OPPORTUNITY} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            opportunity_id,
            *changed.values(),
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, OPPORTUNITY_KIND, opportunity_id, branch_id=row["branch_id"],
            before={k: before[k] for k in changed if k in AUDITED},
            after={k: row[k] for k in changed if k in AUDITED},
        )  # fmt: skip
        return await _detail(row)


async def _locked(opportunity_id: int) -> Any:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {OPPORTUNITY} WHERE id = $1 FOR UPDATE", opportunity_id
    )
    if row is None:
        raise not_found(f"opportunity {opportunity_id}")
    return row


async def replace_products(opportunity_id: int, lines: list[ProductLine]) -> OpportunityOut:
    problems = Problems()
    products = await _products(problems, lines, "body")
    problems.raise_if_any()
    async with db.transaction():
        before = await _locked(opportunity_id)
        if before["status"] != "open":
            raise invalid("body", f"the opportunity is {before['status']}; products are final")
        await db.fetch(f"DELETE FROM {OPPORTUNITY_PRODUCT} WHERE opportunity = $1", opportunity_id)
        if products:
            await db.execute_many(
                f"INSERT INTO {OPPORTUNITY_PRODUCT} (branch_id, opportunity, product, quantity,"
                " unit_price, amount, options) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [
                    (before["branch_id"], opportunity_id, p["product"], p["quantity"],
                     p["unit_price"], p["amount"], db.jsonb(p["options"]))
                    for p in products
                ],
            )  # fmt: skip
        amount = sum((p["amount"] for p in products), Decimal(0))
        row = await db.fetchrow(
            f"UPDATE {OPPORTUNITY} SET amount = $2, updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            opportunity_id,
            amount,
        )
        await audit.record(
            audit.Action.UPDATE, OPPORTUNITY_KIND, opportunity_id, branch_id=before["branch_id"],
            before={"amount": before["amount"]},
            after={"amount": amount, "products": [
                {k: p[k] for k in ("product", "quantity", "unit_price")} for p in products]},
        )  # fmt: skip
        return await _detail(row)


async def move_stage(opportunity_id: int, data: StageMove) -> OpportunityOut:
    """Move to another stage of the branch's pipeline, checking its entry criteria.

    A closed (won or lost) opportunity never moves again: moving back past a closed stage
    would undo a booked result. Won needs the products sold; lost needs the reason."""
    async with db.transaction():
        before = await _locked(opportunity_id)
        branch_id = before["branch_id"]
        config = await settings.for_branch(branch_id)
        target = config.stage(data.stage)
        if target is None:
            known = ", ".join(s.code for s in config.stages)
            raise invalid("body.stage", f"no stage {data.stage!r} in this branch (known: {known})")
        if before["status"] != "open":
            raise Problem(
                409,
                f"the opportunity is closed ({before['stage']}); it cannot move back",
                [FieldError("body.stage", f"closed in stage {before['stage']}; no way back")],
                "closed",
            )
        if target.code == before["stage"]:
            return await _detail(before)
        products = await db.fetchval(
            f"SELECT count(*) FROM {OPPORTUNITY_PRODUCT} WHERE opportunity = $1", opportunity_id
        )
        activities = await db.fetchval(
            f"SELECT count(*) FROM {ACTIVITY} WHERE opportunity = $1", opportunity_id
        )
        errors = _missing_criteria(target, dict(before), products, activities)
        if (
            target.outcome == "won"
            and products == 0
            and not any(e.field == "products" for e in errors)
        ):
            errors.append(FieldError("products", "a won deal needs the products sold"))
        reason = data.lost_reason.strip()
        if target.outcome == "lost" and not reason:
            errors.append(FieldError("body.lost_reason", "say why the deal was lost"))
        if errors:
            raise Problem(422, f"{errors[0].field}: {errors[0].message}", errors, "invalid")
        closing = target.outcome != "open"
        changes: dict[str, Any] = {
            "stage": target.code, "probability": target.probability,
            "status": target.outcome if closing else "open",
        }  # fmt: skip
        if closing:
            changes |= {"next_follow_up_at": None, "flagged": False, "lost_reason": reason}
            if data.competitor is not None:
                changes["competitor"] = data.competitor.strip()
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, 2))
        row = await db.fetchrow(
            f"UPDATE {OPPORTUNITY} SET {assignments}, stage_entered_at = now(),"
            f" closed_at = CASE WHEN {'true' if closing else 'false'} THEN now() END,"
            f" updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
            opportunity_id,
            *changes.values(),
        )
        assert row is not None
        await db.fetch(
            f"INSERT INTO {STAGE_CHANGE} (branch_id, opportunity, from_stage, to_stage,"
            " changed_at, changed_by) VALUES ($1, $2, $3, $4, now(), $5)",
            branch_id, opportunity_id, before["stage"], target.code, require_scope().actor,
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, OPPORTUNITY_KIND, opportunity_id, branch_id=branch_id,
            before={k: before[k] for k in changes if k in AUDITED},
            after={k: row[k] for k in changes if k in AUDITED},
        )  # fmt: skip
        if closing:
            await assignment.release(OPPORTUNITY_KIND, str(opportunity_id))
            await emit_event(
                events.OPPORTUNITY_WON if target.outcome == "won" else events.OPPORTUNITY_LOST,
                {"opportunity_id": opportunity_id, "branch_id": branch_id,
                 "customer_id": row["customer"], "amount": str(row["amount"])},
            )  # fmt: skip
        return await _detail(row)


async def convert_lead(lead_id: int, data: ConversionIn) -> ConversionOut:
    """Lead → customer (linked or created through the archive, with its duplicate check)
    and opportunity, in one transaction with its audit rows: all or nothing."""
    async with db.transaction():
        lead = await db.fetchrow(f"SELECT * FROM {LEAD} WHERE id = $1 FOR UPDATE", lead_id)
        if lead is None:
            raise not_found(f"lead {lead_id}")
        if lead["status"] not in OPEN_STATUSES:
            raise Problem(
                409,
                f"the lead is {lead['status']}; only an open lead can be converted",
                [FieldError("status", f"is {lead['status']}")],
                "not_open",
            )
        branch_id = lead["branch_id"]
        customer_id, created = await _customer_for(lead, data)
        opportunity = data.opportunity or OpportunityIn(
            customer_id=customer_id,
            title=f"{lead['prospect_name']}：{lead['product_interest'] or '综合金融服务'}",
            channel=lead["channel"],
        )
        if opportunity.customer_id != customer_id:
            raise invalid("body.opportunity.customer_id", "must be the lead's customer")
        row = await _insert(
            opportunity, branch_id, "body.opportunity.", lead_id=lead_id, owner=lead["owner"]
        )
        updated = await db.fetchrow(
            f"UPDATE {LEAD} SET status = 'converted', customer = $2, opportunity = $3,"
            " next_follow_up_at = NULL, flagged = false, updated_at = now() WHERE id = $1"
            " RETURNING *",
            lead_id, customer_id, row["id"],
        )  # fmt: skip
        await assignment.release(LEAD_KIND, str(lead_id))
        await audit.record(
            audit.Action.UPDATE, LEAD_KIND, lead_id, branch_id=branch_id,
            before=lead_audited(lead), after=lead_audited(updated),
            reason=f"converted: customer {customer_id}"
            f" ({'created' if created else 'linked'}), opportunity {row['id']}",
        )  # fmt: skip
        await emit_event(
            events.LEAD_CONVERTED,
            {"lead_id": lead_id, "branch_id": branch_id, "customer_id": customer_id,
             "opportunity_id": row["id"], "customer_created": created},
        )  # fmt: skip
        detail = await _detail(row)
    return ConversionOut(lead_id, customer_id, created, detail.id, detail)


async def _customer_for(lead: Any, data: ConversionIn) -> tuple[int, bool]:
    """The lead's customer: given, already linked, found by identity, or created."""
    if data.customer_id is not None:
        await _customer_branch(data.customer_id, "body.customer_id")
        return data.customer_id, False
    if lead["customer"] is not None:
        return lead["customer"], False
    problems = Problems()
    if not data.id_type:
        problems.add("body.id_type", "required to create the customer")
    if not data.id_number:
        problems.add("body.id_number", "required to create the customer")
    problems.raise_if_any()
    assert data.id_type
    assert data.id_number
    # The archive's duplicate check: one customer per identity document and branch. A
    # prospect who turns out to be a customer already is linked, not created twice.
    found = await archive.search_customers(
        archive.CustomerFilter(id_number=data.id_number, branch_id=lead["branch_id"]), limit=1
    )
    if found.items:
        return found.items[0].id, False
    try:
        customer_in = msgspec.convert(
            {
                "kind": data.kind, "name": lead["prospect_name"], "id_type": data.id_type,
                "id_number": data.id_number, "phone": lead["phone"], "email": lead["email"],
                "branch_id": lead["branch_id"],
                **({"employer": lead["company"]} if lead["company"] and data.kind ==
                   "individual" else {}),
            },
            archive.CustomerIn,
        )  # fmt: skip
    except msgspec.ValidationError as exc:
        raise invalid("body", f"the lead cannot become a customer: {exc}") from None
    customer = await archive.create_customer(customer_in)
    return customer.id, True
