"""Review queue, maker-checker merge and exact un-merge, through the REST API."""

import json
from typing import Any

import asyncpg
import httpx

from bankcrm import db
from bankcrm.context import Scope
from bankcrm_customer_archive.dedupe import detection, merging
from bankcrm_customer_archive.services import CustomerReference
from bankcrm_sdk.isolation import branch_user_client
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
# Rows that a merge and its un-merge legitimately add (the trail, the ledger, messages)
# and the logins of the approving users.
LEDGERS = {
    "piccolo_user", "sessions",
    "bankcrm_audit", "bankcrm_audit_head", "bankcrm_audit_unsealed", "bankcrm_audit_seal",
    "bankcrm_outbox", "bankcrm_job_execution",
    "customer_archive_merge", "customer_archive_duplicate_candidate", "bankcrm_session",
    "bankcrm_login_attempt",
}  # fmt: skip


async def snapshot(world: World) -> dict[str, list[str]]:
    """Every row of every table (as the owner, past row-level security)."""
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        tables = await owner.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        found = {}
        for t in tables:
            name = t["tablename"]
            if name in LEDGERS or name == "migration":
                continue
            rows = await owner.fetch(f'SELECT to_jsonb(t)::text AS r FROM "{name}" t')
            found[name] = sorted(r["r"] for r in rows)
        return found
    finally:
        await owner.close()


async def two_of_a_kind(world: World, kit: Any, bj: httpx.AsyncClient) -> tuple[int, int]:
    """The same woman registered twice in BJ-HD: the ID re-typed with an error, another
    phone, an e-mail only the second time; both tagged 贵宾, each with an own tag too."""
    hd = world.branch("BJ-HD")
    tags = {}
    for name in ("贵宾", "代发工资", "理财"):
        tags[name] = (await bj.post(f"{BASE}/tags", json={"name": name, "branch_id": hd})).json()
    first = await kit.create(
        bj, name="王秀英", branch_id=hd, id_number=kit.resident_id(order="302"),
        phone="13812345678", tags=["贵宾", "代发工资"],
        addresses=[{"kind": "home", "province": "北京市", "city": "北京市",
                    "district": "海淀区", "street": "学院路1号"}],
        contacts=[{"name": "王大明", "phone": "13900000001"}],
    )  # fmt: skip
    second = await kit.create(
        bj, name="王秀英", branch_id=hd, id_number=kit.resident_id(order="322"),
        phone="13812345679", email="wxy@163.com", tags=["贵宾", "理财"],
        addresses=[{"kind": "home", "province": "北京市", "city": "北京市",
                    "district": "海淀区", "street": "学院路1号院3号楼501室", "is_primary": True}],
    )  # fmt: skip
    return first["id"], second["id"]


async def detect(world: World, *codes: str) -> detection.RunResult:
    with world.bind(await world.scope_of(*codes)):
        return await detection.run("test")


