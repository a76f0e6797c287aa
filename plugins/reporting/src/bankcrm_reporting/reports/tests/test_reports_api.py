"""Saved reports over REST: definitions checked against the source, runs under the
runner's scope into their own inbox, another branch's reports and runs absent."""

from __future__ import annotations

from typing import Any

import pytest

from bankcrm_sdk.world import World

BASE = "/api/v1/reporting"


async def test_sources_list_what_the_caller_may_use(world: World) -> None:
    rm = await world.client("demo.bj.rm")
    sources = {s["name"]: s for s in (await rm.get(f"{BASE}/sources")).json()}
    customers = sources["customer_archive.customers"]
    assert customers["plugin"] == "reporting"
    assert customers["title"] == "客户档案：客户"
    assert "value_tier" in [d["name"] for d in customers["dimensions"]]
    aum = next(m for m in customers["measures"] if m["name"] == "aum")
    assert aum["aggregations"] == ["sum", "avg", "min", "max"]
    assert customers["time_dimension"] == "created_on"


async def test_a_report_runs_under_the_runners_scope_into_their_inbox(
    world: World, kit: Any
) -> None:
    await kit.customers("BJ-HD", 3, "wealth", 1_000_000)
    await kit.customers("BJ-HD", 2, "mass", 50_000)
    await kit.customers("BJ-CY", 4, "mass", 10)
    await kit.customers("SH-PD", 5, "wealth", 7)
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm, sort=[{"key": "customers_count", "descending": True}])
    assert report["owner"] == world.users["demo.bj.rm"]
    assert report["branch_id"] == world.branch("BJ-HD")

    response = await rm.post(f"{BASE}/reports/{report['id']}/run")
    assert response.status_code == 201, response.text
    run = response.json()
    assert response.headers["location"].endswith(f"/api/v1/reporting/inbox/{run['id']}")
    assert run["status"] == "done"
    assert run["trigger"] == "manual"
    assert [c["key"] for c in run["columns"]] == ["value_tier", "customers_count", "aum_sum"]
    assert run["columns"][2]["title"] == "资产规模（合计）"
    # Only BJ-HD (the relationship manager's sub-branch): BJ-CY and SH are not counted.
    assert run["rows"] == [
        {"value_tier": "wealth", "customers_count": 3, "aum_sum": "30000"},
        {"value_tier": "mass", "customers_count": 2, "aum_sum": "1000"},
    ]
    assert run["scope_branches"] == [world.branch("BJ-HD")]

    manager = await world.client("demo.bj.manager")
    mine = await kit.report(manager, dimensions=["branch"], shared=True)
    whole = (await manager.post(f"{BASE}/reports/{mine['id']}/run")).json()
    counted = {r["branch"]: r["customers_count"] for r in whole["rows"]}
    assert counted == {world.branch("BJ-HD"): 5, world.branch("BJ-CY"): 4}

    inbox = (await rm.get(f"{BASE}/inbox")).json()["items"]
    assert [item["id"] for item in inbox] == [run["id"]]
    assert "rows" not in inbox[0]
    assert inbox[0]["read_at"] is None  # unread until the recipient opens it
    opened = (await rm.get(f"{BASE}/inbox/{run['id']}")).json()
    assert opened["rows"] == run["rows"]
    assert opened["read_at"] is not None
    assert (await rm.get(f"{BASE}/inbox")).json()["items"][0]["read_at"] == opened["read_at"]
    # Notified through the kernel's notifications.
    notes = await kit.owner_fetch(
        "SELECT recipient, title_zh, source_id FROM bankcrm_notification"
        " WHERE template = 'reporting.report_ready' ORDER BY id"
    )
    assert (world.users["demo.bj.rm"], "报表已生成：客户分层", str(run["id"])) in [
        tuple(n) for n in notes
    ]
    audited = await kit.owner_fetch(
        "SELECT action, after FROM bankcrm_audit WHERE entity = 'reporting.report_run'"
        " AND entity_id = $1",
        str(run["id"]),
    )
    assert [a["action"] for a in audited] == ["create"]


async def test_other_branches_and_people_do_not_see_a_private_report(
    world: World, kit: Any
) -> None:
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm)
    run = (await rm.post(f"{BASE}/reports/{report['id']}/run")).json()
    for username in ("demo.sh.manager", "demo.sh.rm", "demo.teller", "demo.auditor"):
        other = await world.client(username)
        assert (await other.get(f"{BASE}/reports/{report['id']}")).status_code == 404, username
        assert (await other.get(f"{BASE}/inbox/{run['id']}")).status_code == 404, username
        listed = (await other.get(f"{BASE}/reports")).json()["items"]
        assert report["id"] not in [r["id"] for r in listed], username
        assert (await other.get(f"{BASE}/inbox")).json()["items"] == [], username
    sh = await world.client("demo.sh.manager")
    assert (await sh.post(f"{BASE}/reports/{report['id']}/run")).status_code == 404
    assert (await sh.delete(f"{BASE}/reports/{report['id']}")).status_code == 404


