"""piccolo-admin write hooks: audit, read-only and masked columns, the kernel-table rules
(:mod:`bankcrm.admin.kernel_rules`) applied.

piccolo_api runs ``pre_save`` / ``pre_patch`` / ``pre_delete`` hooks just before its write,
on whatever connection the engine hands out, and opens no transaction of its own. The
admin gate therefore runs every admin write inside one transaction (and answers only
after it committed): the hooks' audit rows and the write commit or roll back together.
A hook called outside that transaction refuses to run rather than audit on the side.

Hooks refuse with Starlette's ``HTTPException``: piccolo-admin's app turns it into a plain
4xx response, which the gate rewrites as a problem document and rolls back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns import BigSerial, Serial
from piccolo.columns.base import Column
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo_api.crud.hooks import Hook, HookType

from bankcrm import audit, db, pii
from bankcrm.admin.errors import refusal
from bankcrm.admin.kernel_rules import KernelRules
from bankcrm.admin.screens import ScreenSpec
from bankcrm.context import require_scope

ADMIN_REASON = "admin ui"
"""Written as the audit ``reason`` of admin writes, so the trail shows the channel."""

CHANGED_MARK = "(changed)"


class OutsideTransaction(RuntimeError):
    """An admin write hook ran without the gate's transaction around it."""


def _require_transaction(table: type[Table]) -> None:
    if table._meta.db.current_transaction.get() is None:
        raise OutsideTransaction(
            f"admin write on {table._meta.tablename} outside the admin gate's transaction: "
            "the audit row would not commit with the change"
        )


def _column(table: type[Table], name: str) -> Column:
    return table._meta.get_column_by_name(name)


async def locked_row(spec: ScreenSpec, row_id: Any) -> dict[str, Any] | None:
    """The row as it is now (by column name), locked until the transaction ends.

    Row-level security applies: an invisible row is None.
    """
    table = spec.table
    pk = table._meta.primary_key
    record = await db.fetchrow(
        f"SELECT * FROM {db.quote_ident(table._meta.tablename)}"
        f" WHERE {db.quote_ident(pk._meta.db_column_name)} = $1 FOR UPDATE",
        row_id,
    )
    if record is None:
        return None
    return {c._meta.name: record[c._meta.db_column_name] for c in table._meta.columns}


def _is_secret(spec: ScreenSpec, name: str) -> bool:
    column = spec.table._meta.get_column_by_name(name)
    return bool(column._meta.secret) or name in spec.hidden_columns


