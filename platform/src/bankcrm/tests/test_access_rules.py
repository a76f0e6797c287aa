"""Declared row rules: checked against the tables, compiled into restrictive policies that
hold for reads and writes, replaced idempotently, dropped when no longer declared, and
missed at boot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from piccolo.columns import JSONB, BigInt, Boolean, Varchar
from piccolo.table import Table

from bankcrm import db, kernel_plugin
from bankcrm.access_rules import (
    AccessRuleError,
    DeclaredRule,
    apply_rules,
    declared_rules,
    missing_rule_policies,
    rule_statements,
)
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import CURRENT_ACTOR, CURRENT_USER_ID, AccessRule, RowMatch
from bankcrm.plugins import PluginRegistry, build_registry
from bankcrm.runtime import Kernel
from bankcrm.sql import policy_statements
from bankcrm_sdk.plugins import make_plugin


class Note(Table, tablename="loans_note"):
    branch_id = BigInt()
    kind = Varchar(length=16)
    owner_actor = Varchar(length=64)
    owner = BigInt(null=True)
    pinned = Boolean(default=False)
    body = JSONB(default="{}")


class Catalogue(Table, tablename="loans_catalogue"):
    name = Varchar(length=50)


TABLES = [Note, Catalogue]

PRIVATE_NOTES = AccessRule(
    "loans.note_owner",
    "loans_note",
    "私人备注仅本人可见",
    "Private notes are their owner's",
    any_of=(RowMatch("kind", "shared"), RowMatch("owner_actor", CURRENT_ACTOR)),
)


def registry_with(rules: Sequence[object], name: str = "loans") -> PluginRegistry:
    candidate = make_plugin(name, hooks={"register_access_rules": lambda: list(rules)})
    return build_registry([candidate], kernel_plugin=kernel_plugin)


def problems_of(*rules: object) -> list[str]:
    with pytest.raises(AccessRuleError) as raised:
        declared_rules(registry_with(rules), TABLES)
    return raised.value.problems


def rule(*matches: RowMatch, table: str = "loans_note", name: str = "loans.r") -> AccessRule:
    return AccessRule(name, table, "规则", "Rule", any_of=matches)


def test_a_valid_rule_compiles_to_a_restrictive_policy_for_reads_and_writes() -> None:
    [declared] = declared_rules(registry_with([PRIVATE_NOTES]), TABLES)
    assert declared.declared_by == "loans"
    assert declared.policy == "bankcrm_rule_loans_note_owner"
    assert declared.describe() == "kind = 'shared' OR owner_actor = <current actor>"
    drop, create, comment = rule_statements(declared)
    assert drop == 'DROP POLICY IF EXISTS "bankcrm_rule_loans_note_owner" ON "loans_note"'
    condition = (
        "(\"kind\" = 'shared') OR (\"owner_actor\" = nullif(current_setting('bankcrm.actor',"
        " true), ''))"
    )
    assert create == (
        'CREATE POLICY "bankcrm_rule_loans_note_owner" ON "loans_note" AS RESTRICTIVE FOR ALL'
        f" USING ({condition}) WITH CHECK ({condition})"
    )
    assert comment.endswith("IS 'kind = ''shared'' OR owner_actor = <current actor>'")


def test_unknown_tables_and_columns_are_refused_naming_the_rule() -> None:
    assert problems_of(rule(RowMatch("kind", "x"), table="loans_missing")) == [
        "loans: rule 'loans.r': unknown table 'loans_missing'"
    ]
    assert problems_of(rule(RowMatch("colour", "x"))) == [
        "loans: rule 'loans.r': table 'loans_note' has no column 'colour'"
    ]


def test_other_plugins_tables_global_tables_and_bad_names_are_refused() -> None:
    assert problems_of(rule(RowMatch("name", "x"), table="treasury_deal")) == [
        "loans: rule 'loans.r': table 'treasury_deal' is not one of the plugin's"
        " own (loans_*); a plugin restricts only its own tables"
    ]
    assert problems_of(rule(RowMatch("name", "x"), table="loans_catalogue")) == [
        "loans: rule 'loans.r': table 'loans_catalogue' has no branch_id, so no row-level"
        " security to narrow"
    ]
    assert problems_of(rule(RowMatch("kind", "x"), name="orders.r")) == [
        "loans: rule 'orders.r': the name must start with 'loans.'"
    ]
    assert problems_of(rule(RowMatch("kind", "x"), name="NoDot")) == [
        "loans: rule 'NoDot': the name must look like '<plugin>.<rule>' in lower case"
    ]
    long_name = "loans." + "x" * 60
    assert any(
        "longer than 63" in p for p in problems_of(rule(RowMatch("kind", "x"), name=long_name))
    )
    assert problems_of(rule()) == [
        "loans: rule 'loans.r': no match given; the rule would hide every row"
    ]
    assert problems_of(rule(RowMatch("kind", "x")), rule(RowMatch("kind", "y"))) == [
        "loans: rule 'loans.r' is declared twice"
    ]
    assert problems_of("not a rule") == ["loans: 'not a rule' is no bankcrm.plugin_api.AccessRule"]


def test_values_must_fit_the_column() -> None:
    assert problems_of(
        rule(
            RowMatch("kind", 3),
            RowMatch("owner", CURRENT_ACTOR),
            RowMatch("owner_actor", CURRENT_USER_ID),
            RowMatch("pinned", 1),
            RowMatch("owner", True),
            RowMatch("kind", None),
            RowMatch("body", "x"),
            RowMatch("kind", ()),
        )
    ) == [
        "loans: rule 'loans.r': kind: 3 is no str for a Varchar column",
        "loans: rule 'loans.r': owner: the current actor cannot be compared with a BigInt column",
        "loans: rule 'loans.r': owner_actor: the current user_id cannot be compared with a"
        " Varchar column",
        "loans: rule 'loans.r': pinned: 1 is no bool for a Boolean column",
        "loans: rule 'loans.r': owner: True is no int for a BigInt column",
        "loans: rule 'loans.r': kind: the column is never NULL",
        "loans: rule 'loans.r': body: a rule cannot compare a JSONB column",
        "loans: rule 'loans.r': kind: an empty tuple matches no row",
    ]
    fine = rule(
        RowMatch("owner", CURRENT_USER_ID),
        RowMatch("owner", None),
        RowMatch("pinned", True),
        RowMatch("kind", ("a", "it's")),
    )
    [declared] = declared_rules(registry_with([fine]), TABLES)
    assert declared.condition() == (
        "(\"owner\" = CASE WHEN current_setting('bankcrm.actor', true) ~ '^user:[0-9]+$'"
        " THEN substr(current_setting('bankcrm.actor', true), 6)::bigint END)"
        " OR (\"owner\" IS NULL) OR (\"pinned\" = true) OR (\"kind\" IN ('a', 'it''s'))"
    )


# --- in the database ----------------------------------------------------------------------

BRANCH = 1


@pytest.fixture
async def owner(kernel: Kernel) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(kernel.owner_url)
    role = db.quote_ident(kernel.settings.app_role)
    await connection.execute(
        "DROP TABLE IF EXISTS loans_note;"
        "CREATE TABLE loans_note (id bigserial PRIMARY KEY, branch_id bigint NOT NULL,"
        " kind varchar(16) NOT NULL, owner_actor varchar(64) NOT NULL, owner bigint,"
        " pinned boolean NOT NULL DEFAULT false, body jsonb NOT NULL DEFAULT '{}');"
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON loans_note TO {role};"
        f"GRANT USAGE ON SEQUENCE loans_note_id_seq TO {role}"
    )
    for statement in policy_statements("loans_note"):
        await connection.execute(statement)
    try:
        yield connection
    finally:
        await connection.execute("DROP TABLE loans_note")
        await connection.close()


def user(user_id: int) -> Scope:
    return Scope(actor=f"user:{user_id}", branch_ids=frozenset({BRANCH}), user_id=user_id)


async def insert(kind: str, owner_actor: str) -> int:
    note_id: int = await db.fetchval(
        "INSERT INTO loans_note (branch_id, kind, owner_actor) VALUES ($1, $2, $3) RETURNING id",
        BRANCH,
        kind,
        owner_actor,
    )
    return note_id


async def visible() -> set[int]:
    return {r["id"] for r in await db.fetch("SELECT id FROM loans_note")}


async def test_a_rule_hides_and_protects_rows_of_another_user_in_the_same_branch(
    owner: asyncpg.Connection,
) -> None:
    rules = declared_rules(registry_with([PRIVATE_NOTES]), TABLES)
    assert await missing_rule_policies(owner, rules) == [
        "loans_note: access rule 'loans.note_owner' not applied (run `bankcrm migrate`)"
    ]
    await apply_rules(owner, rules, ["loans_note"])
    await apply_rules(owner, rules, ["loans_note"])  # idempotent
    assert await missing_rule_policies(owner, rules) == []

    with bind_scope(user(1)):
        mine = await insert("private", "user:1")
        shared = await insert("shared", "user:1")
    with bind_scope(user(2)):
        assert await visible() == {shared}
        assert (
            await db.fetch("UPDATE loans_note SET kind = kind WHERE id = $1 RETURNING id", mine)
            == []
        )
        assert await db.fetch("DELETE FROM loans_note WHERE id = $1 RETURNING id", mine) == []
        # Nor can a row be written that its writer could not see, nor handed to another.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await insert("private", "user:1")
        theirs = await insert("private", "user:2")
    with bind_scope(user(1)):
        assert await visible() == {mine, shared}
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.fetch(
                "UPDATE loans_note SET kind = 'private', owner_actor = 'user:2' WHERE id = $1",
                shared,
            )
    with bind_scope(user(2)):
        assert await visible() == {shared, theirs}

    # A rule no longer declared loses its policy: the table shows what the branch allows.
    assert await apply_rules(owner, [], ["loans_note"]) == [
        "loans_note.bankcrm_rule_loans_note_owner"
    ]
    with bind_scope(user(2)):
        assert await visible() == {mine, shared, theirs}


async def test_rules_on_tables_of_plugins_not_loaded_are_kept(owner: asyncpg.Connection) -> None:
    rules: list[DeclaredRule] = declared_rules(registry_with([PRIVATE_NOTES]), TABLES)
    await apply_rules(owner, rules, ["loans_note"])
    assert await apply_rules(owner, [], ["some_other_table"]) == []
    assert await missing_rule_policies(owner, rules) == []