async def test_a_shared_report_is_run_by_others_under_their_own_scope(
    world: World, kit: Any
) -> None:
    await kit.customers("BJ-HD", 2)
    await kit.customers("BJ-CY", 3)
    manager = await world.client("demo.bj.manager")
    # Shared with the staff of BJ-HD: the report belongs to that sub-branch.
    shared = await kit.report(
        manager, dimensions=["branch"], shared=True, branch_id=world.branch("BJ-HD")
    )
    rm = await world.client("demo.bj.rm")
    run = (await rm.post(f"{BASE}/reports/{shared['id']}/run")).json()
    assert run["recipient"] == world.users["demo.bj.rm"]
    assert {r["branch"]: r["customers_count"] for r in run["rows"]} == {world.branch("BJ-HD"): 2}
    # Only the owner changes or deletes it.
    changed = await rm.patch(f"{BASE}/reports/{shared['id']}", json={"name": "改名"})
    assert changed.status_code == 403
    assert (await rm.delete(f"{BASE}/reports/{shared['id']}")).status_code == 403
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{BASE}/reports/{shared['id']}")).status_code == 404


async def test_change_and_delete_are_audited_and_keep_the_runs(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm)
    run = (await rm.post(f"{BASE}/reports/{report['id']}/run")).json()
    changed = await rm.patch(
        f"{BASE}/reports/{report['id']}",
        json={"name": "客户分层（新）", "schedule": "30 7 * * 1",
              "definition": {"dimensions": ["kind"],
                             "measures": [{"measure": "customers", "aggregation": "count"}]}},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["definition"]["dimensions"] == ["kind"]
    assert body["next_run_at"] is not None
    assert (await rm.delete(f"{BASE}/reports/{report['id']}")).status_code == 204
    assert (await rm.get(f"{BASE}/reports/{report['id']}")).status_code == 404
    assert (await rm.get(f"{BASE}/inbox/{run['id']}")).status_code == 200
    actions = await kit.owner_fetch(
        "SELECT action FROM bankcrm_audit WHERE entity = 'reporting.report' AND entity_id = $1"
        " ORDER BY id",
        str(report["id"]),
    )
    assert [a["action"] for a in actions] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"source": "nope.things"}, "/body/source"),
        ({"dimensions": ["value_tier", "shoe_size"]}, "/body/dimensions/1"),
        ({"dimensions": ["kind", "kind"]}, "/body/dimensions/1"),
        ({"measures": [{"measure": "height", "aggregation": "sum"}]}, "/body/measures/0/measure"),
        ({"measures": [{"measure": "customers", "aggregation": "sum"}]},
         "/body/measures/0/aggregation"),
        ({"filters": [{"field": "colour", "value": "red"}]}, "/body/filters/0/field"),
        ({"filters": [{"field": "created_on", "op": "gte", "value": "soon"}]},
         "/body/filters/0/value"),
        ({"filters": [{"field": "kind", "op": "in", "value": "individual"}]},
         "/body/filters/0/value"),
        ({"filters": [{"field": "branch", "op": "eq", "value": "北京"}]}, "/body/filters/0/value"),
        ({"sort": [{"key": "aum_avg"}]}, "/body/sort/0/key"),
        ({"schedule": "every monday"}, "/body/schedule"),
        ({"schedule": "0 25 * * *"}, "/body/schedule"),
        ({"schedule": "0 0 31 2 *"}, "/body/schedule"),
        ({"branch_id": 999_999}, "/body/branch_id"),
        ({"name": "   "}, "/body/name"),
    ],
)  # fmt: skip
async def test_a_definition_is_checked_against_its_source(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    rm = await world.client("demo.bj.rm")
    body: dict[str, Any] = {
        "name": "客户", "source": "customer_archive.customers", "dimensions": ["value_tier"],
        "measures": [{"measure": "customers", "aggregation": "count"}],
    }  # fmt: skip
    body.update(overrides)
    response = await rm.post(f"{BASE}/reports", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.text


async def test_filters_and_period_narrow_the_rows(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 3, "wealth", 100)
    await kit.customers("BJ-HD", 2, "mass", 100)
    await kit.owner_fetch(
        "UPDATE customer_archive_customer SET created_at = now() - interval '400 days'"
        " WHERE value_tier = 'mass'"
    )
    rm = await world.client("demo.bj.rm")
    only_mass = await kit.report(
        rm, filters=[{"field": "value_tier", "op": "in", "value": ["mass", "private"]}]
    )
    rows = (await rm.post(f"{BASE}/reports/{only_mass['id']}/run")).json()["rows"]
    assert rows == [{"value_tier": "mass", "customers_count": 2, "aum_sum": "2"}]
    recent = await kit.report(rm, period="last_30_days", dimensions=[])
    run = (await rm.post(f"{BASE}/reports/{recent['id']}/run")).json()
    assert run["rows"] == [{"customers_count": 3, "aum_sum": "3"}]
    assert run["period_start"] is not None
    assert run["period_end"] is not None