def auditable(spec: ScreenSpec, values: dict[str, Any]) -> dict[str, Any]:
    """What the trail may hold: masked columns masked, secrets only as 'changed'."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        if _is_secret(spec, name):
            shown[name] = CHANGED_MARK
        elif name in spec.screen.masked_columns and value is not None:
            shown[name] = pii.mask(str(value))
        elif isinstance(value, QueryString):
            shown[name] = "DEFAULT"
        else:
            shown[name] = value
    return shown


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def same_value(new: Any, old: Any) -> bool:
    """Whether a submitted form value leaves the stored one unchanged.

    The admin's edit form posts every field, converted from text: times come back with
    the precision of the form, JSON as text, numbers as whatever type the model chose.
    """
    if new is None or old is None:
        return new is None and old is None
    if isinstance(old, datetime) and isinstance(new, datetime):
        return abs((_as_utc(new) - _as_utc(old)).total_seconds()) < 1
    numeric = (int, float, Decimal)
    if (
        isinstance(old, numeric)
        and isinstance(new, numeric)
        and not isinstance(old, bool)
        and not isinstance(new, bool)
    ):
        return Decimal(str(new)) == Decimal(str(old))
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return len(old) == len(new) and all(same_value(a, b) for a, b in zip(new, old, strict=True))
    if isinstance(old, str) and not isinstance(new, str) and old[:1] in ("{", "["):
        try:
            return bool(json.loads(old) == new)
        except ValueError:
            return False
    if isinstance(new, str) and isinstance(old, str) and old[:1] in ("{", "["):
        try:
            return bool(json.loads(old) == json.loads(new))
        except ValueError:
            return new == old
    return str(new) == str(old)


def audit_branch(spec: ScreenSpec, row: dict[str, Any]) -> int | None:
    if spec.audit_branch_column is None:
        return None
    value = row.get(spec.audit_branch_column)
    return int(value) if isinstance(value, int) else None


def check_branch(spec: ScreenSpec, values: dict[str, Any]) -> None:
    """A friendly 403 for a row placed outside the scope; RLS stays the backstop."""
    if spec.scoped and "branch_id" in values:
        branch_id = values["branch_id"]
        if not isinstance(branch_id, int) or branch_id not in require_scope().branch_ids:
            raise refusal(403, f"branch {branch_id} is outside your scope for this screen")


async def _assign_primary_key(table: type[Table], row: Table) -> Any:
    """Draw a serial key now, so the audit row can name the row before it is inserted."""
    pk = table._meta.primary_key
    current = getattr(row, pk._meta.name)
    if isinstance(pk, Serial | BigSerial) and isinstance(current, QueryString):
        current = await db.fetchval(
            "SELECT nextval(pg_get_serial_sequence($1, $2))",
            table._meta.tablename,
            pk._meta.db_column_name,
        )
        setattr(row, pk._meta.name, current)
    return current


def hooks_for(spec: ScreenSpec, rules: KernelRules) -> list[Hook]:
    table = spec.table
    pk_name = table._meta.primary_key._meta.name

    async def pre_save(row: Table) -> Table:
        _require_transaction(table)
        row_id = await _assign_primary_key(table, row)
        await rules.before_create(spec, row)
        after = {c._meta.name: getattr(row, c._meta.name) for c in table._meta.columns}
        check_branch(spec, after)
        await audit.record(
            audit.Action.CREATE,
            spec.entity,
            row_id,
            branch_id=audit_branch(spec, after),
            after=auditable(spec, after),
            reason=ADMIN_REASON,
        )
        return row

    async def pre_patch(row_id: Any, values: dict[Column, Any]) -> dict[Column, Any]:
        _require_transaction(table)
        before = await locked_row(spec, row_id)
        if before is None:
            raise refusal(404, f"row {row_id} does not exist or is not visible to you")
        changes: dict[str, Any] = {}
        for column, value in values.items():
            name = column._meta.name
            current = before.get(name)
            if name in spec.hidden_columns:
                raise refusal(422, f"{name} cannot be set here")
            if column._meta.secret:
                if value:
                    changes[name] = value
                continue
            if (
                name in spec.screen.masked_columns
                and current is not None
                and (value == pii.mask(str(current)))
            ):
                # The form echoes the masked value it was shown: no change.
                continue
            if same_value(value, current):
                continue
            if name in spec.screen.read_only_columns:
                raise refusal(422, f"{name} is read-only")
            changes[name] = value
        check_branch(spec, changes)
        await rules.before_update(spec, before, changes)
        if changes:
            old = {name: before.get(name) for name in changes}
            await audit.record(
                audit.Action.UPDATE,
                spec.entity,
                row_id,
                branch_id=audit_branch(spec, before),
                before=auditable(spec, old),
                after=auditable(spec, changes),
                reason=ADMIN_REASON,
            )
        else:
            # piccolo's update needs a value; writing the key onto itself changes nothing.
            changes[pk_name] = row_id
        return {_column(table, name): value for name, value in changes.items()}

    async def pre_delete(row_id: Any) -> None:
        _require_transaction(table)
        before = await locked_row(spec, row_id)
        if before is None:
            raise refusal(404, f"row {row_id} does not exist or is not visible to you")
        await audit.record(
            audit.Action.DELETE,
            spec.entity,
            row_id,
            branch_id=audit_branch(spec, before),
            before=auditable(spec, before),
            reason=ADMIN_REASON,
        )

    return [
        Hook(HookType.pre_save, pre_save),
        Hook(HookType.pre_patch, pre_patch),
        Hook(HookType.pre_delete, pre_delete),
    ]


def refuse_writes_hooks(table: type[Table]) -> list[Hook]:
    """For tables served only to key pickers: the gate admits no write, nor do these."""

    def refuse(**_: Any) -> Any:
        raise refusal(405, f"{table._meta.tablename} is not editable here")

    return [Hook(kind, refuse) for kind in HookType]
