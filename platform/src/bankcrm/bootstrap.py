"""The first day of a real installation: a head office, its first administrator, and the
branch tree loaded from a file (CSV or xlsx) — without the demo.

``bankcrm migrate`` builds the schema and the roles; :func:`initialise` then creates the
head office (every installed plugin enabled there) and a superuser who is its head-office
administrator; :func:`load_branches` adds the rest of the tree from CSV in one
transaction, every row checked first (an error names the row and the column, and nothing
is written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bankcrm import audit, auth, branches, db, passwords, roles, tabular
from bankcrm.context import Scope, bind_scope, current_scope
from bankcrm.plugin_api import StandardRole
from bankcrm.runtime import Kernel
from bankcrm.web.problems import Problem

BRANCH_COLUMNS = ("code", "name", "name_en", "parent_code")
HEADER_SYNONYMS = {
    "code": "code", "机构代码": "code", "机构编号": "code", "网点代码": "code",
    "name": "name", "机构名称": "name", "名称": "name", "网点名称": "name",
    "name_en": "name_en", "英文名称": "name_en",
    "parent_code": "parent_code", "上级机构代码": "parent_code", "上级机构": "parent_code",
}  # fmt: skip


class BootstrapError(Exception):
    """What stops the bootstrap, said for the operator (row and column where a file)."""


@dataclass(frozen=True)
class Initialised:
    head_office_id: int
    admin_user_id: int


async def initialise(
    kernel: Kernel,
    *,
    code: str,
    name: str,
    name_en: str,
    admin_username: str,
    admin_password: str,
    admin_email: str = "",
) -> Initialised:
    """Create the head office and its first administrator; refused once any branch exists."""
    if await db.fetchval("SELECT count(*) FROM bankcrm_branch"):
        raise BootstrapError(
            "this database already has branches: bankcrm init runs once, on a new installation"
        )
    problems = passwords.problems(admin_password, admin_username)
    if problems:
        raise BootstrapError("the administrator's password " + "; ".join(problems))
    declared = roles.declared_roles(kernel.registry)
    async with db.transaction() as transaction:
        await roles.sync_roles(transaction.connection, declared, "system:init")
        role_ids = await roles.role_ids(transaction.connection, declared)
        head_office = await branches.create_branch(code, name, name_en, None)
        # From here on the installation acts in its new head office.
        with bind_scope(
            Scope(actor="system:init", branch_ids=frozenset({head_office.id}), is_superuser=True)
        ):
            await db.apply_scope(transaction.connection)
            user_id = await _first_administrator(
                kernel, head_office.id, role_ids[StandardRole.HEAD_OFFICE_ADMIN],
                admin_username, admin_password, admin_email,
            )  # fmt: skip
            await audit.record(
                audit.Action.CREATE,
                "bankcrm.installation",
                str(head_office.id),
                branch_id=head_office.id,
                after={"head_office": code, "administrator": admin_username},
            )
    branches.invalidate()
    return Initialised(head_office.id, user_id)


async def _first_administrator(
    kernel: Kernel, head_office: int, role_id: int, username: str, password: str, email: str
) -> int:
    for plugin in kernel.registry.order:
        await db.fetch(
            "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
            " changed_by, changed_at) VALUES ($1, $2, true, '{}'::jsonb, 'system:init', now())",
            head_office,
            plugin,
        )
    user_id = await auth.create_user(username, password, email=email, superuser=True)
    await db.fetch(
        'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)',
        user_id,
        head_office,
        role_id,
    )
    return user_id


@dataclass(frozen=True)
class BranchRow:
    line: int
    code: str
    name: str
    name_en: str
    parent_code: str


def read_branch_file(path: Path) -> list[BranchRow]:
    """Rows of a branch file, CSV (UTF-8 or GBK) or xlsx, headers in English or Chinese,
    read by the kernel's checked reader; or :class:`BootstrapError`."""
    try:
        records = tabular.read_records(
            path,
            path.name,
            lambda h: HEADER_SYNONYMS.get(h.strip().lower(), HEADER_SYNONYMS.get(h.strip())),
            ("code", "name", "parent_code"),
        )
    except Problem as exc:
        raise BootstrapError(f"{path.name}: {exc.detail}") from exc
    return [
        BranchRow(
            line, values.get("code", ""), values.get("name", ""), values.get("name_en", ""),
            values.get("parent_code", ""),
        )
        for line, values in records.rows
    ]  # fmt: skip


def _ordered(rows: Iterable[BranchRow], existing: Mapping[str, int]) -> list[BranchRow]:
    """Parents before children; every problem named by line and column."""
    problems = []
    by_code: dict[str, BranchRow] = {}
    for row in rows:
        if not row.code:
            problems.append(f"line {row.line}, column code: required")
        elif row.code in existing or row.code in by_code:
            problems.append(f"line {row.line}, column code: {row.code!r} already exists")
        else:
            by_code[row.code] = row
        if not row.name:
            problems.append(f"line {row.line}, column name: required")
        if not row.parent_code:
            problems.append(
                f"line {row.line}, column parent_code: required (the head office exists already)"
            )
        elif row.parent_code not in existing and row.parent_code not in {
            r.code for r in rows if r is not row
        }:
            problems.append(f"line {row.line}, column parent_code: no branch {row.parent_code!r}")
    ordered: list[BranchRow] = []
    placed = set(existing)
    pending = list(by_code.values())
    while pending:
        ready = [r for r in pending if r.parent_code in placed]
        if not ready:
            for row in pending:
                if row.parent_code in by_code:
                    problems.append(
                        f"line {row.line}, column parent_code: {row.parent_code!r} is part of"
                        " a cycle of parents"
                    )
            break
        for row in ready:
            ordered.append(row)
            placed.add(row.code)
        pending = [r for r in pending if r.code not in placed]
    if problems:
        raise BootstrapError("\n".join(sorted(set(problems), key=_line_of)))
    return ordered


def _line_of(problem: str) -> int:
    return int(problem.split(",", 1)[0].removeprefix("line "))


async def load_branches(rows: list[BranchRow]) -> int:
    """Create every branch of ``rows`` in one transaction (parents first); the count."""
    tree = await branches.snapshot()
    ordered = _ordered(rows, tree.by_code)
    ids = dict(tree.by_code)
    actor = current_scope()
    visible = set(actor.branch_ids if actor else ())
    try:
        async with db.transaction() as transaction:
            for row in ordered:
                node = await branches.create_branch(
                    row.code, row.name, row.name_en, ids[row.parent_code]
                )
                ids[row.code] = node.id
                visible.add(node.id)
                # The loader acts in the branches it creates, as it goes.
                with bind_scope(
                    Scope(
                        actor=actor.actor if actor else "system:cli",
                        branch_ids=frozenset(visible),
                        is_superuser=True,
                    )
                ):
                    await db.apply_scope(transaction.connection)
                    await audit.record(
                        audit.Action.CREATE,
                        "bankcrm.branch",
                        str(node.id),
                        branch_id=node.id,
                        after={"code": row.code, "name": row.name, "parent": row.parent_code},
                    )
    finally:
        branches.invalidate()
    return len(ordered)


__all__ = [
    "BootstrapError",
    "BranchRow",
    "Initialised",
    "initialise",
    "load_branches",
    "read_branch_file",
]
