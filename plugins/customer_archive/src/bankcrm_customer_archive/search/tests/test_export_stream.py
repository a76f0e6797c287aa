"""Streamed exports: CSV and xlsx contents, masking, formula neutralisation, audit,
reveal, limits and isolation."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import httpx
import openpyxl
import pytest

from bankcrm_customer_archive.search import export
from bankcrm_customer_archive.search.services import CustomerFilter
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
PHONE = "13812345678"
STREET = "中关村大街27号"


@pytest.fixture
async def exported(world: World, kit: Any, bj: httpx.AsyncClient) -> dict[str, int]:
    hd, cy = world.branch("BJ-HD"), world.branch("BJ-CY")
    ids = {}
    for name, branch, order in (("王秀英", hd, "002"), ('=HYPERLINK("x")', cy, "003")):
        ids[name] = (
            await kit.create(
                bj,
                name=name,
                branch_id=branch,
                phone=PHONE,
                email="wang@example.com",
                id_number=kit.resident_id("110108", "19800101", order),
                addresses=[
                    {
                        "kind": "home",
                        "province": "北京市",
                        "city": "北京市",
                        "district": "海淀区",
                        "street": STREET,
                    }
                ],
            )
        )["id"]
    sh = await world.client("demo.sh.manager")
    await kit.create(sh, name="王秀兰", id_number=kit.resident_id("310115", "19880808", "008"))
    return ids


def _table(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_is_masked_neutralised_and_audited(
    world: World, kit: Any, bj: httpx.AsyncClient, exported: dict[str, int]
) -> None:
    response = await bj.get(f"{BASE}/customers/export", params={"address": "海淀", "codes": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _csv_rows(response)
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("x")', "王秀英"]
    for row in rows:
        assert row["phone"] == "138****5678"
        assert row["email"] == "w***@example.com"
        assert STREET not in row["address"]
        assert row["address"].startswith("北京市北京市海淀区中关村")
        assert "*" in row["id_number"]
    assert PHONE not in response.text
    assert kit.resident_id("110108", "19800101", "002") not in (response.text)
    # One export row per branch, in the reading transaction, with filter, count and format.
    audits = await kit.audit("export", "export")
    assert {a["branch_id"] for a in audits} == {world.branch("BJ-HD"), world.branch("BJ-CY")}
    for row in audits:
        after = json.loads(row["after"])
        assert after["filters"] == {"address": "海淀"}
        assert after["format"] == "csv"
        assert after["masked"] is True
        assert after["complete"]
        assert after["rows"] == 1
        assert after["total_rows"] == 2
        assert len(after["customer_ids"]) == 1
    assert await kit.audit("export", "reveal") == []


async def test_xlsx_contents(world: World, bj: httpx.AsyncClient, exported: dict[str, int]) -> None:
    response = await bj.post(
        f"{BASE}/customers/export", json={"format": "xlsx", "filter": {}, "codes": True}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == export.COLUMNS
    names = [row[3] for row in table[1:]]
    assert names == ['=HYPERLINK("x")', "王秀英"]  # stored as text, not as a formula
    assert all(row[8] == "138****5678" for row in table[1:])
    assert all(row[0] in exported.values() for row in table[1:])


async def test_reveal_needs_permission_and_reason(
    world: World, kit: Any, bj: httpx.AsyncClient, exported: dict[str, int]
) -> None:
    missing_reason = await bj.get(f"{BASE}/customers/export", params={"reveal": "true"})
    assert missing_reason.status_code == 422
    response = await bj.post(
        f"{BASE}/customers/export",
        json={"filter": {"q": "王秀英"}, "reveal": True, "reason": "监管报送核对", "codes": True},
    )
    assert response.status_code == 200, response.text
    (row,) = _csv_rows(response)
    assert row["phone"] == PHONE
    assert row["email"] == "wang@example.com"
    assert row["id_number"] == kit.resident_id("110108", "19800101", "002")
    assert row["address"].endswith(STREET)
    (revealed,) = await kit.audit("export", "reveal")
    assert revealed["reason"] == "监管报送核对"
    (audited,) = await kit.audit("export", "export")
    assert json.loads(audited["after"])["masked"] is False
    # A teller may read but neither export nor reveal.
    teller = await world.client("demo.teller")
    assert (await teller.get(f"{BASE}/customers/export")).status_code == 403


async def test_isolation_limits_and_saved_searches(
    world: World, kit: Any, bj: httpx.AsyncClient, exported: dict[str, int]
) -> None:
    sh = await world.client("demo.sh.manager")
    rows = _csv_rows(await sh.get(f"{BASE}/customers/export", params={"codes": "true"}))
    assert [r["name"] for r in rows] == ["王秀兰"]
    assert all(
        r["name"] != "王秀英"
        for r in _csv_rows(
            await sh.get(f"{BASE}/customers/export", params={"q": "王秀英", "codes": "true"})
        )
    )
    limited = _csv_rows(
        await bj.get(f"{BASE}/customers/export", params={"limit": 1, "codes": "true"})
    )
    assert len(limited) == 1
    saved = (
        await bj.post(f"{BASE}/saved-searches", json={"name": "王", "filter": {"q": "王"}})
    ).json()
    by_saved = _csv_rows(
        await bj.get(f"{BASE}/saved-searches/{saved['id']}/export", params={"codes": "true"})
    )
    assert [r["name"] for r in by_saved] == ["王秀英"]
    audits = await kit.audit("export", "export")
    assert json.loads(audits[-1]["after"])["saved_search_id"] == saved["id"]
    # Nothing matches: an empty file with its header, still audited.
    empty = await bj.post(f"{BASE}/customers/export", json={"filter": {"q": "不存在的人"}})
    assert _csv_rows(empty) == []
    assert json.loads((await kit.audit("export", "export"))[-1]["after"])["total_rows"] == 0


async def test_export_bound_refuses_before_streaming(
    world: World, bj: httpx.AsyncClient, exported: dict[str, int], monkeypatch: Any
) -> None:
    async def one_row(scope: Any) -> int:
        return 1

    monkeypatch.setattr(export, "max_rows", one_row)
    refused = await bj.get(f"{BASE}/customers/export")
    assert refused.status_code == 422
    assert "too_many_rows" in refused.text
    assert len(_csv_rows(await bj.get(f"{BASE}/customers/export", params={"limit": 1}))) == 1


def test_neutralise() -> None:
    for dangerous in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert export.neutralise(dangerous) == "'" + dangerous
    assert export.neutralise("王秀英") == "王秀英"


async def test_cut_short_export_is_still_audited(
    world: World, kit: Any, exported: dict[str, int]
) -> None:
    """A client that goes away mid-stream: closing the stream commits the audit of what
    was read, marked incomplete (the API closes it after the response, see search_api)."""
    with world.bind(await world.scope_of("BJ")):
        plan = await export.plan_export(CustomerFilter(), "csv")
        chunks = export.stream_export(plan)
        assert (await chunks.__anext__()).startswith(b"\xef\xbb\xbf")
        await chunks.aclose()
    (audited,) = await kit.audit("export", "export")
    after = json.loads(audited["after"])
    assert after["complete"] is False
    assert after["format"] == "csv"


async def test_an_export_speaks_the_clerks_terms_unless_codes_are_asked_for(
    world: World, bj: httpx.AsyncClient, exported: dict[str, int]
) -> None:
    chinese = _table(await bj.get(f"{BASE}/customers/export", params={"q": "王秀英"}))
    header, row = chinese[0], chinese[1]
    assert header[:4] == ["客户编号", "所属机构", "客户类型", "客户名称"]
    assert row[1] == "BJ-HD 北京海淀支行"
    assert row[2] == "个人客户"
    assert row[6] == "居民身份证"
    assert row[10] == "正常"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[-1])  # Beijing time
    english = _table(
        await bj.get(f"{BASE}/customers/export", params={"q": "王秀英", "language": "en"})
    )
    assert english[0][:2] == ["Customer ID", "Branch"]
    assert english[1][6] == "Resident ID card"
    codes = _table(
        await bj.get(f"{BASE}/customers/export", params={"q": "王秀英", "codes": "true"})
    )
    assert tuple(codes[0]) == export.COLUMNS
    assert codes[1][6] == "resident_id"
