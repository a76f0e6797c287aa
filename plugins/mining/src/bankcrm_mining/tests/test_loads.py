"""Loading transactions: linking by ID number, account and phone, the quality report,
all-or-nothing refusal, incremental loads, Parquet and GB18030, branch isolation."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pandas as pd

from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"


def refused(response: httpx.Response, status: int) -> bool:
    content_type = response.headers.get("content-type", "")
    return response.status_code == status and content_type.startswith(PROBLEM)


async def linked_world(world: World, kit: Any) -> tuple[httpx.AsyncClient, dict[str, int]]:
    """Three customers of BJ-HD: one known by ID number, one by account, one by phone."""
    rm = await world.client("demo.bj.rm")
    ids = {
        "by_id": await kit.customer(rm, 1, "13800000001", "甲"),
        "by_account": await kit.customer(rm, 2, "13800000002", "乙"),
        "by_phone": await kit.customer(rm, 3, "13800000003", "丙"),
    }
    await kit.holding(rm, ids["by_account"], "6222000000000002")
    return await world.client("demo.bj.manager"), ids


def csv_text(kit: Any) -> str:
    return (
        "交易流水号,交易时间,交易金额,借贷方向,账号,证件号码,手机号,交易渠道,备注\n"
        f'T1,2026-10-01 09:30,"1,000.00",贷,,{kit.resident_id(1)},,柜面,x\n'
        "T2,2026/10/02,250,借,6222 0000 0000 0002,,,手机银行,\n"
        "T3,2026年10月3日,88.8,借,,,+86 138-0000-0003,POS,\n"
        "T4,20261004,10,贷,,,13999999999,,\n"
        "T5,2026-10-05,not money,借,6222000000000002,,,,\n"
    )


async def test_a_load_links_cleans_and_reports(world: World, kit: Any) -> None:
    manager, ids = await linked_world(world, kit)
    response = await kit.upload(manager, csv_text(kit).encode(), max_rejected="0.5")
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"/loads/{response.json()['id']}")
    load = response.json()
    assert (load["status"], load["rows_in"], load["rows_loaded"], load["rows_rejected"]) == (
        "loaded", 5, 4, 1,
    )  # fmt: skip
    assert (load["rows_linked"], load["rows_unlinked"]) == (3, 1)
    report = load["report"]
    assert report["linked_by"] == {"id_number": 1, "account_no": 1, "phone": 1}
    assert report["rejected"] == {"bad_amount": {"count": 1, "label": "金额无法识别"}}
    assert report["rejected_rows"] == [{"row": 5, "reason": "bad_amount", "column": "amount"}]
    assert report["ignored_columns"] == ["备注"]

    rows = await kit.owner_fetch(
        "SELECT txn_id, customer, linked_by, amount::text, branch_id FROM mining_transaction"
        " ORDER BY txn_id"
    )
    assert [(r["txn_id"], r["customer"], r["linked_by"], r["amount"]) for r in rows] == [
        ("T1", ids["by_id"], "id_number", "1000.00"),
        ("T2", ids["by_account"], "account_no", "-250.00"),
        ("T3", ids["by_phone"], "phone", "-88.80"),
        ("T4", None, None, "10.00"),
    ]
    # Linked rows live in their customer's branch, the unlinked one in the loader's.
    assert [r["branch_id"] for r in rows] == [world.branch("BJ-HD")] * 3 + [world.branch("BJ")]
    stored = await kit.owner_fetch("SELECT count(*) AS n FROM mining_transaction WHERE"
                                   " account_no IS NULL AND txn_id = 'T1'")  # fmt: skip
    assert stored[0]["n"] == 1  # the ID number itself is never stored


async def test_loading_again_skips_what_was_loaded(world: World, kit: Any) -> None:
    manager, _ = await linked_world(world, kit)
    first = await kit.upload(manager, csv_text(kit).encode(), max_rejected="0.5")
    assert first.status_code == 201
    again = await kit.upload(manager, csv_text(kit).encode(), max_rejected="0.5")
    assert again.status_code == 201, again.text
    assert again.json()["rows_loaded"] == 0
    assert again.json()["report"]["rejected"]["already_loaded"]["count"] == 4
    count = await kit.owner_fetch("SELECT count(*) AS n FROM mining_transaction")
    assert count[0]["n"] == 4


async def test_too_many_bad_rows_refuse_the_whole_file(world: World, kit: Any) -> None:
    manager, _ = await linked_world(world, kit)
    response = await kit.upload(manager, csv_text(kit).encode())  # 1 of 5 > 10 %
    assert refused(response, 422)
    assert response.json()["type"].endswith("/too_many_rejected")
    assert await kit.owner_fetch("SELECT id FROM mining_transaction") == []
    loads = (await manager.get("/api/v1/mining/loads")).json()["items"]
    assert [(x["status"], x["rows_rejected"]) for x in loads] == [("refused", 1)]
    assert "20.0%" in loads[0]["reason"]


async def test_bad_files_are_refused_with_the_reason(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    cases = [
        (b"txn_id,amount,phone\nT1,5,13800000001\n", "booked_at"),
        (b"txn_id,booked_at,amount\nT1,2026-10-01,5\n", "no column links"),
        ("交易流水号,交易时间,金额,手机号\n".encode("utf-16"), "UTF-16"),
        (b"PAR1 not really", "Parquet"),
        (b"txn_id,booked_at,amount,phone,\xe6\x89\x8b\xe6\x9c\xba\xe5\x8f\xb7\n", "both"),
    ]
    names = ["a.csv", "b.csv", "c.csv", "d.parquet", "e.csv"]
    for (content, words), name in zip(cases, names, strict=True):
        response = await kit.upload(manager, content, name)
        assert refused(response, 422), name
        assert words in response.json()["detail"], (name, response.json()["detail"])
        assert response.json()["errors"][0]["field"] == "/body/file"
    assert refused(await kit.upload(manager, b"x", "f.xlsx"), 422)
    statuses = await kit.owner_fetch("SELECT status FROM mining_load")
    assert {r["status"] for r in statuses} == {"refused"}
    assert await kit.owner_fetch("SELECT id FROM mining_transaction") == []


async def test_parquet_and_gb18030_load_alike(world: World, kit: Any) -> None:
    manager, ids = await linked_world(world, kit)
    frame = pd.DataFrame(
        {
            "txn_id": ["P1", "P2"],
            "booked_at": pd.to_datetime(["2026-09-01 08:00", "2026-09-02 08:00"]),
            "amount": [12.5, -3.0],
            "account_no": ["6222000000000002", "6222000000000002"],
            "balance_after": [112.5, 109.5],
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parquet = await kit.upload(manager, buffer.getvalue(), "tx.parquet")
    assert parquet.status_code == 201, parquet.text
    assert parquet.json()["rows_linked"] == 2
    gbk = "流水号,交易日期,金额,卡号\nG1,2026-09-03,7,6222000000000002\n".encode("gb18030")
    response = await kit.upload(manager, gbk, "gbk.csv")
    assert response.status_code == 201, response.text
    rows = await kit.owner_fetch(
        "SELECT txn_id, customer, balance_after::text FROM mining_transaction ORDER BY txn_id"
    )
    assert [(r["txn_id"], r["customer"], r["balance_after"]) for r in rows] == [
        ("G1", ids["by_account"], None),
        ("P1", ids["by_account"], "112.50"),
        ("P2", ids["by_account"], "109.50"),
    ]


async def test_branches_see_their_loads_and_link_their_customers_only(
    world: World, kit: Any
) -> None:
    await linked_world(world, kit)
    sh = await world.client("demo.sh.manager")
    response = await kit.upload(sh, csv_text(kit).encode(), max_rejected="0.5")
    assert response.status_code == 201, response.text
    assert response.json()["rows_linked"] == 0  # BJ's customers do not exist for SH
    bj = await world.client("demo.bj.manager")
    assert (await bj.get("/api/v1/mining/loads")).json()["items"] == []
    assert refused(await bj.get(f"/api/v1/mining/loads/{response.json()['id']}"), 404)
    outside = await kit.upload(bj, csv_text(kit).encode(), branch_id=str(world.branch("SH")))
    assert refused(outside, 422)
    assert outside.json()["errors"][0]["field"] == "/body/branch_id"
    teller = await world.client("demo.teller")
    assert refused(await kit.upload(teller, csv_text(kit).encode()), 403)