async def test_review_merge_and_unmerge_restore_everything(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    first, second = await two_of_a_kind(world, kit, bj)
    holding = await bj.post(
        f"{BASE}/customers/{second}/holdings",
        json={"product_code": "DEP-CUR", "account_no": "6222000011112222", "balance": "100.00"},
    )
    assert holding.status_code == 201, holding.text
    result = await detect(world, "BJ")
    assert result.inserted == 1
    assert result.customers == 2

    queue = (await bj.get(f"{BASE}/duplicates")).json()
    (candidate,) = queue["items"]
    assert candidate["customer_ids"] == [first, second]
    assert candidate["probability"] >= 0.8
    levels = {(r["comparison"], r["level"]) for r in candidate["reasons"]}
    assert ("name", "same name") in levels
    assert ("id_number", "different") in levels
    comparison = (await bj.get(f"{BASE}/duplicates/{candidate['id']}")).json()
    assert comparison["left"]["phone"] == "138****5678"  # masked
    assert "name" in comparison["same"]
    assert "birth_date" in comparison["same"]
    assert await kit.audit(first, "view")

    before = await snapshot(world)
    requested = await bj.post(f"{BASE}/duplicates/{candidate['id']}/merge", json={})
    assert requested.status_code == 201, requested.text
    merge = requested.json()
    assert (merge["survivor_id"], merge["merged_id"], merge["status"]) == (
        first,
        second,
        "requested",
    )
    # Maker-checker: never by the requester, never without the permission.
    own = await bj.post(f"{BASE}/merges/{merge['id']}/approve", json={})
    assert own.status_code == 403, own.text
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(f"{BASE}/merges/{merge['id']}/approve", json={})).status_code == 403
    admin = await world.client("demo.admin")
    approved = await admin.post(f"{BASE}/merges/{merge['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["dropped"]["customer_archive_customer_tag"] == 1  # both had 贵宾

    gone = await bj.get(f"{BASE}/customers/{second}")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/merged")
    assert gone.json()["errors"] == [
        {"field": "/path/customer_id", "message": f"merged into customer {first}"}
    ]
    survivor = (await bj.get(f"{BASE}/customers/{first}")).json()
    assert sorted(t["name"] for t in survivor["tags"]) == ["代发工资", "理财", "贵宾"]
    assert survivor["email"] == "w***@163.com"  # filled from the duplicate
    assert survivor["phone"] == "138****5679"  # the more recently updated phone
    primary = [a for a in survivor["addresses"] if a["is_primary"]]
    assert len(survivor["addresses"]) == 2
    assert len(primary) == 1
    assert primary[0]["street"].startswith("学院路")  # the more complete one, masked
    holdings = (await bj.get(f"{BASE}/customers/{first}/holdings")).json()
    assert [h["customer_id"] for h in holdings] == [first]
    found = (await bj.get(f"{BASE}/customers", params={"phone": "13812345679"})).json()
    assert [c["id"] for c in found["items"]] == [first]
    assert (await bj.get(f"{BASE}/duplicates")).json()["items"] == []
    assert await kit.audit(second, "delete")

    undone = await admin.post(f"{BASE}/merges/{merge['id']}/unmerge", json={"note": "误归并"})
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "unmerged"
    assert await snapshot(world) == before
    assert (await bj.get(f"{BASE}/customers/{second}")).status_code == 200
    again = await admin.post(f"{BASE}/merges/{merge['id']}/unmerge", json={})
    assert again.status_code == 409


async def test_unmerge_refused_after_the_survivor_changed(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    first, second = await two_of_a_kind(world, kit, bj)
    merge = (await bj.post(f"{BASE}/merges", json={"survivor_id": second,
                                                   "merged_id": first})).json()  # fmt: skip
    admin = await world.client("demo.admin")
    assert (await admin.post(f"{BASE}/merges/{merge['id']}/approve", json={})).status_code == 200
    assert (await bj.patch(f"{BASE}/customers/{second}", json={"occupation": "教师"})).is_success
    refused = await admin.post(f"{BASE}/merges/{merge['id']}/unmerge", json={})
    assert refused.status_code == 409
    assert "changed after the merge" in refused.json()["detail"]


async def test_dismissed_pairs_stay_dismissed_and_reruns_are_idempotent(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    await two_of_a_kind(world, kit, bj)
    assert (await detect(world, "BJ")).inserted == 1
    rerun = await detect(world, "BJ")
    assert (rerun.inserted, rerun.updated) == (0, 1)
    (candidate,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    dismissed = await bj.post(f"{BASE}/duplicates/{candidate['id']}/dismiss",
                              json={"note": "两个人"})  # fmt: skip
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    third = await detect(world, "BJ")
    assert (third.inserted, third.updated, third.skipped) == (0, 0, 1)
    assert (await bj.get(f"{BASE}/duplicates")).json()["items"] == []
    kept = (await bj.get(f"{BASE}/duplicates", params={"status": "dismissed"})).json()["items"]
    assert [c["id"] for c in kept] == [candidate["id"]]


async def test_branches_see_and_merge_only_their_own(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    first, second = await two_of_a_kind(world, kit, bj)
    await detect(world)  # head office: every branch
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{BASE}/duplicates")).json()["items"] == []
    (candidate,) = (await bj.get(f"{BASE}/duplicates")).json()["items"]
    assert (await sh.get(f"{BASE}/duplicates/{candidate['id']}")).status_code == 404
    assert (await sh.post(f"{BASE}/duplicates/{candidate['id']}/dismiss",
                          json={})).status_code == 404  # fmt: skip
    assert (await sh.post(f"{BASE}/duplicates/{candidate['id']}/merge",
                          json={})).status_code == 404  # fmt: skip
    shanghai = await kit.create(sh, name="王秀英", branch_id=world.branch("SH-PD"),
                                id_number=kit.resident_id(order="342"))  # fmt: skip
    across = await sh.post(f"{BASE}/merges", json={"survivor_id": shanghai["id"],
                                                   "merged_id": first})  # fmt: skip
    assert across.status_code == 404
    merge = (await bj.post(f"{BASE}/merges", json={"survivor_id": first,
                                                   "merged_id": second})).json()  # fmt: skip
    assert (await sh.get(f"{BASE}/merges/{merge['id']}")).status_code == 404
    sh_admin_like = await sh.post(f"{BASE}/merges/{merge['id']}/approve", json={})
    assert sh_admin_like.status_code in (403, 404)


async def test_hook_customer_references_moves_plugin_rows_with_the_customer(
    world: World, kit: Any, bj: httpx.AsyncClient, make_plugin: Any, kernel_with: Any
) -> None:
    first, second = await two_of_a_kind(world, kit, bj)
    owner = await asyncpg.connect(world.kernel.owner_url)
    app_role = await owner.fetchval(
        "SELECT grantee FROM information_schema.role_table_grants"
        " WHERE table_name = 'customer_archive_customer' AND grantee <> current_user LIMIT 1"
    )
    await owner.execute(
        "CREATE TABLE IF NOT EXISTS dedupe_test_visit (id serial PRIMARY KEY,"
        " branch_id bigint NOT NULL, visitor int NOT NULL REFERENCES customer_archive_customer,"
        " topic text NOT NULL, UNIQUE (visitor, topic))"
    )
    await owner.execute(f'GRANT ALL ON dedupe_test_visit, dedupe_test_visit_id_seq TO "{app_role}"')
    try:
        hd = world.branch("BJ-HD")
        await owner.execute(
            "INSERT INTO dedupe_test_visit (branch_id, visitor, topic) VALUES"
            " ($1, $2, 'loan'), ($1, $3, 'loan'), ($1, $3, 'card')",
            hd, first, second,
        )  # fmt: skip
        plugin = make_plugin(
            "visits",
            requires=["customer_archive"],
            hooks={"customer_references": lambda: [
                CustomerReference("dedupe_test_visit", column="visitor", unique_with=("topic",))
            ]},
        )  # fmt: skip
        registry = kernel_with([plugin]).registry
        before = await snapshot(world)
        merge = (await bj.post(f"{BASE}/merges", json={"survivor_id": first,
                                                       "merged_id": second})).json()  # fmt: skip
        approver = Scope(actor=f"user:{world.users['demo.admin']}",
                         branch_ids=await world.subtree("HQ"), is_superuser=True,
                         user_id=world.users["demo.admin"])  # fmt: skip
        with world.bind(approver):
            done = await merging.approve_merge(merge["id"], registry)
            assert done.repointed["dedupe_test_visit"] == 1  # card
            assert done.dropped["dedupe_test_visit"] == 1  # loan: the survivor has one
            rows = await db.fetch("SELECT visitor, topic FROM dedupe_test_visit ORDER BY topic")
            assert [(r["visitor"], r["topic"]) for r in rows] == [(first, "card"), (first, "loan")]
            await merging.unmerge(merge["id"], registry)
        assert await snapshot(world) == before
    finally:
        await owner.execute("DROP TABLE dedupe_test_visit")
        await owner.close()


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def test_cross_branch_merge_moves_contract_documents_and_unmerge_restores_them(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    """BJ-HD and BJ-CY hold the same man; the BJ-CY record has a signed contract with a
    scanned document, which must stay readable to BJ-HD once the record moves there."""
    hd, cy = world.branch("BJ-HD"), world.branch("BJ-CY")
    survivor = await kit.create(bj, name="李建国", branch_id=hd,
                                id_number=kit.resident_id(order="311"))  # fmt: skip
    merged = await kit.create(bj, name="李建国", branch_id=cy, phone="13912345678",
                              id_number=kit.resident_id(order="313"))  # fmt: skip
    contract = await bj.post(
        f"{BASE}/customers/{merged['id']}/contracts",
        json={"kind": "loan", "number": "CY-JK-0001", "signed_on": "2026-01-05",
              "status": "active", "amount": "300000"},
    )  # fmt: skip
    assert contract.status_code == 201, contract.text
    uploaded = await bj.post(
        f"{BASE}/contracts/{contract.json()['id']}/documents",
        files={"file": ("借款合同.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    document_url = f"{BASE}/contract-documents/{uploaded.json()['id']}"
    checker = await branch_user_client(world, "BJ")  # a second BJ-level user
    haidian = await branch_user_client(world, "BJ-HD")  # every permission, BJ-HD only
    assert (await haidian.get(document_url)).status_code == 404  # BJ-CY's, for now
    before = await snapshot(world)

    requested = await bj.post(f"{BASE}/merges", json={"survivor_id": survivor["id"],
                                                      "merged_id": merged["id"]})  # fmt: skip
    assert requested.status_code == 201, requested.text
    merge = requested.json()
    assert merge["branch_id"] == world.branch("BJ")  # the pair's lowest common branch
    approved = await checker.post(f"{BASE}/merges/{merge['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["repointed"]["customer_archive_contract"] == 1
    assert approved.json()["followed"] == {"customer_archive_contract_document": 1}

    download = await haidian.get(document_url)
    assert download.status_code == 200, download.text
    assert download.content == PDF
    contracts = (await haidian.get(f"{BASE}/customers/{survivor['id']}/contracts")).json()
    assert [c["number"] for c in contracts] == ["CY-JK-0001"]
    ledger = await admin_ledger(world, merge["id"])
    assert ledger["followed"] == {
        "customer_archive_contract_document": [{"id": uploaded.json()["id"], "branch_id": cy}]
    }
    assert "customer_archive_contract_document" not in ledger["rows_before"]  # no bytes

    undone = await checker.post(f"{BASE}/merges/{merge['id']}/unmerge", json={})
    assert undone.status_code == 200, undone.text
    after = await snapshot(world)
    assert (
        after["customer_archive_contract_document"] == before["customer_archive_contract_document"]
    )
    assert after == before
    assert (await haidian.get(document_url)).status_code == 404

    # The ledger in the admin: listed without its before-images, and never writable,
    # not even by a head-office superuser.
    admin = await world.client("demo.admin")
    response = await admin.get("/admin/")
    assert response.status_code == 200
    admin.headers["X-CSRFToken"] = admin.cookies["csrftoken"]
    ledger_url = f"/admin/api/tables/customer_archive_merge/{merge['id']}/"
    shown = await admin.get(ledger_url)
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "unmerged"
    assert not {"rows_before", "survivor_before", "merged_before"} & set(shown.json())
    for method in ("PATCH", "DELETE"):
        refused = await admin.request(method, ledger_url, json={} if method == "PATCH" else None)
        assert refused.status_code == 405, (method, refused.text)
    listed = await admin.get("/admin/api/tables/customer_archive_saved_search/")
    assert listed.status_code == 200, listed.text


async def test_merge_refused_when_a_contract_number_is_taken_in_the_survivor_branch(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    hd, cy = world.branch("BJ-HD"), world.branch("BJ-CY")
    survivor = await kit.create(bj, name="李建国", branch_id=hd,
                                id_number=kit.resident_id(order="311"))  # fmt: skip
    merged = await kit.create(bj, name="李建国", branch_id=cy,
                              id_number=kit.resident_id(order="313"))  # fmt: skip
    for customer in (survivor, merged):
        created = await bj.post(f"{BASE}/customers/{customer['id']}/contracts",
                                json={"kind": "deposit", "number": "CK-0001"})  # fmt: skip
        assert created.status_code == 201, created.text
    before = await snapshot(world)
    merge = (await bj.post(f"{BASE}/merges", json={"survivor_id": survivor["id"],
                                                   "merged_id": merged["id"]})).json()  # fmt: skip
    admin = await world.client("demo.admin")
    refused = await admin.post(f"{BASE}/merges/{merge['id']}/approve", json={})
    assert refused.status_code == 409, refused.text
    assert "customer_archive_contract" in refused.json()["detail"]
    assert (await bj.get(f"{BASE}/merges/{merge['id']}")).json()["status"] == "requested"
    assert await snapshot(world) == before


async def admin_ledger(world: World, merge_id: int) -> dict[str, Any]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        row = await owner.fetchrow(
            "SELECT followed::text, rows_before::text FROM customer_archive_merge WHERE id = $1",
            merge_id,
        )
        assert row is not None
        return {"followed": json.loads(row["followed"]),
                "rows_before": json.loads(row["rows_before"])}  # fmt: skip
    finally:
        await owner.close()
