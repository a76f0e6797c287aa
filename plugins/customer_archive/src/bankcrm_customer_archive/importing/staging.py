"""Staging: COPY the validated chunks into the staging tables, then flag set-wise in SQL.

Reading and validating run in a worker thread one chunk ahead of the COPY, so the event
loop stays free for other requests while a large file is checked. Duplicates within the
file and identities already in the archive are found by one statement each over the
whole batch (a window over the staged rows; a join with the customer table on the
identity index), never by a query per row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, Protocol

import asyncpg

from bankcrm.tabular import Cell, Rows
from bankcrm_customer_archive.importing.mapping import ColumnMapping

CUSTOMER_STAGING = "customer_archive_import_row"
HOLDING_STAGING = "customer_archive_import_holding_row"
_COPY_TABLE = "bankcrm_import_copy"


class Validator(Protocol):
    @property
    def columns(self) -> tuple[str, ...]: ...

    def chunk(self, rows: list[tuple[int, list[Cell]]]) -> list[tuple[Any, ...]]: ...


def _validated(rows: Rows, validator: Validator) -> Iterator[list[tuple[Any, ...]]]:
    for chunk in rows.chunks:
        yield validator.chunk(chunk)


async def copy_rows(
    connection: asyncpg.Connection, table: str, rows: Rows, validator: Validator
) -> int:
    """COPY every validated chunk into ``table``; the number of rows staged.

    PostgreSQL refuses ``COPY FROM`` into a table under row-level security, so the chunks
    are COPYed into a temporary table of the same columns (session-local, dropped at
    commit) and moved into ``table`` by one ``INSERT ... SELECT``, which the policy checks.
    Must run inside a transaction.
    """
    columns = ", ".join(validator.columns)
    await connection.execute(
        f"CREATE TEMP TABLE {_COPY_TABLE} ON COMMIT DROP AS"
        f" SELECT {columns} FROM {table} WITH NO DATA"
    )
    staged = await _copy_chunks(connection, rows, validator)
    await connection.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_COPY_TABLE}")
    await connection.execute(f"DROP TABLE {_COPY_TABLE}")
    return staged


async def _copy_chunks(connection: asyncpg.Connection, rows: Rows, validator: Validator) -> int:
    chunks = _validated(rows, validator)
    staged = 0
    next_chunk = asyncio.create_task(asyncio.to_thread(next, chunks, None))
    while True:
        records = await next_chunk
        if records is None:
            break
        # Validate the next chunk while this one is copied.
        next_chunk = asyncio.create_task(asyncio.to_thread(next, chunks, None))
        try:
            await connection.copy_records_to_table(
                _COPY_TABLE, records=records, columns=list(validator.columns)
            )
        except BaseException:
            next_chunk.cancel()
            raise
        staged += len(records)
    return staged


def _error(field_name: str, column: str, value_sql: str, message_sql: str) -> str:
    return (
        f"jsonb_build_array(jsonb_build_object('field', '{field_name}', 'column', "
        f"{column}::text, 'value', {value_sql}, 'message', {message_sql}))"
    )


async def flag_customers(
    connection: asyncpg.Connection, batch_id: int, mapping: ColumnMapping
) -> None:
    column = mapping.header_of("id_number")
    await connection.execute(
        f"""
        WITH ranked AS (
          SELECT id, row_no, min(row_no) OVER (
                   PARTITION BY target_branch_id, id_number_hash) AS first_row
          FROM {CUSTOMER_STAGING} WHERE batch = $1 AND id_number_hash IS NOT NULL)
        UPDATE {CUSTOMER_STAGING} r
        SET state = CASE WHEN r.state = 'valid' THEN 'duplicate' ELSE r.state END,
            errors = coalesce(r.errors, '[]'::jsonb) || {
            _error(
                "id_number",
                "$2",
                "r.id_number_masked",
                "'the same identity document as row ' || ranked.first_row || ': skipped'",
            )
        }
        FROM ranked WHERE r.id = ranked.id AND ranked.row_no > ranked.first_row
        """,
        batch_id,
        column,
    )
    await flag_existing_customers(connection, batch_id, column)


async def flag_existing_customers(
    connection: asyncpg.Connection, batch_id: int, column: str
) -> int:
    """Mark valid rows whose identity is already a live customer of their branch."""
    result = await connection.execute(
        f"""
        UPDATE {CUSTOMER_STAGING} r
        SET state = 'existing', existing_customer_id = c.id,
            errors = {
            _error(
                "id_number",
                "$2",
                "r.id_number_masked",
                "'already customer ' || c.id || ' of this branch: skipped'",
            )
        }
        FROM customer_archive_customer c
        WHERE r.batch = $1 AND r.state = 'valid' AND c.id_number_hash = r.id_number_hash
          AND c.branch_id = r.target_branch_id AND c.deleted_at IS NULL
        """,
        batch_id,
        column,
    )
    return int(result.split()[-1])


async def flag_holdings(
    connection: asyncpg.Connection, batch_id: int, mapping: ColumnMapping
) -> None:
    await resolve_holding_customers(connection, batch_id, mapping.header_of("id_number"))
    account_column = mapping.header_of("account_no")
    await connection.execute(
        f"""
        WITH ranked AS (
          SELECT id, row_no, min(row_no) OVER (PARTITION BY account_no) AS first_row
          FROM {HOLDING_STAGING} WHERE batch = $1 AND account_no IS NOT NULL)
        UPDATE {HOLDING_STAGING} r
        SET state = CASE WHEN r.state = 'valid' THEN 'duplicate' ELSE r.state END,
            errors = coalesce(r.errors, '[]'::jsonb) || {
            _error(
                "account_no",
                "$2",
                "left(r.account_no, 4) || '****' || right(r.account_no, 4)",
                "'the same account number as row ' || ranked.first_row || ': skipped'",
            )
        }
        FROM ranked WHERE r.id = ranked.id AND ranked.row_no > ranked.first_row
        """,
        batch_id,
        account_column,
    )
    await flag_existing_holdings(connection, batch_id, account_column)


async def resolve_holding_customers(
    connection: asyncpg.Connection, batch_id: int, column: str
) -> None:
    await connection.execute(
        f"""
        UPDATE {HOLDING_STAGING} r SET customer = c.id
        FROM customer_archive_customer c
        WHERE r.batch = $1 AND c.id_number_hash = r.id_number_hash
          AND c.branch_id = r.target_branch_id AND c.deleted_at IS NULL
        """,
        batch_id,
    )
    await connection.execute(
        f"""
        UPDATE {HOLDING_STAGING} r
        SET state = 'invalid',
            errors = coalesce(r.errors, '[]'::jsonb) || {
            _error(
                "id_number",
                "$2",
                "r.id_number_masked",
                "'no customer with this ID number in the branch: import the customer first'",
            )
        }
        WHERE r.batch = $1 AND r.customer IS NULL AND r.id_number_hash IS NOT NULL
          AND r.state IN ('valid', 'invalid')
        """,
        batch_id,
        column,
    )


async def flag_existing_holdings(connection: asyncpg.Connection, batch_id: int, column: str) -> int:
    result = await connection.execute(
        f"""
        UPDATE {HOLDING_STAGING} r
        SET state = 'existing',
            errors = {
            _error(
                "account_no",
                "$2",
                "left(r.account_no, 4) || '****' || right(r.account_no, 4)",
                "'already holding ' || h.id || ': skipped'",
            )
        }
        FROM customer_archive_holding h
        WHERE r.batch = $1 AND r.state = 'valid' AND h.account_no = r.account_no
        """,
        batch_id,
        column,
    )
    return int(result.split()[-1])


async def counts(connection: asyncpg.Connection, table: str, batch_id: int) -> dict[str, int]:
    rows = await connection.fetch(
        f"SELECT state, count(*) AS n, count(*) FILTER (WHERE errors IS NOT NULL) AS noted"
        f" FROM {table} WHERE batch = $1 GROUP BY state",
        batch_id,
    )
    found = {row["state"]: int(row["n"]) for row in rows}
    counted = {s: found.get(s, 0) for s in ("valid", "invalid", "duplicate", "existing")}
    counted["warning"] = sum(int(row["noted"]) for row in rows if row["state"] == "valid")
    return counted
