"""The admin screens of saved reports: read-only, under row-level security and the
owner rule; the form runs a report as the signed-in user."""

from __future__ import annotations

from typing import Any

import httpx

from bankcrm_sdk.world import World

REPORTS = "/admin/api/tables/reporting_report/"
RUNS = "/admin/api/tables/reporting_report_run/"


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    client = await world.client(username)
    assert (await client.get("/admin/")).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


async def test_the_screens_show_only_what_the_rules_allow(world: World, kit: Any) -> None:
    bj = await kit.report(await world.client("demo.bj.rm"))
    sh_rm = await world.client("demo.sh.rm")
    sh = await kit.report(sh_rm)
    sh_run = (await sh_rm.post(f"{kit.base}/reports/{sh['id']}/run")).json()
    admin = await admin_client(world, "demo.sh.rm")
    listed = await admin.get(REPORTS)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()["rows"]] == [sh["id"]]
    assert (await admin.get(f"{REPORTS}{bj['id']}/")).status_code == 404
    runs = (await admin.get(RUNS)).json()["rows"]
    assert [row["id"] for row in runs] == [sh_run["id"]]
    refused = await admin.patch(f"{REPORTS}{sh['id']}/", json={"name": "x"})
    assert refused.status_code in (403, 405), refused.text


async def test_the_form_runs_a_report_for_the_signed_in_user(world: World, kit: Any) -> None:
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm)
    admin = await admin_client(world, "demo.bj.rm")
    response = await admin.post("/admin/api/forms/run-report/", json={"report_id": report["id"]})
    assert response.status_code == 200, response.text
    assert "报表收件箱" in response.text
    inbox = (await rm.get(f"{kit.base}/inbox")).json()["items"]
    assert [i["report"] for i in inbox] == [report["id"]]
    other = await admin_client(world, "demo.sh.rm")
    missing = await other.post("/admin/api/forms/run-report/", json={"report_id": report["id"]})
    assert missing.status_code == 404, missing.text
