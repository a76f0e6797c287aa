"""Row rules finer than the branch, declared by plugins and compiled into RLS policies.

A plugin declares its rules as data (``register_access_rules`` answering
:class:`~bankcrm.plugin_api.AccessRule`), the way an Odoo module ships record rules; the
kernel checks them against the tables (:func:`declared_rules`), turns each into a
*restrictive* policy next to the branch policy (:func:`rule_statements`, applied by
``bankcrm migrate``) and refuses to start while one is missing. Plugins therefore never
write ``CREATE POLICY`` themselves, and every rule is listed, tested and documented in one
place.

A restrictive policy narrows what the permissive branch policy lets through: a row must be
in the scope's branches *and* satisfy every rule on its table. The rule holds for reads
and writes alike (``USING`` doubles as ``WITH CHECK``), so a caller can neither see nor
change a row outside it, nor write a row it could not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from piccolo.columns import JSON, Column
from piccolo.table import Table

from bankcrm.db import quote_ident
from bankcrm.plugin_api import AccessRule, RowMatch, SessionValue
from bankcrm.plugins import PluginRegistry

POLICY_PREFIX = "bankcrm_rule_"
"""Every rule's policy is named ``bankcrm_rule_<plugin>_<rule>``: what migrate may drop."""

MAX_IDENTIFIER = 63
"""PostgreSQL truncates longer names silently; two rules could then share a policy."""

RULE_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

ACTOR_SQL = "nullif(current_setting('bankcrm.actor', true), '')"
USER_ID_SQL = (
    "CASE WHEN current_setting('bankcrm.actor', true) ~ '^user:[0-9]+$'"
    " THEN substr(current_setting('bankcrm.actor', true), 6)::bigint END"
)
SYSTEM_ACTOR_SQL = "starts_with(current_setting('bankcrm.actor', true), 'system:')"
# The acting user and everyone under them in the manager tree, as one array computed once
# per statement (an uncorrelated ARRAY sub-select is an InitPlan, so an index on the column
# is used). The walk reads the employees under the caller's own row-level security: nobody
# is found through a branch the caller cannot see.
OVERSEEN_SQL = (
    "ARRAY(WITH RECURSIVE under(id, user_id, depth) AS ("
    " SELECT e.id, e.user_id, 0 FROM bankcrm_employee e"
    f" WHERE e.user_id = ({USER_ID_SQL})"
    " UNION ALL SELECT e.id, e.user_id, u.depth + 1 FROM bankcrm_employee e"
    " JOIN under u ON e.manager_id = u.id WHERE u.depth < 32)"
    f" SELECT ({USER_ID_SQL}) UNION SELECT user_id FROM under WHERE user_id IS NOT NULL)"
)
SESSION_SQL = {SessionValue.ACTOR: ACTOR_SQL, SessionValue.USER_ID: USER_ID_SQL}
SESSION_TYPES: dict[SessionValue, type] = {
    SessionValue.ACTOR: str,
    SessionValue.USER_ID: int,
    SessionValue.OVERSEEN_USER_IDS: int,
}


class AccessRuleError(ValueError):
    """Declared rules that cannot be compiled; the message names each rule and problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid access rules:\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class DeclaredRule:
    """A checked rule with the plugin that declared it."""

    rule: AccessRule
    declared_by: str

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def table(self) -> str:
        return self.rule.table

    @property
    def policy(self) -> str:
        return policy_name(self.rule.name)

    def condition(self) -> str:
        """The policy's SQL condition."""
        return " OR ".join(f"({match_sql(m)})" for m in self.rule.any_of)

    def describe(self) -> str:
        """The condition for people: ``kind = 'segment' OR owner_actor = <current actor>``."""
        return " OR ".join(describe_match(m) for m in self.rule.any_of)


def policy_name(rule_name: str) -> str:
    return POLICY_PREFIX + rule_name.replace(".", "_")


