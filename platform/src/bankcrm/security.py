"""Row-level security and grants: applied after migrations, verified at every boot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from piccolo.conf.apps import AppRegistry
from piccolo.table import Table

from bankcrm.access_rules import DeclaredRule, apply_rules, missing_rule_policies
from bankcrm.db import quote_ident
from bankcrm.sql import POLICY_NAME, policy_statements
from bankcrm.tables import GLOBAL_REASON_ATTRIBUTE, AuditLog

# Tables of the libraries we build on, which have no branch: staff users and sessions
# (superuser-only in the admin) and Piccolo's migration ledger.
LIBRARY_GLOBAL_TABLES = {
    "piccolo_user": "staff accounts; memberships, not rows, decide what a user sees",
    "sessions": "login sessions, looked up before any scope exists",
    "migration": "Piccolo's migration ledger",
    "mfa_authenticator_secret": "TOTP secrets, read during login before any scope exists",
}

APPEND_ONLY_TABLES = {AuditLog._meta.tablename}


class SecurityError(RuntimeError):
    """A table is unprotected; the kernel refuses to start."""


@dataclass(frozen=True)
class TablePolicy:
    table: str
    scoped: bool
    reason: str


def classify(table: type[Table]) -> TablePolicy:
    name = table._meta.tablename
    reason = getattr(table, GLOBAL_REASON_ATTRIBUTE, None) or LIBRARY_GLOBAL_TABLES.get(name)
    has_branch = any(column._meta.db_column_name == "branch_id" for column in table._meta.columns)
    if reason is not None and not has_branch:
        return TablePolicy(name, scoped=False, reason=reason)
    if has_branch:
        return TablePolicy(name, scoped=True, reason="branch_id")
    raise SecurityError(
        f"table {name!r} has no branch_id column and is not declared global: add "
        "`branch_id = branch_column()` or decorate it with @global_table('reason')"
    )


def registered_tables(registry: AppRegistry) -> list[type[Table]]:
    tables: list[type[Table]] = []
    for app in registry.app_configs.values():
        tables.extend(app.table_classes)
    return tables


def table_policies(registry: AppRegistry) -> list[TablePolicy]:
    return [classify(table) for table in registered_tables(registry)]


async def apply_security(
    owner: asyncpg.Connection,
    registry: AppRegistry,
    app_role: str,
    rules: Sequence[DeclaredRule] = (),
) -> None:
    """Policies on scoped tables, the declared access rules' policies, grants for the
    application role. Idempotent."""
    role = quote_ident(app_role)
    database = await owner.fetchval("SELECT current_database()")
    async with owner.transaction():
        await owner.execute(f"GRANT CONNECT ON DATABASE {quote_ident(database)} TO {role}")
        await owner.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        for policy in table_policies(registry):
            table = quote_ident(policy.table)
            if policy.scoped:
                read_only = policy.table in APPEND_ONLY_TABLES
                for statement in policy_statements(table, read_only=read_only):
                    await owner.execute(statement)
            if policy.table in APPEND_ONLY_TABLES or policy.table == "migration":
                await owner.execute(f"REVOKE ALL ON {table} FROM {role}")
                await owner.execute(f"GRANT SELECT ON {table} TO {role}")
            else:
                await owner.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        await owner.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        await owner.execute(
            "GRANT EXECUTE ON FUNCTION bankcrm_audit_append"
            f"(bigint, text, text, text, jsonb, jsonb, text, text) TO {role}"
        )
        await owner.execute(f"GRANT EXECUTE ON FUNCTION bankcrm_audit_seal(integer) TO {role}")
        await owner.execute(f"GRANT EXECUTE ON FUNCTION bankcrm_operational_gauges() TO {role}")
        for kernel_only in ("bankcrm_audit_head", "bankcrm_audit_unsealed", "bankcrm_audit_seal"):
            await owner.execute(f"REVOKE ALL ON {kernel_only} FROM {role}")
        await apply_rules(owner, rules, [t._meta.tablename for t in registered_tables(registry)])


async def verify_security(
    connection: asyncpg.Connection, registry: AppRegistry, rules: Sequence[DeclaredRule] = ()
) -> None:
    """Raise :class:`SecurityError` unless every scoped table has RLS forced and a policy,
    and every declared access rule its policy."""
    rows = await connection.fetch(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policies p
                       WHERE p.tablename = c.relname AND p.policyname = $1) AS has_policy
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'
        """,
        POLICY_NAME,
    )
    state = {row["relname"]: row for row in rows}
    problems = []
    for policy in table_policies(registry):
        if not policy.scoped:
            continue
        row = state.get(policy.table)
        if row is None:
            problems.append(f"{policy.table}: table missing (run `bankcrm migrate`)")
        elif not (row["relrowsecurity"] and row["relforcerowsecurity"] and row["has_policy"]):
            problems.append(f"{policy.table}: row-level security not enforced")
    problems.extend(await missing_rule_policies(connection, rules))
    if problems:
        raise SecurityError("refusing to start: " + "; ".join(problems))
