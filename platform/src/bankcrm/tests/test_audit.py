"""The hash-chained audit trail: written with the change, tamper-evident, append-only."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bankcrm import audit, db
from bankcrm.context import bind_scope
from bankcrm_sdk.world import World


async def _write_some(world: World, count: int = 5) -> None:
    with bind_scope(world.system_scope()):
        for index in range(count):
            async with db.transaction():
                await audit.record(
                    audit.Action.UPDATE,
                    "test.thing",
                    index,
                    branch_id=world.branch("BJ"),
                    before={"value": index},
                    after={"value": index + 1, "名称": "北京"},
                )


async def _verify(world: World) -> audit.VerifyResult:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return await audit.verify(owner)
    finally:
        await owner.close()


async def _rows_before(world: World) -> int:
    """Rows the world's setup wrote (the creation of the declared roles)."""
    return (await _verify(world)).rows


async def test_chain_verifies(world: World) -> None:
    before = await _rows_before(world)
    await _write_some(world)
    result = await _verify(world)
    assert result.ok, result.problems
    assert result.rows == before + 5


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE bankcrm_audit SET after = '{\"value\": 99}' WHERE id = 3", "row 3: contents"),
        ("UPDATE bankcrm_audit SET actor = 'user:999' WHERE id = 2", "row 2: contents"),
        ("DELETE FROM bankcrm_audit WHERE id = 3", "row 3 is missing"),
        ("DELETE FROM bankcrm_audit_seal WHERE seal_no = 3", "seals 3..3 are missing"),
        (
            "UPDATE bankcrm_audit_seal SET content_hash = repeat('a', 64) WHERE seal_no = 2",
            "seal 2: changed",
        ),
        (
            "DELETE FROM bankcrm_audit_seal WHERE seal_no = (SELECT max(seal_no)"
            " FROM bankcrm_audit_seal)",
            "latest seals",
        ),
        (
            "INSERT INTO bankcrm_audit (id, actor, action, entity, entity_id)"
            " VALUES (999999, 'x', 'x', 'x', 'x')",
            "row 999999 is outside the chain",
        ),
    ],
)
async def test_verify_detects_tampering(world: World, tamper: str, expected: str) -> None:
    await _write_some(world)
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        assert await audit.seal(owner) == await owner.fetchval("SELECT count(*) FROM bankcrm_audit")
        await owner.execute(tamper)
    finally:
        await owner.close()
    result = await _verify(world)
    assert not result.ok
    assert any(expected in problem for problem in result.problems), result.problems


async def test_a_row_changed_before_it_is_sealed_is_caught(world: World) -> None:
    await _write_some(world, 2)
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        unsealed = await owner.fetchval("SELECT max(id) FROM bankcrm_audit_unsealed")
        await owner.execute("UPDATE bankcrm_audit SET reason = 'x' WHERE id = $1", unsealed)
        result = await audit.verify(owner, seal_first=False)
        assert f"row {unsealed}: contents changed" in " ".join(result.problems)
        # Sealing does not launder it: the seal keeps the hash taken at append.
        result = await audit.verify(owner)
        assert f"row {unsealed}: contents changed" in " ".join(result.problems)
    finally:
        await owner.close()


async def test_concurrent_writers_do_not_wait_for_each_other(world: World) -> None:
    """Two open transactions both append; the second does not queue behind the first (it
    did when appending locked the chain's head until commit)."""
    first_wrote = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        with bind_scope(world.system_scope()):
            async with db.transaction():
                await audit.record(audit.Action.VIEW, "test.thing", 1, branch_id=None)
                first_wrote.set()
                await release.wait()

    async def second() -> None:
        await first_wrote.wait()
        with bind_scope(world.system_scope()):
            async with db.transaction():
                await audit.record(audit.Action.VIEW, "test.thing", 2, branch_id=None)

    holder = asyncio.create_task(first())
    try:
        await asyncio.wait_for(second(), timeout=5)
        # A seal now chains the second row; the first is not committed yet.
        with bind_scope(world.system_scope()):
            async with db.transaction():
                assert await audit.seal() >= 1
    finally:
        release.set()
        await holder
    result = await _verify(world)
    assert result.ok, result.problems
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        # Sealed in the order they committed: the second before the first.
        order = await owner.fetch(
            "SELECT a.entity_id FROM bankcrm_audit_seal s JOIN bankcrm_audit a"
            " ON a.id = s.audit_id WHERE a.entity = 'test.thing' ORDER BY s.seal_no"
        )
    finally:
        await owner.close()
    assert [r["entity_id"] for r in order] == ["2", "1"]


async def test_audit_row_rolls_back_with_the_change(world: World) -> None:
    with bind_scope(world.system_scope()):
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await audit.record(
                    audit.Action.CREATE,
                    "test.thing",
                    1,
                    branch_id=world.branch("SH"),
                    after={"x": 1},
                )
                raise RuntimeError("the write fails after auditing")
        assert await db.fetchval("SELECT count(*) FROM bankcrm_audit") == 0
    assert (await _verify(world)).ok


async def test_app_role_cannot_change_or_delete_audit_rows(world: World) -> None:
    await _write_some(world, 1)
    with bind_scope(world.system_scope()):
        for statement in (
            "UPDATE bankcrm_audit SET actor = 'x'",
            "DELETE FROM bankcrm_audit",
            "INSERT INTO bankcrm_audit (id, actor, action, entity, entity_id)"
            " VALUES (100, 'x', 'x', 'x', 'x')",
            "DELETE FROM bankcrm_audit_seal",
            "UPDATE bankcrm_audit_head SET last_id = 0",
            "DELETE FROM bankcrm_audit_unsealed",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await db.fetch(statement)


async def test_audit_outside_scope_is_refused(world: World) -> None:
    with bind_scope(await world.scope_of("BJ")), pytest.raises(asyncpg.InsufficientPrivilegeError):
        await audit.record(audit.Action.VIEW, "test.thing", 1, branch_id=world.branch("SH"))


async def test_audit_is_visible_by_branch(world: World) -> None:
    with bind_scope(world.system_scope()):
        await audit.record(audit.Action.VIEW, "test.thing", 1, branch_id=world.branch("BJ-HD"))
        await audit.record(audit.Action.VIEW, "test.thing", 2, branch_id=world.branch("SH-PD"))
    bj = await world.client("demo.bj.manager")
    listed = (await bj.get("/api/v1/audit", params={"entity": "test.thing"})).json()["items"]
    assert [item["entity_id"] for item in listed] == ["1"]
    hq = await world.client("demo.auditor")
    listed = (await hq.get("/api/v1/audit", params={"entity": "test.thing"})).json()["items"]
    assert sorted(item["entity_id"] for item in listed) == ["1", "2"]


async def test_audit_verify_cli(world: World, tmp_path: object) -> None:
    import os
    import subprocess
    import sys

    before = await _rows_before(world)
    await _write_some(world, 2)
    env = dict(os.environ, BANKCRM_DATABASE_URL=world.kernel.owner_url, BANKCRM_CLI_NO_PLUGINS="1")
    ok = subprocess.run(
        [sys.executable, "-m", "bankcrm", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert f"{before + 2} rows" in ok.stdout
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute("UPDATE bankcrm_audit SET reason = 'edited' WHERE id = 1")
    finally:
        await owner.close()
    tampered = subprocess.run(
        [sys.executable, "-m", "bankcrm", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tampered.returncode == 1
    assert "TAMPERED: row 1" in tampered.stderr