def sql_literal(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def match_sql(match: RowMatch) -> str:
    column = quote_ident(match.column)
    value = match.value
    if value is None:
        return f"{column} IS NULL"
    if value is SessionValue.OVERSEEN_USER_IDS:
        return f"{SYSTEM_ACTOR_SQL} OR {column} = ANY({OVERSEEN_SQL})"
    if isinstance(value, SessionValue):
        return f"{column} = {SESSION_SQL[value]}"
    if isinstance(value, tuple):
        return f"{column} IN ({', '.join(sql_literal(v) for v in value)})"
    return f"{column} = {sql_literal(value)}"


def describe_match(match: RowMatch) -> str:
    value = match.value
    if value is None:
        return f"{match.column} IS NULL"
    if value is SessionValue.OVERSEEN_USER_IDS:
        return f"{match.column} IN <current user and everyone under them> (system: all)"
    if isinstance(value, SessionValue):
        return f"{match.column} = <current {value.value}>"
    if isinstance(value, tuple):
        return f"{match.column} IN ({', '.join(sql_literal(v) for v in value)})"
    return f"{match.column} = {sql_literal(value)}"


def _column_type(column: Column) -> type | None:
    """The Python type a rule may compare the column with; None: not comparable."""
    if isinstance(column, JSON):
        return None
    value_type = column.value_type
    return value_type if value_type in (str, int, bool) else None


def _value_problems(where: str, column: Column, value: object) -> list[str]:
    wanted = _column_type(column)
    kind = type(column).__name__
    if wanted is None:
        return [f"{where}: a rule cannot compare a {kind} column"]
    if value is None:
        return [] if column._meta.null else [f"{where}: the column is never NULL"]
    if isinstance(value, SessionValue):
        if SESSION_TYPES[value] is not wanted:
            return [f"{where}: the current {value.value} cannot be compared with a {kind} column"]
        return []
    values = value if isinstance(value, tuple) else (value,)
    if not values:
        return [f"{where}: an empty tuple matches no row"]
    problems = []
    for item in values:
        # bool is an int in Python, not in PostgreSQL: compare the exact type.
        if type(item) is not wanted:
            problems.append(f"{where}: {item!r} is no {wanted.__name__} for a {kind} column")
        elif isinstance(item, str) and "\x00" in item:
            problems.append(f"{where}: a literal may not contain NUL")
    return problems


def rule_problems(rule: AccessRule, plugin: str, tables: Mapping[str, type[Table]]) -> list[str]:
    """What is wrong with one rule of ``plugin``, each problem naming the rule."""
    label = f"{plugin}: rule {rule.name!r}"
    problems = []
    if not RULE_NAME.match(rule.name):
        problems.append(f"{label}: the name must look like '<plugin>.<rule>' in lower case")
    elif rule.name.split(".")[0] != plugin:
        problems.append(f"{label}: the name must start with '{plugin}.'")
    if len(policy_name(rule.name)) > MAX_IDENTIFIER:
        problems.append(
            f"{label}: the policy name {policy_name(rule.name)!r} is longer than"
            f" {MAX_IDENTIFIER} characters; shorten the rule name"
        )
    if not rule.title or not rule.title_en:
        problems.append(f"{label}: give a Chinese and an English title")
    own_prefix = f"{plugin}_"
    if not rule.table.startswith(own_prefix):
        problems.append(
            f"{label}: table {rule.table!r} is not one of the plugin's own ({own_prefix}*);"
            " a plugin restricts only its own tables"
        )
        return problems
    table = tables.get(rule.table)
    if table is None:
        problems.append(f"{label}: unknown table {rule.table!r}")
        return problems
    columns = {c._meta.db_column_name: c for c in table._meta.columns}
    if "branch_id" not in columns:
        problems.append(
            f"{label}: table {rule.table!r} has no branch_id, so no row-level security to narrow"
        )
    if not rule.any_of:
        problems.append(f"{label}: no match given; the rule would hide every row")
    for match in rule.any_of:
        column = columns.get(match.column)
        if column is None:
            problems.append(f"{label}: table {rule.table!r} has no column {match.column!r}")
            continue
        problems.extend(_value_problems(f"{label}: {match.column}", column, match.value))
    return problems


def declared_rules(registry: PluginRegistry, tables: Iterable[type[Table]]) -> list[DeclaredRule]:
    """Every active plugin's rules, checked against ``tables``; raises
    :class:`AccessRuleError` listing every problem at once."""
    by_name = {table._meta.tablename: table for table in tables}
    declared: list[DeclaredRule] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for plugin, rules in registry.call_each("register_access_rules"):
        for rule in rules or ():
            if not isinstance(rule, AccessRule):
                problems.append(f"{plugin}: {rule!r} is no bankcrm.plugin_api.AccessRule")
                continue
            problems.extend(rule_problems(rule, plugin, by_name))
            if rule.name in seen:
                problems.append(f"{plugin}: rule {rule.name!r} is declared twice")
            seen[rule.name] = plugin
            declared.append(DeclaredRule(rule, plugin))
    if problems:
        raise AccessRuleError(problems)
    return declared


def rule_statements(rule: DeclaredRule) -> list[str]:
    """Replace the rule's policy; idempotent."""
    table = quote_ident(rule.table)
    policy = quote_ident(rule.policy)
    condition = rule.condition()
    return [
        f"DROP POLICY IF EXISTS {policy} ON {table}",
        f"CREATE POLICY {policy} ON {table} AS RESTRICTIVE FOR ALL"
        f" USING ({condition}) WITH CHECK ({condition})",
        f"COMMENT ON POLICY {policy} ON {table} IS {sql_literal(rule.describe())}",
    ]


async def rule_policies(connection: asyncpg.Connection) -> set[tuple[str, str]]:
    """(table, policy) of every rule policy in the database."""
    rows = await connection.fetch(
        "SELECT tablename, policyname FROM pg_policies"
        " WHERE schemaname = 'public' AND permissive = 'RESTRICTIVE'"
        " AND starts_with(policyname, $1)",
        POLICY_PREFIX,
    )
    return {(row["tablename"], row["policyname"]) for row in rows}


async def apply_rules(
    owner: asyncpg.Connection, rules: Sequence[DeclaredRule], tables: Iterable[str]
) -> list[str]:
    """Create or replace every rule's policy and drop the rule policies on ``tables`` (the
    loaded plugins' tables) that no rule declares any more; answers the dropped ones.

    A rule policy on a table of a plugin that is not loaded is left in place: removing a
    plugin from ``BANKCRM_PLUGINS`` must not widen what its tables show.
    """
    loaded = set(tables)
    wanted = {(rule.table, rule.policy) for rule in rules}
    dropped = []
    for table, policy in sorted(await rule_policies(owner)):
        if table in loaded and (table, policy) not in wanted:
            await owner.execute(f"DROP POLICY {quote_ident(policy)} ON {quote_ident(table)}")
            dropped.append(f"{table}.{policy}")
    for rule in rules:
        for statement in rule_statements(rule):
            await owner.execute(statement)
    return dropped


async def missing_rule_policies(
    connection: asyncpg.Connection, rules: Sequence[DeclaredRule]
) -> list[str]:
    present = await rule_policies(connection)
    return [
        f"{rule.table}: access rule {rule.name!r} not applied (run `bankcrm migrate`)"
        for rule in rules
        if (rule.table, rule.policy) not in present
    ]
