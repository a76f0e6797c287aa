"""Exports of a report run: CSV and Excel streamed in staff terms, a PDF for printing with
the shipped Chinese font and a header naming branch, period and printer; each audited,
another branch's run absent."""

from __future__ import annotations

import csv
import io
import re
import zlib
from typing import Any

import openpyxl

from bankcrm_reporting.reports import export
from bankcrm_sdk.world import World

BASE = "/api/v1/reporting"


def unpacked(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams too) inflated."""
    parts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(parts)


async def run_of(world: World, kit: Any, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    rm = await world.client("demo.bj.rm")
    report = await kit.report(rm, **overrides)
    run = (await rm.post(f"{BASE}/reports/{report['id']}/run")).json()
    return rm, run


async def test_csv_speaks_staff_terms_and_neutralises_formulas(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 3, "wealth", 1_000_000)
    await kit.customers("BJ-HD", 1, "mass", 12_345)
    await kit.owner_fetch(
        "UPDATE customer_archive_customer SET credit_grade = '=1+' WHERE value_tier = 'mass'"
    )
    rm, run = await run_of(world, kit, dimensions=["branch", "value_tier", "credit_grade"])
    response = await rm.get(f"{BASE}/inbox/{run['id']}/export", params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["所属机构", "价值分层", "信用等级", "客户数（计数）", "资产规模（合计）"]
    body = {tuple(line) for line in lines[1:]}
    assert ("BJ-HD 北京海淀支行", "大众客户", "'=1+", "1", "123.45") in body
    assert any(
        line[1] == "财富客户" and line[3] == "3" and line[4] == "30000" for line in lines[1:]
    )

    english = await rm.get(
        f"{BASE}/inbox/{run['id']}/export", params={"format": "csv", "language": "en"}
    )
    assert english.content.decode("utf-8-sig").splitlines()[0].startswith("Branch,Value tier")
    audited = await kit.owner_fetch(
        "SELECT after FROM bankcrm_audit WHERE entity = 'reporting.report_run'"
        " AND entity_id = $1 AND action = 'export' ORDER BY id",
        str(run["id"]),
    )
    assert len(audited) == 2
    assert '"format": "csv"' in audited[0]["after"]
    assert '"masked_columns": []' in audited[0]["after"]


async def test_xlsx_has_numbers_and_says_what_the_report_is(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 2, "wealth", 150)
    rm, run = await run_of(world, kit)
    response = await rm.get(f"{BASE}/inbox/{run['id']}/export", params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["报表"]
    assert [c.value for c in sheet[1]] == ["价值分层", "客户数（计数）", "资产规模（合计）"]
    assert [c.value for c in sheet[2]] == ["财富客户", 2, 3]
    about = {row[0].value: row[1].value for row in book["说明"].iter_rows()}
    assert about["机构"] == "BJ-HD 北京海淀支行"
    assert about["报表"] == "客户分层"
    assert about["打印人"]
    assert about["期间"].startswith("全部期间")


async def test_the_pdf_embeds_the_shipped_font_and_spans_pages(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 120, "mass", 100)
    rm, run = await run_of(world, kit, dimensions=["created_on"], limit=500)
    await kit.owner_fetch(
        "UPDATE customer_archive_customer SET created_at = now() - make_interval(days => id % 120)"
    )
    again = (await rm.post(f"{BASE}/reports/{run['report']}/run")).json()
    assert again["row_count"] == 120
    response = await rm.get(f"{BASE}/inbox/{again['id']}/export", params={"format": "pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = unpacked(response.content)
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+BankcrmCJK", pdf)
    assert re.search(rb"/FontFile3", pdf)  # embedded, not referenced
    pages = re.search(rb"/Type\s*/Pages.*?/Count\s+(\d+)", pdf, re.S)
    assert pages is not None
    assert int(pages.group(1)) >= 3


async def test_the_print_layout_names_branch_period_and_printer(world: World, kit: Any) -> None:
    await kit.customers("BJ-HD", 1)
    _, run = await run_of(world, kit, period="last_month", dimensions=["created_on"])
    with world.bind(await world.scope_of("BJ")):
        from bankcrm_reporting.reports import services

        kept = await services.get_run(run["id"])
    scope = await world.scope_of("BJ-HD")
    with world.bind(scope):
        terms, heading = await export.terms_and_heading(kept, "zh")
    html = export.render_html(kept, terms, heading)
    assert "机构：BJ-HD 北京海淀支行" in html
    assert f"期间：{run['period_start']} ~ " in html
    assert "打印人：" in html
    assert "NotoSansCJKsc-Regular-GB2312.otf" in html
    assert export.FONT.stat().st_size > 1_000_000
    assert (export.FONT.parent / "OFL.txt").read_text().startswith("Copyright 2014-2021 Adobe")


async def test_nobody_else_exports_a_run(world: World, kit: Any) -> None:
    rm, run = await run_of(world, kit)
    url = f"{BASE}/inbox/{run['id']}/export"
    for username in ("demo.sh.manager", "demo.sh.rm"):
        other = await world.client(username)
        assert (await other.get(url, params={"format": "pdf"})).status_code == 404, username
    teller = await world.client("demo.teller")
    assert (await teller.get(url)).status_code == 403
    bad = await rm.get(url, params={"format": "docx"})
    assert bad.status_code in (400, 422)
    audited = await kit.owner_fetch(
        "SELECT id FROM bankcrm_audit WHERE entity = 'reporting.report_run' AND action = 'export'"
    )
    assert audited == []
