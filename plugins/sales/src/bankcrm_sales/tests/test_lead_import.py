"""Lead import: Chinese and English headers, CSV and xlsx, owners by the assignment rules,
scores with reasons, audited; a rerun creates nothing twice; a file with any bad cell is
refused whole with every bad cell named by row and column."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

from bankcrm_sdk.world import World

URL = "/api/v1/sales/leads/import"
CSV_ZH = (
    "姓名,手机号,邮箱,渠道,客户需求,预计金额\n"
    "赵敏,13800138001,,网站表单,到期定存想转理财,200000\n"
    "钱多多,13800138002,qdd@example.com,,想办信用卡,\n"
    '孙悦,,sun@example.com,call_centre,,"1,500,000"\n'
)


def xlsx(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("leads")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


async def send(client: Any, name: str, content: bytes, **fields: str) -> Any:
    return await client.post(URL, files={"file": (name, content)}, data=fields)


async def counts(kit: Any) -> tuple[int, int]:
    rows = await kit.owner_fetch(
        "SELECT (SELECT count(*) FROM sales_lead) AS leads,"
        " (SELECT count(*) FROM sales_intake_key) AS keys"
    )
    return rows[0]["leads"], rows[0]["keys"]


async def test_a_chinese_csv_imports_once_with_owners_scores_and_audit(
    world: World, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    before = await counts(kit)
    response = await send(manager, "线索.csv", CSV_ZH.encode("utf-8-sig"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["already_imported"]) == (3, 3, 0)
    assert report["committed"] is True
    assert report["errors"] == []
    leads = {
        r["prospect_name"]: r
        for r in await kit.owner_fetch(
            "SELECT * FROM sales_lead WHERE id = ANY($1::int[])", report["lead_ids"]
        )
    }
    assert leads["赵敏"]["channel"] == "web"  # by its Chinese name
    assert leads["钱多多"]["channel"] == "import"  # the default
    assert leads["孙悦"]["estimated_amount"] == 1500000
    assert all(lead["owner"] is not None for lead in leads.values())  # the engine's choice
    assert all(lead["score_reasons"] for lead in leads.values())
    assert all(lead["branch_id"] == world.branch("BJ") for lead in leads.values())
    assert len(await kit.audit("sales.lead_import", report["file_sha256"])) == 1
    for lead_id in report["lead_ids"]:
        assert len(await kit.audit("sales.lead", lead_id)) == 1
    # The same file again: nothing new.
    again = await send(manager, "线索.csv", CSV_ZH.encode("utf-8-sig"))
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["already_imported"]) == (0, 3)
    assert await counts(kit) == (before[0] + 3, before[1] + 3)


async def test_an_english_xlsx_is_idempotent_by_external_id(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    header = ["External ID", "Name", "Phone", "Channel", "Amount", "Company"]
    first = xlsx([header, ["CC-1", "Li Lei", "13900000001", "Call centre", 50000, "ACME"]])
    response = await send(manager, "leads.xlsx", first)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    # A later export of the call centre repeats CC-1 and adds CC-2.
    second = xlsx([
        header,
        ["CC-1", "Li Lei", "13900000001", "Call centre", 50000, "ACME"],
        ["CC-2", "Han Meimei", "13900000002", "referral", 0, ""],
    ])  # fmt: skip
    response = await send(manager, "leads-2.xlsx", second)
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["already_imported"]) == (1, 1)
    refs = {
        r["external_ref"]: r["channel"]
        for r in await kit.owner_fetch("SELECT external_ref, channel FROM sales_lead")
    }
    assert refs["CC-1"] == "call_centre"
    assert refs["CC-2"] == "referral"


async def test_bad_cells_refuse_the_whole_file_naming_row_and_column(
    world: World, kit: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    before = await counts(kit)
    bad = (
        "外部编号,姓名,手机号,邮箱,渠道,预计金额,意向产品\n"
        "A1,周一,13800000001,,web,100,\n"  # good
        "A2,周二,13800000002,not-an-email,web,100,\n"  # row 3: e-mail
        "A3,周三,13800000003,,电报,100,\n"  # row 4: channel
        "A4,周四,13800000004,,web,很多,\n"  # row 5: amount
        "A5,,,,web,,\n"  # row 6: no name, no way to reach them
        "A1,周六,13800000006,,web,-5,\n"  # row 7: external id repeated, negative amount
        "A7,周日,13800000007,,web,,NO-SUCH\n"  # row 8: unknown product
    )
    response = await send(manager, "bad.csv", bad.encode())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    messages = [e["message"] for e in response.json()["errors"]]
    for expected in (
        "row 3, column 邮箱:", "row 4, column 渠道:", "row 5, column 预计金额:",
        "row 6, column 姓名:", "row 6, column 手机号:", "row 7, column 外部编号:",
        "row 7, column 预计金额:", "row 8, column 意向产品:",
    ):  # fmt: skip
        assert any(m.startswith(expected) for m in messages), (expected, messages)
    assert not any(m.startswith("row 2,") for m in messages)
    assert await counts(kit) == before  # nothing half-written
    # A preview answers the same report and writes nothing either.
    preview = await send(manager, "bad.csv", bad.encode(), mode="preview")
    assert preview.status_code == 200, preview.text
    assert preview.json()["committed"] is False
    assert len(preview.json()["errors"]) == len(messages)
    assert await counts(kit) == before


async def test_files_and_fields_that_cannot_be_imported(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    no_name = await send(manager, "x.csv", b"phone\n13800000000\n")
    assert no_name.status_code == 422, no_name.text
    assert "name" in no_name.json()["detail"]
    not_a_sheet = await send(manager, "x.xlsx", b"\x00\x01 not a workbook")
    assert 400 <= not_a_sheet.status_code < 500
    other_branch = await send(manager, "x.csv", CSV_ZH.encode(), branch_id=str(world.branch("SH")))
    assert other_branch.status_code == 422, other_branch.text
    bad_mode = await send(manager, "x.csv", CSV_ZH.encode(), mode="maybe")
    assert bad_mode.status_code == 422, bad_mode.text
    rm = await world.client("demo.bj.rm")  # importing is the branch's decision
    assert (await send(rm, "x.csv", CSV_ZH.encode())).status_code == 403
