"""Import of customers and holdings: upload, preview, report, commit, maker-checker."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import asyncpg
import httpx
import openpyxl

from bankcrm import db
from bankcrm_customer_archive.demo_data import resident_id_check_digit, uscc_check_char
from bankcrm_customer_archive.importing.commit import commit_batch
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
IMPORTS = f"{BASE}/imports"


def rid(born: str = "19850614", order: str = "302", region: str = "110108") -> str:
    body = region + born + order
    return body + resident_id_check_digit(body)


def uscc(body: str = "91110108MA01ABCD1") -> str:
    return body + uscc_check_char(body)


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient, content: bytes, name: str = "customers.csv", **fields: Any
) -> httpx.Response:
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    return await client.post(IMPORTS, files={"file": (name, content)}, data=data)


CHINESE_HEADER = ["客户名称", "证件号码", "手机号", "出生日期", "性别", "学历", "婚姻状况", "收入",
                  "省", "市", "区", "详细地址", "邮编", "标签"]  # fmt: skip
ENGLISH_HEADER = ["Name", "ID Number", "Phone", "Birth date", "Gender", "Education"]


def chinese_rows() -> list[list[Any]]:
    return [
        CHINESE_HEADER,
        ["王秀英", rid("19850614", "302"), "138 1234 5678", "1985/6/14", "女", "本科", "已婚",
         "10-30万", "北京市", "北京市", "海淀区", "中关村大街1号", "100080", "代发工资,VIP"],
        ["李娜", rid("19900101", "124"), "13912345678", "19900101", "女", "硕士", "未婚",
         "250000", "", "", "", "", "", ""],
        ["错误号码", "110108198506143021", "12345", "1985-02-30", "男", "", "", "", "", "", "",
         "", "", ""],
        ["王秀英重复", rid("19850614", "302"), "13800000000", "", "", "", "", "", "", "", "", "",
         "", ""],
        ["北京正腾科技有限公司", uscc(), "010-62345678", "", "", "", "", "", "北京市", "北京市",
         "海淀区", "上地十街10号", "100085", ""],
    ]  # fmt: skip


async def customers_of_batch(world: World, batch_id: int) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(
            await owner.fetch(
                "SELECT * FROM customer_archive_customer WHERE import_batch_id = $1 ORDER BY id",
                batch_id,
            )
        )
    finally:
        await owner.close()


async def test_chinese_csv_is_validated_staged_and_committed(
    world: World, bj: httpx.AsyncClient, job_worker: Any
) -> None:
    response = await upload(bj, csv_bytes(chinese_rows()), branch_id=str(world.branch("BJ")))
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "validated"
    assert batch["encoding"] == "utf-8"
    assert batch["delimiter"] == ","
    assert batch["mapping"]["证件号码"] == "id_number"
    assert (batch["total_rows"], batch["valid_rows"], batch["invalid_rows"]) == (5, 3, 1)
    assert batch["duplicate_rows"] == 1
    assert batch["existing_rows"] == 0
    assert await customers_of_batch(world, batch["id"]) == []

    problems = (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).json()["items"]
    by_row = {p["row"]: p for p in problems}
    assert set(by_row) == {4, 5}
    bad = {e["field"]: e for e in by_row[4]["errors"]}
    assert set(bad) == {"id_number", "phone", "birth_date"}
    assert bad["id_number"]["column"] == "证件号码"
    assert "check digit" in bad["id_number"]["message"]
    # Masked, never in clear, but with its length so the clerk sees what to correct.
    assert bad["id_number"]["value"] == "110***********3021 (18)"
    assert "30" in bad["birth_date"]["message"] or "date" in bad["birth_date"]["message"]
    assert by_row[5]["state"] == "duplicate"
    assert "row 2" in by_row[5]["errors"][0]["message"]

    jobs = await job_worker()
    response = await bj.post(f"{IMPORTS}/{batch['id']}/commit")
    assert response.status_code == 202, response.text
    await jobs.drain(30)
    batch = (await bj.get(f"{IMPORTS}/{batch['id']}")).json()
    assert batch["status"] == "committed"
    assert batch["committed_rows"] == 3
    assert batch["progress"] == {**batch["progress"], "phase": "done", "done": 3, "total": 3}

    rows = await customers_of_batch(world, batch["id"])
    assert [r["name"] for r in rows] == ["王秀英", "李娜", "北京正腾科技有限公司"]
    wang, li, company = rows
    assert wang["phone"] == "13812345678"
    assert wang["gender"] == "F"
    assert str(wang["birth_date"]) == "1985-06-14"
    assert wang["education"] == "bachelor"
    assert wang["income_band"] == "100k_300k"
    assert wang["marital_status"] == "married"
    assert wang["name_pinyin"] == "wangxiuying"
    assert wang["branch_id"] == world.branch("BJ")
    assert li["income_band"] == "100k_300k"
    assert li["gender"] == "F"
    assert company["kind"] == "corporate"
    assert company["id_type"] == "uscc"

    found = await bj.get(f"{BASE}/customers", params={"q": "wangxiuying"})
    assert [c["id"] for c in found.json()["items"]] == [wang["id"]]
    detail = (await bj.get(f"{BASE}/customers/{wang['id']}")).json()
    assert detail["addresses"][0]["city"] == "北京市"
    assert sorted(t["name"] for t in detail["tags"]) == ["VIP", "代发工资"]
    assert detail["id_number"] != rid()  # masked in the API

    audit = await world_audit(world, batch["id"])
    assert [a["action"] for a in audit] == ["create", "update", "create"]
    assert audit[-1]["after"]["committed"] == 3


async def world_audit(world: World, batch_id: int) -> list[dict[str, Any]]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        rows = await owner.fetch(
            "SELECT action, after FROM bankcrm_audit WHERE entity = 'customer_archive.import_batch'"
            " AND entity_id = $1 ORDER BY id",
            str(batch_id),
        )
        return [{"action": r["action"], "after": json.loads(r["after"])} for r in rows]
    finally:
        await owner.close()


async def test_english_xlsx_and_gbk_csv(world: World, bj: httpx.AsyncClient) -> None:
    rows = [
        ENGLISH_HEADER,
        ["Zhang Wei", rid("19800202", "011"), 13712345678, "1980-02-02", "male", "Master"],
        ["Liu Yang", rid("19750505", "022"), "13612345678", 27519, "F", "doctorate"],
    ]
    response = await upload(bj, xlsx_bytes(rows), "people.xlsx")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["file_format"] == "xlsx"
    assert (batch["valid_rows"], batch["invalid_rows"]) == (2, 0), batch

    gbk = csv_bytes(
        [["姓名", "身份证号", "手机"], ["赵敏", rid("19920303", "045"), "13512345678"]],
        encoding="gbk",
    )
    response = await upload(bj, gbk, "gbk.csv")
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "gb18030"
    assert response.json()["valid_rows"] == 1

    semicolons = csv_bytes(
        [["name", "id_number"], ["Chen Jie", rid("19880808", "033")]], delimiter=";"
    )
    response = await upload(bj, semicolons, "semi.csv")
    assert response.json()["delimiter"] == ";"
    assert response.json()["valid_rows"] == 1


async def test_excel_serial_dates_and_corporate_fields(bj: httpx.AsyncClient) -> None:
    rows = [
        ["客户名称", "证件号码", "客户类型", "企业规模", "注册资本", "成立日期", "出生日期"],
        ["上海某某贸易有限公司", uscc("91310115MA1H7B2C3"), "企业", "小型", "500万", "2015-03-01",
         ""],
        ["个人但填了注册资本", rid("19850614", "302"), "个人", "", "100", "", 31212],
    ]  # fmt: skip
    response = await upload(bj, xlsx_bytes(rows), "corp.xlsx")
    batch = response.json()
    assert (batch["valid_rows"], batch["invalid_rows"]) == (1, 1), batch
    problems = (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).json()["items"]
    fields = {e["field"] for e in problems[0]["errors"]}
    assert fields == {"registered_capital"}  # serial 31212 = 1985-06-14 agrees with the ID


async def test_mapping_errors_unknown_columns_and_saved_sources(
    world: World, bj: httpx.AsyncClient
) -> None:
    response = await upload(bj, csv_bytes([["手机号", "备注"], ["13812345678", "x"]]))
    assert response.status_code == 422
    assert "name" in response.json()["detail"]
    assert "id_number" in response.json()["detail"]

    content = csv_bytes([["户主", "号码", "备注"], ["王秀英", rid(), "x"]])
    response = await upload(
        bj, content, mapping={"户主": "name", "号码": "id_number"}, source="核心系统导出",
        save_mapping="true",
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["unknown_columns"] == ["备注"]
    sources = (await bj.get(f"{BASE}/import-sources")).json()
    assert sources[0]["name"] == "核心系统导出"
    assert sources[0]["mapping"] == {"户主": "name", "号码": "id_number"}

    other = csv_bytes([["户主", "号码"], ["李娜", rid("19900101", "124")]])
    response = await upload(bj, other, source="核心系统导出")
    assert response.status_code == 201, response.text
    assert response.json()["valid_rows"] == 1

    response = await upload(bj, other, "again.csv", mapping={"户主": "nonsense"})
    assert response.status_code in (409, 422)


async def test_same_file_twice_and_commit_twice_add_nothing(
    world: World, bj: httpx.AsyncClient, job_worker: Any
) -> None:
    content = csv_bytes(chinese_rows())
    first = (await upload(bj, content)).json()
    again = await upload(bj, content, "renamed.csv")
    assert again.status_code == 409
    assert f"batch {first['id']}" in again.json()["detail"]

    jobs = await job_worker()
    await bj.post(f"{IMPORTS}/{first['id']}/commit")
    await bj.post(f"{IMPORTS}/{first['id']}/commit")
    await jobs.drain(30)
    second = await bj.post(f"{IMPORTS}/{first['id']}/commit")
    assert second.status_code == 202
    assert second.json()["status"] == "committed"
    await jobs.drain(30)
    assert len(await customers_of_batch(world, first["id"])) == 3
    with world.bind(world.system_scope("BJ")):
        assert await commit_batch(first["id"]) == "committed"
    assert len(await customers_of_batch(world, first["id"])) == 3

    # The same people in another file: reported as existing, nothing added.
    rows = chinese_rows()
    rows[1][0] = "王秀英（新）"
    batch = (await upload(bj, csv_bytes(rows))).json()
    assert batch["existing_rows"] == 3
    assert batch["valid_rows"] == 0
    response = await bj.post(f"{IMPORTS}/{batch['id']}/commit")
    assert response.status_code == 422


async def test_maker_checker(world: World, bj: httpx.AsyncClient, job_worker: Any) -> None:
    with world.bind(world.system_scope()):
        async with db.transaction():
            await db.fetch(
                "UPDATE bankcrm_plugin_enablement SET settings = $2::jsonb"
                " WHERE branch = $1 AND plugin = 'customer_archive'",
                world.branch("HQ"),
                json.dumps({"import_requires_approval": True}),
            )
    from bankcrm import branches

    branches.invalidate()
    batch = (await upload(bj, csv_bytes(chinese_rows()))).json()
    assert batch["requires_approval"] is True
    jobs = await job_worker()
    waiting = (await bj.post(f"{IMPORTS}/{batch['id']}/commit")).json()
    assert waiting["status"] == "awaiting_approval"
    await jobs.drain(10)
    assert await customers_of_batch(world, batch["id"]) == []

    own = await bj.post(f"{IMPORTS}/{batch['id']}/approve", json={"note": "ok"})
    assert own.status_code == 403
    assert "uploader" in own.json()["detail"]
    rm = await world.client("demo.bj.rm")
    assert (await rm.post(f"{IMPORTS}/{batch['id']}/approve", json={})).status_code == 403

    admin = await world.client("demo.admin")
    approved = await admin.post(f"{IMPORTS}/{batch['id']}/approve", json={"note": "checked"})
    assert approved.status_code == 202, approved.text
    await jobs.drain(30)
    done = (await bj.get(f"{IMPORTS}/{batch['id']}")).json()
    assert done["status"] == "committed"
    assert done["decided_by"] == world.users["demo.admin"]
    assert len(await customers_of_batch(world, batch["id"])) == 3

    fresh = [["姓名", "身份证号"], ["周芷若", rid("19950505", "046")]]
    other = (await upload(bj, csv_bytes(fresh), "b.csv")).json()
    assert other["valid_rows"] == 1
    await bj.post(f"{IMPORTS}/{other['id']}/commit")
    rejected = await admin.post(f"{IMPORTS}/{other['id']}/reject", json={"note": "wrong file"})
    assert rejected.json()["status"] == "rejected"
    assert (await bj.post(f"{IMPORTS}/{other['id']}/commit")).status_code == 409
    audit = await world_audit(world, other["id"])
    assert audit[-1]["after"]["status"] == "rejected"


async def test_branch_isolation(world: World, bj: httpx.AsyncClient) -> None:
    sh = await world.client("demo.sh.manager")
    batch = (await upload(sh, csv_bytes(chinese_rows()))).json()
    assert batch["branch_id"] == world.branch("SH")
    assert (await bj.get(f"{IMPORTS}/{batch['id']}")).status_code == 404
    assert (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).status_code == 404
    assert (await bj.get(f"{IMPORTS}/{batch['id']}/report")).status_code == 404
    assert (await bj.post(f"{IMPORTS}/{batch['id']}/commit")).status_code == 404
    assert (await bj.get(IMPORTS)).json()["items"] == []
    into_sh = await upload(bj, csv_bytes(chinese_rows()), branch_id=str(world.branch("SH")))
    assert into_sh.status_code == 403
    row_branch = csv_bytes([["姓名", "身份证号", "机构"], ["王秀英", rid(), "SH"]])
    batch = (await upload(bj, row_branch)).json()
    assert batch["invalid_rows"] == 1


async def test_error_report_marks_bad_cells(world: World, bj: httpx.AsyncClient) -> None:
    batch = (await upload(bj, csv_bytes(chinese_rows()))).json()
    response = await bj.get(f"{IMPORTS}/{batch['id']}/report")
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[0] == "行号 Row"
    assert header[-1] == "错误 Errors"
    assert header[1:-1] == CHINESE_HEADER
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == [4, 5]
    id_cell = rows[0][header.index("证件号码")]
    assert id_cell.value == "110***********3021 (18)"
    assert id_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert id_cell.comment is not None
    assert "check digit" in id_cell.comment.text
    name_cell = rows[0][header.index("客户名称")]
    assert name_cell.value == "错误号码"
    assert name_cell.comment is None
    assert not name_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "手机号" in rows[0][-1].value
    duplicate_id = rows[1][header.index("证件号码")]
    assert duplicate_id.comment is not None
    assert "row 2" in duplicate_id.comment.text
    audit = await world_audit(world, batch["id"])
    assert audit[-1]["action"] == "export"


async def test_holdings_import(
    world: World, bj: httpx.AsyncClient, catalogue: dict[str, int], job_worker: Any
) -> None:
    customers = (await upload(bj, csv_bytes(chinese_rows()))).json()
    jobs = await job_worker()
    await bj.post(f"{IMPORTS}/{customers['id']}/commit")
    await jobs.drain(30)
    code = next(iter(catalogue))
    rows = [
        ["证件号码", "产品代码", "账号", "余额", "开户日期", "状态"],
        [rid(), code, "6222000011112222", "1,234.50", "2020-01-02", "正常"],
        [rid(), code, "6222000011112222", "1", "2020-01-02", "正常"],
        [rid("19700101", "999"), code, "6222000011113333", "1", "", ""],
        [rid("19900101", "124"), "NOPE", "6222000011114444", "-5", "2999-01-01", ""],
    ]
    response = await upload(bj, csv_bytes(rows), "holdings.csv", kind="holding")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["valid_rows"], batch["duplicate_rows"], batch["invalid_rows"]) == (1, 1, 2)
    await bj.post(f"{IMPORTS}/{batch['id']}/commit")
    await jobs.drain(30)
    assert (await bj.get(f"{IMPORTS}/{batch['id']}")).json()["committed_rows"] == 1
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        holding = await owner.fetchrow(
            "SELECT * FROM customer_archive_holding WHERE account_no = '6222000011112222'"
        )
    finally:
        await owner.close()
    assert holding is not None
    assert str(holding["balance"]) == "1234.50"


async def test_tampered_cursor_on_the_errors_list_is_a_400(bj: httpx.AsyncClient) -> None:
    batch = (await upload(bj, csv_bytes(chinese_rows()))).json()
    errors = f"{IMPORTS}/{batch['id']}/errors"
    first = await bj.get(errors, params={"limit": 1})
    assert first.status_code == 200, first.text
    assert first.json()["next_cursor"]
    # Once a 500: int() of the string key.
    for keys in (b'["x"]', b"[1.5]", b"[1, 2]", b"[true]", b"[123456789012345678901234]"):
        cursor = base64.urlsafe_b64encode(keys).decode().rstrip("=")
        response = await bj.get(errors, params={"cursor": cursor})
        assert response.status_code == 400, (keys, response.text)
        problem = response.json()
        assert problem["type"].endswith("/invalid_cursor")
        assert [e["field"] for e in problem["errors"]] == ["/query/cursor"]


async def test_form_fields_and_file_names_refuse_control_and_bidi_characters(
    bj: httpx.AsyncClient,
) -> None:
    content = csv_bytes(chinese_rows())
    refused = await upload(bj, content, source="网点\u202e导出", save_mapping="true")
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["/body/source"]
    refused = await upload(bj, content, name="customers\u202evsc.exe")
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["/body/file"]


def test_a_refused_value_is_shown_enough_to_correct_it() -> None:
    from bankcrm_customer_archive.importing.validate import for_correction

    assert for_correction("phone", "1381234") == "******* (7)"
    assert for_correction("phone", "138-1234-567") == "138*****-567 (12, '-')"
    assert for_correction("name", "王秀英") == "王秀英"
