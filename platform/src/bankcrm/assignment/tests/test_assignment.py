"""The assignment engine: rules, capacity, leave, fallback, idempotence and concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from bankcrm import db
from bankcrm.assignment import WorkItem, assign, assign_many, release, service
from bankcrm.context import bind_scope
from bankcrm.plugin_api import Label, WorkKind
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm.tests.test_admin import admin_client
from bankcrm.tests.test_users import problem
from bankcrm_sdk.world import World

FORMS = "/admin/api/forms"

LEAD = WorkKind(
    "worktest.lead",
    Label("线索", "Lead"),
    {"product": "string", "amount": "number", "languages": "strings", "vip": "boolean"},
)
# employee number, products, languages, capacity, on leave today
STAFF = [
    ("T01", ["loan"], ["zh"], 2, False),
    ("T02", ["loan", "deposit"], ["zh", "en"], 3, False),
    ("T03", ["deposit"], ["zh"], 4, False),
    ("T04", ["loan"], ["zh", "en"], 5, True),
]


@pytest.fixture
def work_kinds(
    kernel: Kernel,
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
    make_plugin: Callable[..., PluginCandidate],
) -> Iterator[None]:
    plugin = make_plugin("worktest", hooks={"register_work_kinds": lambda: [LEAD]})
    service.install(kernel_with([plugin]).registry)
    yield
    service.install(kernel.registry)


@pytest.fixture
async def team(world: World, work_kinds: None) -> dict[str, int]:
    """Four people in a sub-branch (the Haidian relationship manager is made full)."""
    branch = world.branch("BJ-HD")
    ids = {}
    with bind_scope(world.system_scope()):
        async with db.transaction():
            await db.fetch("UPDATE bankcrm_employee SET capacity = 0 WHERE employee_no = 'E1101'")
            for number, products, languages, capacity, away in STAFF:
                ids[number] = await db.fetchval(
                    "INSERT INTO bankcrm_employee (branch_id, employee_no, name, products,"
                    " languages, capacity) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    branch, number, f"测试{number}", products, languages, capacity,
                )  # fmt: skip
                if away:
                    await db.fetch(
                        "INSERT INTO bankcrm_employee_leave (branch_id, employee_id, starts,"
                        " ends) VALUES ($1, $2, $3, $3)",
                        branch, ids[number], datetime.now(service.LOCAL_ZONE).date(),
                    )  # fmt: skip
            ids["fallback"] = await db.fetchval(
                "SELECT id FROM bankcrm_employee WHERE employee_no = 'E1001'"
            )
    return ids


def lead(world: World, number: int, **attributes: object) -> WorkItem:
    return WorkItem("worktest.lead", f"L{number}", world.branch("BJ-HD"), attributes)


async def add_rule(world: World, **fields: object) -> int:
    client = await world.client("demo.bj.manager")
    body = {"branch_id": world.branch("BJ-HD"), "work_kind": "worktest.lead", "name": "规则"}
    response = await client.post("/api/v1/assignment/rules", json={**body, **fields})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_rules_match_skills_and_capacity_then_fall_back(
    world: World, team: dict[str, int]
) -> None:
    rule = await add_rule(
        world,
        condition='product == "loan" and amount >= 1000000',
        match_skills={"products": "product", "languages": "languages"},
    )
    with bind_scope(await world.scope_of("BJ")):
        big = [lead(world, n, product="loan", amount=2e6, languages=["en"]) for n in range(4)]
        done = await assign_many(big)
    # Only T02 has loans and English with room (T04 is on leave): three, then nobody fits
    # the rule and the default (least loaded with room among everyone) takes the fourth.
    assert [(d.employee_id, d.how) for d in done[:3]] == [(team["T02"], "rule")] * 3
    assert done[0].rule_id == rule
    assert done[3].how == "default"
    assert done[3].employee_id in {team["T01"], team["T03"]}

    with bind_scope(await world.scope_of("BJ")):
        rest = await assign_many([lead(world, n, product="deposit") for n in range(10, 20)])
    load = Counter(d.employee_id for d in [*done, *rest])
    assert load[team["T01"]] <= 2
    assert load[team["T03"]] <= 4
    assert team["T04"] not in load
    assert {d.how for d in rest[-4:]} == {"fallback"}
    assert rest[-1].employee_id == team["fallback"]
    assert rest[-1].user_id == world.users["demo.bj.manager"]

    with bind_scope(await world.scope_of("BJ")):
        assert await release("worktest.lead", "L0")
        assert not await release("worktest.lead", "L0")
        again = await assign(lead(world, 99, product="loan", amount=5e6, languages=["en"]))
    assert (again.employee_id, again.how) == (team["T02"], "rule")


async def test_round_robin_takes_turns_and_remembers_them(
    world: World, team: dict[str, int]
) -> None:
    await add_rule(world, strategy="round_robin", priority=1)
    with bind_scope(await world.scope_of("BJ")):
        first = await assign_many([lead(world, n) for n in range(3)])
        second = await assign(lead(world, 3))
    order = [d.employee_id for d in [*first, second]]
    assert order == [team["T01"], team["T02"], team["T03"], team["T01"]]


async def test_assigning_again_returns_the_open_assignment(
    world: World, team: dict[str, int]
) -> None:
    with bind_scope(await world.scope_of("BJ")):
        first = await assign(lead(world, 1))
        again = await assign(lead(world, 1))
    assert again.employee_id == first.employee_id
    assert first.new
    assert not again.new


async def test_eight_workers_never_exceed_capacity_nor_double_assign(
    world: World, team: dict[str, int]
) -> None:
    """Eight concurrent workers, 60 items with every item sent by two of them: capacity
    holds (2 + 3 + 4 in the team), each item has one open assignment, the rest falls back."""
    scope = await world.scope_of("BJ")

    async def worker(number: int) -> list[int]:
        with bind_scope(scope):
            mine = [lead(world, (number * 15 + n) % 60) for n in range(15)]
            given = []
            for item in mine:
                async with db.transaction():
                    given.append((await assign(item)).employee_id)
                    await asyncio.sleep(0)
            return given

    await asyncio.gather(*(worker(n) for n in range(8)))
    with bind_scope(scope):
        rows = await db.fetch(
            "SELECT item_id, employee_id FROM bankcrm_assignment WHERE released_at IS NULL"
        )
    assert len(rows) == 60
    assert len({r["item_id"] for r in rows}) == 60
    load = Counter(r["employee_id"] for r in rows)
    assert load[team["T01"]] == 2
    assert load[team["T02"]] == 3
    assert load[team["T03"]] == 4
    assert load[team["fallback"]] == 51


async def test_bad_rules_and_items_are_refused_with_the_field(
    world: World, team: dict[str, int]
) -> None:
    client = await world.client("demo.bj.manager")
    base = {"branch_id": world.branch("BJ-HD"), "work_kind": "worktest.lead", "name": "x"}
    for change, field in [
        ({"condition": "amount >"}, "/body/condition"),
        ({"condition": "colour == 'red'"}, "/body/condition"),
        ({"condition": 'amount > "many"'}, "/body/condition"),
        ({"condition": "amount + 1"}, "/body/condition"),
        ({"match_skills": {"products": "amount"}}, "/body/match_skills/products"),
        ({"match_skills": {"hobbies": "product"}}, "/body/match_skills"),
        ({"work_kind": "worktest.nothing"}, "/body/work_kind"),
        ({"strategy": "random"}, "/body/strategy"),
        ({"team_id": 999_999}, "/body/team_id"),
        ({"branch_id": world.branch("SH")}, "/body/branch_id"),
    ]:
        response = await client.post("/api/v1/assignment/rules", json={**base, **change})
        assert response.status_code in (400, 422), (change, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (change, fields)
    with bind_scope(await world.scope_of("BJ")):
        with pytest.raises(Exception, match=r"attributes\.amount"):
            await assign(lead(world, 1, amount="lots"))
        with pytest.raises(Exception, match="unknown kind"):
            await assign(WorkItem("worktest.nothing", "1", world.branch("BJ-HD")))


async def test_reassignment_needs_a_reason_and_is_audited(
    world: World, team: dict[str, int]
) -> None:
    with bind_scope(await world.scope_of("BJ")):
        first = await assign(lead(world, 7))
    client = await world.client("demo.bj.manager")
    target = team["T03"] if first.employee_id != team["T03"] else team["T01"]
    body = {"work_kind": "worktest.lead", "item_id": "L7", "employee_id": target}
    refused = await client.post("/api/v1/assignment/reassign", json={**body, "reason": ""})
    assert refused.status_code in (400, 422)
    moved = await client.post("/api/v1/assignment/reassign", json={**body, "reason": "客户要求"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["how"] == "manual"
    history = (await client.get("/api/v1/assignment/items/worktest.lead/L7")).json()
    assert [h["employee_id"] for h in history] == [first.employee_id, target]
    assert history[0]["released_at"] is not None
    assert history[1]["reason"] == "客户要求"
    audit = await client.get("/api/v1/audit", params={"entity": "bankcrm.assignment"})
    assert audit.json()["items"][0]["reason"] == "客户要求"

    preview = await client.post(
        "/api/v1/assignment/preview",
        json={"work_kind": "worktest.lead", "branch_id": world.branch("BJ-HD"), "attributes": {}},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["employee_id"] in set(team.values())


async def test_reassigning_by_rules_passes_over_the_idle_owner(
    world: World, team: dict[str, int]
) -> None:
    with bind_scope(await world.scope_of("BJ")):
        first = await assign(lead(world, 8, product="loan"))
        moved = await service.reassign_by_rules(
            lead(world, 8, product="loan"), "逾期未跟进", away_from=first.employee_id
        )
        assert moved.employee_id != first.employee_id
        assert moved.how in ("default", "rule")
        history = await service.history("worktest.lead", "L8")
    assert [h.employee_id for h in history] == [first.employee_id, moved.employee_id]
    assert history[0].released_at is not None
    assert history[1].reason == "逾期未跟进"
    # Nobody else with room: the branch manager (the fallback) takes it.
    with bind_scope(world.system_scope()):
        async with db.transaction():
            await db.fetch("UPDATE bankcrm_employee SET capacity = 0 WHERE employee_no LIKE 'T%'")
    with bind_scope(await world.scope_of("BJ")):
        last = await service.reassign_by_rules(
            lead(world, 8), "再次逾期", away_from=moved.employee_id
        )
    assert (last.employee_id, last.how) == (team["fallback"], "fallback")


async def test_another_branch_sees_no_rules_loads_or_items(
    world: World, team: dict[str, int]
) -> None:
    rule = await add_rule(world)
    with bind_scope(await world.scope_of("BJ")):
        await assign(lead(world, 5))
    shanghai = await world.client("demo.sh.manager")
    assert (await shanghai.get(f"/api/v1/assignment/rules/{rule}")).status_code == 404
    assert (await shanghai.delete(f"/api/v1/assignment/rules/{rule}")).status_code == 404
    load = await shanghai.get(
        "/api/v1/assignment/load", params={"branch_id": world.branch("BJ-HD")}
    )
    assert load.status_code == 404
    assert (await shanghai.get("/api/v1/assignment/items/worktest.lead/L5")).status_code == 404
    moved = await shanghai.post(
        "/api/v1/assignment/reassign",
        json={"work_kind": "worktest.lead", "item_id": "L5", "employee_id": team["T01"],
              "reason": "x"},
    )  # fmt: skip
    assert moved.status_code == 404
    mine = await world.client("demo.bj.manager")
    loads = (
        await mine.get("/api/v1/assignment/load", params={"branch_id": world.branch("BJ-HD")})
    ).json()
    assert {x["employee_no"] for x in loads} >= {"T01", "T02", "T03", "T04"}
    assert next(x for x in loads if x["employee_no"] == "T04")["on_leave"] is True


async def test_a_large_batch_keeps_open_assignments_and_repeated_items(
    world: World, team: dict[str, int]
) -> None:
    """Past 20 items the batch inserts first and looks up only what was already open."""
    with bind_scope(await world.scope_of("BJ")):
        first = await assign(lead(world, 0))
        batch = [lead(world, n) for n in range(25)] + [lead(world, 3)]
        done = await assign_many(batch)
        rows = await db.fetch(
            "SELECT item_id, count(*) AS n FROM bankcrm_assignment WHERE released_at IS NULL"
            " GROUP BY item_id"
        )
    assert done[0].employee_id == first.employee_id
    assert not done[0].new
    assert done[-1] == done[3]
    assert {r["n"] for r in rows} == {1}
    assert len(rows) == 25


async def test_the_admin_reassign_form_takes_an_employee_number_and_a_reason(
    world: World, team: dict[str, int]
) -> None:
    with bind_scope(await world.scope_of("BJ")):
        first = await assign(lead(world, 8))
    number = "T03" if first.employee_id != team["T03"] else "T01"
    admin = await admin_client(world, "demo.bj.manager")
    grouped = (await admin.get(f"{FORMS}/grouped/")).json()["grouped"]
    assert "改派工作" in {form["name"] for form in grouped["分配"]}
    schema = (await admin.get(f"{FORMS}/reassign-work/schema/")).json()
    assert schema["properties"]["employee_no"]["title"] == "接手员工工号"

    body = {"work_kind": "worktest.lead", "item_id": "L8", "employee_no": number}
    unknown = await admin.post(
        f"{FORMS}/reassign-work/", json={**body, "employee_no": "NOPE", "reason": "休假"}
    )
    assert problem(unknown, 422, "invalid")["errors"][0]["field"] == "/body/employee_no"
    no_reason = await admin.post(f"{FORMS}/reassign-work/", json=body)
    assert problem(no_reason, 422, "invalid")["errors"][0]["field"] == "/body/reason"
    moved = await admin.post(f"{FORMS}/reassign-work/", json={**body, "reason": "客户要求"})
    assert moved.status_code == 200, moved.text
    assert f"测试{number}" in moved.json()["custom_form_success"]
    client = await world.client("demo.bj.manager")
    history = (await client.get("/api/v1/assignment/items/worktest.lead/L8")).json()
    assert [h["employee_id"] for h in history] == [first.employee_id, team[number]]
    assert history[1]["reason"] == "客户要求"

    rm = await admin_client(world, "demo.bj.rm")
    assert "分配" not in (await rm.get(f"{FORMS}/grouped/")).json()["grouped"]
    refused = await rm.post(f"{FORMS}/reassign-work/", json={**body, "reason": "x"})
    problem(refused, 404, "not_found")
