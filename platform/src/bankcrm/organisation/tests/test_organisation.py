"""Employees, teams, the manager tree and leave: REST, services and invariants."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import httpx
import pytest

from bankcrm import db
from bankcrm.context import bind_scope
from bankcrm.organisation import service
from bankcrm_sdk.world import World


async def employee_id(world: World, number: str) -> int:
    with bind_scope(world.system_scope()):
        return int(
            await db.fetchval("SELECT id FROM bankcrm_employee WHERE employee_no = $1", number)
        )


async def create(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await client.post("/api/v1/employees", json=fields)


async def test_a_branch_manager_adds_an_employee_under_them(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    boss = await employee_id(world, "E1001")
    team = await manager.post(
        "/api/v1/teams", json={"branch_id": world.branch("BJ-HD"), "code": "T1", "name": "财富一组"}
    )
    assert team.status_code == 201, team.text
    created = await create(
        manager,
        branch_id=world.branch("BJ-HD"),
        employee_no="E1102",
        name="赵敏",
        team_id=team.json()["id"],
        manager_id=boss,
        products=["wealth"],
        languages=["zh"],
        capacity=40,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["manager_id"] == boss
    assert body["on_leave"] is False

    reports = await manager.get(f"/api/v1/employees/{boss}/reports")
    assert reports.status_code == 200, reports.text
    under = {(r["depth"], r["employee"]["employee_no"]) for r in reports.json()["reports"]}
    assert {(1, "E1101"), (1, "E1102")} <= under
    direct = await manager.get(f"/api/v1/employees/{body['id']}/manager")
    assert direct.json()["employee_no"] == "E1001"

    audit = await manager.get(
        "/api/v1/audit", params={"entity": "bankcrm.employee", "entity_id": str(body["id"])}
    )
    assert [e["action"] for e in audit.json()["items"]] == ["create"]


async def test_bad_employees_are_refused_with_the_field(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    base = {"branch_id": world.branch("BJ-HD"), "employee_no": "E1199", "name": "钱"}
    cases = [
        ({"capacity": -1}, "/body/capacity"),
        ({"manager_id": 999_999}, "/body/manager_id"),
        ({"team_id": 999_999}, "/body/team_id"),
        ({"branch_id": world.branch("SH")}, "/body/branch_id"),
        ({"user_id": world.users["demo.sh.rm"]}, "/body/user_id"),
        ({"email": "not an address"}, "/body/email"),
        ({"surprise": 1}, "/body/surprise"),
    ]
    for change, field in cases:
        response = await create(manager, **{**base, **change})
        assert response.status_code in (400, 422), (change, response.text)
        errors = response.json()["errors"]
        assert any(e["field"].startswith(field) for e in errors), (change, errors)
    duplicate = await create(manager, **{**base, "employee_no": "E1101"})
    assert duplicate.status_code == 409, duplicate.text
    with bind_scope(world.system_scope()):
        assert await db.fetchval("SELECT count(*) FROM bankcrm_employee WHERE name = '钱'") == 0


async def test_a_manager_chain_never_loops(world: World) -> None:
    admin = await world.client("demo.admin")
    top = await employee_id(world, "E0001")
    rm = await employee_id(world, "E1101")
    looped = await admin.patch(f"/api/v1/employees/{top}", json={"manager_id": rm})
    assert looped.status_code == 422, looped.text
    assert looped.json()["type"].endswith("/manager_cycle")
    own = await admin.patch(f"/api/v1/employees/{rm}", json={"manager_id": rm})
    assert own.status_code == 422


async def test_two_writers_cannot_close_a_cycle_between_them(world: World) -> None:
    """A → B and B → A at the same moment: the trigger's lock serialises them."""
    first = await employee_id(world, "E2101")
    second = await employee_id(world, "E2201")
    with bind_scope(world.system_scope()):
        await db.fetch(
            "UPDATE bankcrm_employee SET manager_id = NULL WHERE id = ANY($1)", [first, second]
        )

    async def point(who: int, at: int) -> str:
        with bind_scope(world.system_scope()):
            try:
                async with db.transaction():
                    await db.fetch(
                        "UPDATE bankcrm_employee SET manager_id = $2 WHERE id = $1", who, at
                    )
                    await asyncio.sleep(0.2)
                return "ok"
            except asyncpg.CheckViolationError:
                return "refused"

    outcomes = await asyncio.gather(point(first, second), point(second, first))
    assert sorted(outcomes) == ["ok", "refused"]


async def test_leave_cannot_overlap_and_marks_the_employee_away(world: World) -> None:
    manager = await world.client("demo.sh.manager")
    rm = await employee_id(world, "E2101")
    today = date.today()
    leave = await manager.post(
        f"/api/v1/employees/{rm}/leave",
        json={"starts": str(today), "ends": str(today), "reason": "年假"},
    )
    assert leave.status_code == 201, leave.text
    overlapping = await manager.post(
        f"/api/v1/employees/{rm}/leave", json={"starts": str(today), "ends": str(today)}
    )
    assert overlapping.status_code == 409
    assert overlapping.json()["type"].endswith("/leave_overlaps")
    backwards = await manager.post(
        f"/api/v1/employees/{rm}/leave",
        json={"starts": "2030-01-02", "ends": "2030-01-01"},
    )
    assert backwards.status_code == 422
    assert (await manager.get(f"/api/v1/employees/{rm}")).json()["on_leave"] is True
    removed = await manager.delete(f"/api/v1/employees/{rm}/leave/{leave.json()['id']}")
    assert removed.status_code == 204
    assert (await manager.get(f"/api/v1/employees/{rm}")).json()["on_leave"] is False


async def test_another_branch_sees_nothing(world: World) -> None:
    shanghai = await world.client("demo.sh.manager")
    beijing_rm = await employee_id(world, "E1101")
    for path in ("", "/manager", "/reports", "/leave"):
        response = await shanghai.get(f"/api/v1/employees/{beijing_rm}{path}")
        assert response.status_code == 404, (path, response.text)
    patched = await shanghai.patch(f"/api/v1/employees/{beijing_rm}", json={"capacity": 1})
    assert patched.status_code == 404
    listed = await shanghai.get("/api/v1/employees", params={"limit": 200})
    assert "E1101" not in {e["employee_no"] for e in listed.json()["items"]}
    teller = await world.client("demo.teller")
    refused = await create(teller, branch_id=world.branch("SH-XH"), employee_no="X", name="X")
    assert refused.status_code == 403


async def test_escalation_goes_to_the_manager_else_the_branch_manager(world: World) -> None:
    with bind_scope(world.system_scope()):
        assert (
            await service.escalation_user(world.users["demo.bj.rm"], world.branch("BJ-HD"))
            == world.users["demo.bj.manager"]
        )
        rm = await employee_id(world, "E1101")
        await db.fetch("UPDATE bankcrm_employee SET manager_id = NULL WHERE id = $1", rm)
        # No manager on record: the manager of the nearest branch above that has one.
        assert (
            await service.escalation_user(world.users["demo.bj.rm"], world.branch("BJ-HD"))
            == world.users["demo.bj.manager"]
        )


@pytest.mark.parametrize("active", [True, False])
async def test_the_list_filters_and_pages(world: World, active: bool) -> None:
    admin = await world.client("demo.admin")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2, "active": str(active).lower()}
        if cursor:
            params["cursor"] = cursor
        page = (await admin.get("/api/v1/employees", params=params)).json()
        seen += [e["employee_no"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert (len(seen) == 7) is active
    assert len(seen) == len(set(seen))
