"""The scope on pooled connections: applied on every checkout, never inherited."""

from __future__ import annotations

import asyncpg

from bankcrm.context import bind_scope
from bankcrm.db import apply_scope, keep_session_state
from bankcrm_sdk.world import World

SETTING = "SELECT current_setting('bankcrm.branch_ids', true)"


async def test_one_pooled_session_never_keeps_a_previous_scope(world: World) -> None:
    pool = await asyncpg.create_pool(
        world.kernel.app_url, min_size=1, max_size=1, setup=apply_scope, reset=keep_session_state
    )
    try:
        bj, sh = await world.scope_of("BJ"), await world.scope_of("SH")
        seen = []
        for scope in (bj, bj, None, sh, None, bj):
            with bind_scope(scope):
                async with pool.acquire() as connection:
                    seen.append(await connection.fetchval(SETTING))
                    visible = await connection.fetchval(
                        "SELECT count(*) FROM bankcrm_branch"
                        " WHERE id = ANY (bankcrm_scope_branch_ids())"
                    )
                    assert visible == (len(scope.branch_ids) if scope else 0)
        as_text = [",".join(map(str, sorted(s.branch_ids))) for s in (bj, sh)]
        assert seen == [as_text[0], as_text[0], "", as_text[1], "", as_text[0]]
    finally:
        await pool.close()


async def test_a_rolled_back_transaction_does_not_confuse_the_scope(world: World) -> None:
    pool = await asyncpg.create_pool(
        world.kernel.app_url, min_size=1, max_size=1, setup=apply_scope, reset=keep_session_state
    )
    try:
        with bind_scope(await world.scope_of("BJ")):
            async with pool.acquire() as connection:
                transaction = connection.transaction()
                await transaction.start()
                await connection.execute("SELECT set_config('statement_timeout', '5s', true)")
                await transaction.rollback()
        async with pool.acquire() as connection:
            assert await connection.fetchval(SETTING) == ""
    finally:
        await pool.close()
