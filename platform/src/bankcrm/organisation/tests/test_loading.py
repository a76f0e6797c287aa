"""Loading employees from a file: checked row by row, then all written or none."""

from __future__ import annotations

import io

import httpx
from openpyxl import Workbook

from bankcrm import db
from bankcrm.context import bind_scope
from bankcrm_sdk.world import World

GOOD = (
    "工号,姓名,机构代码,团队,直属上级,用户名,岗位,擅长产品,最大任务数,在职,备注\n"
    # The manager of the first row is created by the second: order does not matter.
    "E1201,孙丽,BJ-HD,财富一组,E1200,,客户经理,deposit、wealth,30,在职,新人\n"
    "E1200,周强,BJ-HD,财富一组,E1001,,团队长,wealth,10,在职,\n"
    "E1101,李海,BJ-HD,财富一组,E1200,demo.bj.rm,高级客户经理,deposit,60,在职,\n"
)


async def load(
    client: httpx.AsyncClient, content: bytes, mode: str = "preview", name: str = "员工.csv"
) -> httpx.Response:
    return await client.post(
        "/api/v1/employees/load", files={"file": (name, content)}, data={"mode": mode}
    )


async def count(world: World) -> int:
    with bind_scope(world.system_scope()):
        return int(await db.fetchval("SELECT count(*) FROM bankcrm_employee"))


async def test_a_preview_writes_nothing_and_a_commit_writes_everything(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    before = await count(world)
    preview = await load(manager, GOOD.encode("gb18030"))
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert report["errors"] == []
    assert not report["committed"]
    assert (report["rows"], report["created"], report["updated"]) == (3, 2, 1)
    assert report["unknown_columns"] == ["备注"]
    assert await count(world) == before

    committed = await load(manager, GOOD.encode("utf-8-sig"), "commit")
    assert committed.status_code == 200, committed.text
    assert committed.json()["committed"]
    assert committed.json()["teams_created"] == ["财富一组"]
    assert await count(world) == before + 2
    with bind_scope(world.system_scope()):
        rows = await db.fetch(
            "SELECT e.employee_no, m.employee_no AS manager, e.products, e.capacity, t.name"
            " FROM bankcrm_employee e LEFT JOIN bankcrm_employee m ON m.id = e.manager_id"
            " LEFT JOIN bankcrm_team t ON t.id = e.team_id WHERE e.employee_no LIKE 'E12%'"
            " OR e.employee_no = 'E1101' ORDER BY e.employee_no"
        )
    assert [(r[0], r[1], list(r[2]), r[3], r[4]) for r in rows] == [
        ("E1101", "E1200", ["deposit"], 60, "财富一组"),
        ("E1200", "E1001", ["wealth"], 10, "财富一组"),
        ("E1201", "E1200", ["deposit", "wealth"], 30, "财富一组"),
    ]


async def test_every_bad_row_is_named_and_a_commit_writes_none(world: World) -> None:
    manager = await world.client("demo.bj.manager")
    before = await count(world)
    bad = (
        "employee_no,name,branch,manager,username,capacity,active\n"
        "E1301,甲,BJ-HD,E1399,,5,true\n"  # unknown manager
        "E1302,,BJ-HD,,,5,true\n"  # no name
        "E1303,丙,SH-PD,,,5,true\n"  # outside the uploader's branches
        "E1304,丁,BJ-HD,,nobody,-2,maybe\n"  # unknown user, negative capacity, bad flag
        "E1305,戊,BJ-HD,E1306,,1,true\n"  # a cycle within the file
        "E1306,己,BJ-HD,E1305,,1,true\n"
        "E1301,庚,BJ-HD,,,1,true\n"  # number twice
    )
    preview = await load(manager, bad.encode())
    assert preview.status_code == 200, preview.text
    found = {(e["row"], e["column"]) for e in preview.json()["errors"]}
    assert {
        (2, "manager"),
        (3, "name"),
        (4, "branch"),
        (5, "username"),
        (5, "capacity"),
        (5, "active"),
        (6, "manager"),
        (8, "employee_no"),
    } <= found
    refused = await load(manager, bad.encode(), "commit")
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"].endswith("/load_refused")
    assert any(
        e["field"] == "/body/file" and e["message"].startswith("row 2, column manager: ")
        for e in body["errors"]
    )
    assert await count(world) == before


async def test_an_xlsx_file_loads_and_a_broken_one_is_refused(world: World) -> None:
    manager = await world.client("demo.sh.manager")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工号", "姓名", "所属机构", "直属上级", "工作语言"])
    sheet.append(["E2301", "钱塘", "SH-PD", "E2001", "zh/en"])
    buffer = io.BytesIO()
    book.save(buffer)
    committed = await load(manager, buffer.getvalue(), "commit", "员工.xlsx")
    assert committed.status_code == 200, committed.text
    assert committed.json()["created"] == 1

    missing = await load(manager, "工号,职位\nE1,x\n".encode())
    assert missing.status_code == 422
    assert "姓名" in missing.json()["detail"]
    junk = await load(manager, b"PK\x03\x04not a zip", name="x.xlsx")
    assert junk.status_code == 422
    mode = await load(manager, GOOD.encode(), "apply")
    assert mode.status_code == 422
    assert mode.json()["errors"][0]["field"] == "/body/mode"
