"""The declared access rules, generated over every rule of every installed plugin and
checked with the demo data (see :mod:`bankcrm_sdk.access_rules`)."""

from __future__ import annotations

import asyncpg
import pytest

from bankcrm import db
from bankcrm.access_rules import apply_rules
from bankcrm.plugin_api import SessionValue
from bankcrm.runtime import load_registry
from bankcrm.settings import get_settings
from bankcrm_sdk.access_rules import access_rule_problems
from bankcrm_sdk.isolation import table_index
from bankcrm_sdk.world import World


def rule_names() -> list[str]:
    from piccolo.conf.apps import Finder

    from bankcrm.access_rules import declared_rules
    from bankcrm.security import registered_tables

    registry = load_registry(get_settings())
    return [
        r.name for r in declared_rules(registry, registered_tables(Finder().get_app_registry()))
    ]


@pytest.mark.parametrize("name", rule_names())
async def test_a_declared_rule_holds_for_every_demo_user(populated_world: World, name: str) -> None:
    [rule] = [r for r in populated_world.kernel.access_rules() if r.name == name]
    keys = {t.name: t.primary_key for t in table_index().bound.values()}
    assert await access_rule_problems(populated_world, [rule], keys) == []


@pytest.mark.parametrize("name", rule_names())
async def test_the_check_notices_a_rule_that_is_not_enforced(
    populated_world: World, name: str
) -> None:
    [rule] = [r for r in populated_world.kernel.access_rules() if r.name == name]
    keys = {t.name: t.primary_key for t in table_index().bound.values()}
    owner = await asyncpg.connect(populated_world.kernel.owner_url)
    try:
        await owner.execute(
            f"DROP POLICY {db.quote_ident(rule.policy)} ON {db.quote_ident(rule.table)}"
        )
        problems = await access_rule_problems(populated_world, [rule], keys)
    finally:
        await apply_rules(owner, [rule], [rule.table])
        await owner.close()
    assert any("sees rows the rule hides" in p for p in problems), problems
    assert any("updated hidden row" in p for p in problems), problems
    assert any("deleted hidden row" in p for p in problems), problems
    if any(isinstance(m.value, SessionValue) for m in rule.rule.any_of):
        assert any("handed row" in p for p in problems), problems


@pytest.mark.parametrize("name", rule_names())
async def test_the_kernel_refuses_to_start_without_a_rules_policy(
    populated_world: World, name: str
) -> None:
    from piccolo.conf.apps import Finder

    from bankcrm.security import SecurityError, verify_security

    kernel = populated_world.kernel
    [rule] = [r for r in kernel.access_rules() if r.name == name]
    registry = Finder().get_app_registry()
    owner = await asyncpg.connect(kernel.owner_url)
    app = await asyncpg.connect(kernel.app_url)
    try:
        await verify_security(app, registry, kernel.access_rules())
        await owner.execute(
            f"DROP POLICY {db.quote_ident(rule.policy)} ON {db.quote_ident(rule.table)}"
        )
        with pytest.raises(SecurityError, match=f"access rule '{name}' not applied"):
            await verify_security(app, registry, kernel.access_rules())
        await apply_rules(owner, [rule], [rule.table])
        await verify_security(app, registry, kernel.access_rules())
    finally:
        # Idempotent: the module's world keeps its rule whatever failed above.
        await apply_rules(owner, [rule], [rule.table])
        await owner.close()
        await app.close()
