"""The product catalogue (global: every branch sells the same products): list, read, add
and change products; a product's changed balance type or activity refreshes the AUM of the
customers who hold it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from bankcrm import audit, db
from bankcrm.web.problems import FieldError, Problem, not_found
from bankcrm_customer_archive.records import ENTITY_PRODUCT, PRODUCT
from bankcrm_customer_archive.schemas import ProductIn, ProductOut, ProductPatch
from bankcrm_customer_archive.search import services as search

__all__ = ["create_product", "get_product", "list_products", "update_product"]

_PRODUCT_COLUMNS = "id, code, name, name_en, category, segment, balance_type, currency, active"


def _product_out(row: Mapping[str, Any]) -> ProductOut:
    return ProductOut(
        row["id"], row["code"], row["name"], row["name_en"], row["category"], row["segment"],
        row["balance_type"], row["currency"], row["active"],
    )  # fmt: skip


async def list_products(
    category: str | None = None, segment: str | None = None, active: bool | None = None
) -> list[ProductOut]:
    rows = await db.fetch(
        f"SELECT {_PRODUCT_COLUMNS} FROM {PRODUCT} WHERE ($1::text IS NULL OR category = $1)"
        " AND ($2::text IS NULL OR segment = $2) AND ($3::boolean IS NULL OR active = $3)"
        " ORDER BY category, code",
        category,
        segment,
        active,
    )
    return [_product_out(r) for r in rows]


async def get_product(product_id: int) -> ProductOut:
    row = await db.fetchrow(f"SELECT {_PRODUCT_COLUMNS} FROM {PRODUCT} WHERE id = $1", product_id)
    if row is None:
        raise not_found(f"product {product_id}")
    return _product_out(row)


async def create_product(data: ProductIn) -> ProductOut:
    values = msgspec.structs.asdict(data)
    try:
        async with db.transaction():
            row = await db.fetchrow(
                f"INSERT INTO {PRODUCT} (code, name, name_en, category, segment, balance_type,"
                " currency, active, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now())"
                f" RETURNING {_PRODUCT_COLUMNS}",
                data.code,
                data.name.strip(),
                data.name_en.strip(),
                data.category,
                data.segment,
                data.balance_type,
                data.currency,
                data.active,
            )
            assert row is not None
            await audit.record(
                audit.Action.CREATE, ENTITY_PRODUCT, row["id"], branch_id=None, after=values
            )
    except asyncpg.UniqueViolationError as exc:
        raise Problem(
            409,
            f"product {data.code} already exists",
            [FieldError("body.code", "already exists")],
            "duplicate",
        ) from exc
    return _product_out(row)


async def update_product(product_id: int, data: ProductPatch) -> ProductOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    async with db.transaction():
        row = await db.fetchrow(
            f"SELECT {_PRODUCT_COLUMNS} FROM {PRODUCT} WHERE id = $1 FOR UPDATE", product_id
        )
        if row is None:
            raise not_found(f"product {product_id}")
        changed = {k: v for k, v in values.items() if row[k] != v}
        if not changed:
            return _product_out(row)
        balance_type_changed = "balance_type" in changed
        assignments = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(changed))
        updated = await db.fetchrow(
            f"UPDATE {PRODUCT} SET {assignments}, updated_at = now() WHERE id = $1"
            f" RETURNING {_PRODUCT_COLUMNS}",
            product_id,
            *changed.values(),
        )
        assert updated is not None
        if balance_type_changed:
            await search.refresh_aum_of_product(product_id)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_PRODUCT,
            product_id,
            branch_id=None,
            before={k: row[k] for k in changed},
            after=changed,
        )
    return _product_out(updated)
