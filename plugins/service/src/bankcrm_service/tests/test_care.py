"""Care tasks: the daily job creates each birthday and visit task once, due on a business
day before the birthday (a holiday and a weekend push it back), staff complete or skip
them with a result that reaches the customer's timeline, and branches do not see each
other's tasks."""

from __future__ import annotations

from datetime import date
from typing import Any

from bankcrm import db, jobs
from bankcrm_sdk.world import World
from bankcrm_service import care
from bankcrm_service.actors import generate_care_tasks

CUSTOMERS = "/api/v1/customer_archive/customers"
TASKS = "/api/v1/service/care-tasks"
PLANS = "/api/v1/service/visit-plans"
PROBLEM = "application/problem+json"


def resident_id(serial: int) -> str:
    body = f"11010519800101{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


async def a_customer(client: Any, serial: int, kit: Any, birth: date) -> int:
    response = await client.post(
        CUSTOMERS,
        json={"kind": "individual", "name": "孙关怀", "id_type": "resident_id",
              "id_number": resident_id(serial), "phone": f"1390000{serial:04d}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    customer = int(response.json()["id"])
    await kit.owner_fetch(
        "UPDATE customer_archive_customer SET birth_date = $2 WHERE id = $1", customer, birth
    )
    return customer


async def tasks_of(kit: Any, customer: int) -> list[Any]:
    return await kit.owner_fetch(
        "SELECT kind, occasion_on, due_on, status, branch_id FROM service_care_task"
        " WHERE customer = $1 ORDER BY id",
        customer,
    )


async def test_birthday_due_three_business_days_before_across_new_year(
    world: World, kit: Any
) -> None:
    # Pudong keeps the default hours: for a birthday on Monday 4 January 2027, Friday
    # 1 January is a holiday, then the weekend, so three business days before is Tuesday
    # 29 December (not Wednesday 30).
    customer = await a_customer(await world.client("demo.sh.rm"), 41, kit, date(1980, 1, 4))
    # Beijing opens on Saturday mornings: Saturday 2 January counts there.
    in_beijing = await a_customer(await world.client("demo.bj.rm"), 43, kit, date(1980, 1, 4))
    for _ in range(2):  # a second run creates nothing new
        with world.bind(await world.scope_of("BJ", "SH")):
            made = await care.generate(date(2026, 12, 20))
    assert made.birthday == 0
    rows = await tasks_of(kit, customer)
    assert [(r["kind"], r["occasion_on"], r["due_on"]) for r in rows] == [
        ("birthday", date(2027, 1, 4), date(2026, 12, 29))
    ]
    assert rows[0]["branch_id"] == world.branch("SH-PD")
    assert [r["due_on"] for r in await tasks_of(kit, in_beijing)] == [date(2026, 12, 30)]


async def test_the_daily_job_is_idempotent(world: World, kit: Any, job_worker: Any) -> None:
    manager = await world.client("demo.bj.manager")
    plan = await manager.post(PLANS, json={"name": "私行月度走访", "value_tier": "mass"})
    assert plan.status_code == 201, plan.text
    harness = await job_worker()
    counts = []
    for _ in range(2):  # a redelivered or repeated message creates nothing twice
        with world.bind(await world.scope_of("BJ")):
            async with db.transaction():
                await jobs.enqueue(generate_care_tasks)
        await harness.drain()
        rows = await kit.owner_fetch("SELECT count(*) AS n FROM service_care_task")
        counts.append(rows[0]["n"])
    assert counts[0] == counts[1]


async def test_complete_skip_timeline_and_isolation(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    customer = await a_customer(rm, 42, kit, date(1975, 12, 28))
    with world.bind(await world.scope_of("BJ")):
        made = await care.generate(date(2026, 12, 10))
    assert made.birthday >= 1
    listed = (await rm.get(TASKS, params={"customer_id": customer})).json()["items"]
    assert [t["kind"] for t in listed] == ["birthday"]
    url = f"{TASKS}/{listed[0]['id']}"

    blank = await rm.post(f"{url}/complete", json={"result": ""})
    assert blank.status_code in (400, 422)
    assert blank.headers["content-type"].startswith(PROBLEM)
    assert "result" in blank.text
    spaces = await rm.post(f"{url}/skip", json={"result": "   "})
    assert spaces.status_code in (400, 422)
    assert "result" in spaces.text

    done = await rm.post(f"{url}/complete", json={"result": "电话祝福，客户表示感谢"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    again = await rm.post(f"{url}/skip", json={"result": "重复"})
    assert again.status_code == 409

    timeline = (await rm.get(f"{CUSTOMERS}/{customer}/timeline")).json()["items"]
    mine = [i for i in timeline if i["kind"] == "service.care_task"]
    assert mine
    assert "生日关怀" in mine[0]["title"]
    assert "电话祝福" in mine[0]["title"]

    # Shanghai does not see Beijing's task: not in its list, not found by id.
    sh = await world.client("demo.sh.manager")
    assert listed[0]["id"] not in [t["id"] for t in (await sh.get(TASKS)).json()["items"]]
    assert (await sh.get(url)).status_code == 404
    assert (await sh.post(f"{url}/skip", json={"result": "越权"})).status_code == 404
    bj = await world.client("demo.bj.manager")
    assert {t["branch_id"] for t in (await bj.get(TASKS)).json()["items"]} <= set(
        await world.subtree("BJ")
    )
