"""The archive's workflow forms in the admin: the REST API's services, rules and audit."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bankcrm.tests.test_admin import admin_client
from bankcrm.tests.test_users import problem
from bankcrm_customer_archive.dedupe.tests.test_dedupe_merge import detect, two_of_a_kind
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
FORMS = "/admin/api/forms"


async def test_reveal_shows_only_the_ticked_fields_and_dismissal_needs_a_reason(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    first, _ = await two_of_a_kind(world, kit, bj)
    admin = await admin_client(world, "demo.bj.manager")
    grouped = (await admin.get(f"{FORMS}/grouped/")).json()["grouped"]
    assert {f["slug"] for f in grouped["客户档案"]} >= {
        "reveal-customer", "dismiss-duplicate", "approve-merge", "approve-import",
    }  # fmt: skip
    schema = (await admin.get(f"{FORMS}/reveal-customer/schema/")).json()
    assert schema["properties"]["id_number"]["title"] == "证件号码（True 为查看）"

    nothing = await admin.post(
        f"{FORMS}/reveal-customer/", json={"customer_id": first, "reason": "客户来电核实"}
    )
    assert problem(nothing, 422, "invalid")["errors"][0]["field"] == "/body"
    shown = await admin.post(
        f"{FORMS}/reveal-customer/",
        json={"customer_id": first, "reason": "客户来电核实", "phone": True},
    )
    assert shown.status_code == 200, shown.text
    message = shown.json()["custom_form_success"]
    assert "13812345678" in message
    assert "证件号码" not in message
    (trail,) = await kit.audit(first, "reveal")
    assert trail["reason"] == "客户来电核实"
    assert json.loads(trail["after"])["fields"] == ["phone"]

    await detect(world, "BJ")
    (candidate,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    bare = await admin.post(f"{FORMS}/dismiss-duplicate/", json={"candidate_id": candidate["id"]})
    assert problem(bare, 422, "invalid")["errors"][0]["field"] == "/body/note"
    dismissed = await admin.post(
        f"{FORMS}/dismiss-duplicate/", json={"candidate_id": candidate["id"], "note": "父女同名"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (await bj.get(f"{BASE}/duplicates")).json()["items"] == []

    teller = await admin_client(world, "demo.teller")
    groups = (await teller.get(f"{FORMS}/grouped/")).json()["grouped"]
    assert "reveal-customer" not in {f["slug"] for forms in groups.values() for f in forms}
    refused = await teller.post(
        f"{FORMS}/reveal-customer/", json={"customer_id": first, "reason": "好奇", "phone": True}
    )
    problem(refused, 404, "not_found")


async def test_a_merge_is_approved_in_the_admin_by_a_second_person_only(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    first, second = await two_of_a_kind(world, kit, bj)
    await detect(world, "BJ")
    (candidate,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    requested = await bj.post(f"{BASE}/duplicates/{candidate['id']}/merge", json={})
    merge_id = requested.json()["id"]

    maker = await admin_client(world, "demo.bj.manager")
    own = await maker.post(f"{FORMS}/approve-merge/", json={"merge_id": merge_id})
    problem(own, 403, "maker_checker")
    checker = await admin_client(world, "demo.admin")
    approved = await checker.post(f"{FORMS}/approve-merge/", json={"merge_id": merge_id})
    assert approved.status_code == 200, approved.text
    assert f"{second} 并入 {first}" in approved.json()["custom_form_success"]
    assert (await bj.get(f"{BASE}/merges/{merge_id}")).json()["status"] == "merged"
    again = await checker.post(f"{FORMS}/reject-merge/", json={"merge_id": merge_id})
    assert again.status_code == 409, again.text
