"""Files an import must refuse: each a 4xx naming the problem, and no batch left behind."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest

from bankcrm import tabular as reading
from bankcrm_customer_archive.demo_data import resident_id_check_digit
from bankcrm_sdk.world import World

IMPORTS = "/api/v1/customer_archive/imports"


def rid(born: str = "19850614", order: str = "302") -> str:
    body = "110108" + born + order
    return body + resident_id_check_digit(body)


def workbook(rows: list[list[Any]], decorate: Any = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if decorate is not None:
        decorate(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_ROWS: list[list[Any]] = [["姓名", "身份证号"], ["王秀英", rid()], ["李娜", rid("19900101")]]


def ole2(*streams: str) -> bytes:
    """The first sector of a compound file whose directory names ``streams``."""
    header = reading.OLE2_MAGIC + b"\x00" * 504
    directory = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for name in streams
    )
    return header + directory


def far_cell(reference: str) -> Any:
    def decorate(sheet: Any) -> None:
        sheet[reference] = "x"

    return decorate


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/worksheets/sheet1.xml", b"\x00" * (64 << 20))
    return buffer.getvalue()


def formula_book(sheet: Any) -> None:
    sheet["C2"] = "=A2&B2"


def merged_book(sheet: Any) -> None:
    sheet.merge_cells("A2:A3")


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def mixed_encoding() -> bytes:
    good = csv_bytes([["姓名", "身份证号"], ["王秀英", rid()]])
    return good + "李娜,".encode("gbk") + rid("19900101").encode() + b"\r\n"


CASES = [
    ("encrypted.xlsx", ole2("Root Entry", "EncryptionInfo", "EncryptedPackage"), 422,
     "password-protected"),
    ("legacy.xls", ole2("Root Entry", "Workbook"), 422, ".xls"),
    ("truncated.xlsx", workbook(GOOD_ROWS)[:-200], 422, "truncated"),
    ("notexcel.xlsx", b"PK\x03\x04" + b"\x00" * 100, 422, "damaged"),
    ("formulas.xlsx", workbook(GOOD_ROWS, formula_book), 422, "formulas (first at C2)"),
    ("merged.xlsx", workbook(GOOD_ROWS, merged_book), 422, "merged cells (A2:A3)"),
    ("empty.xlsx", workbook([]), 422, "is empty"),
    ("header-only.xlsx", workbook(GOOD_ROWS[:1]), 422, "no data rows"),
    ("header-only.csv", csv_bytes(GOOD_ROWS[:1]), 422, "no data rows"),
    ("empty.csv", b"", 422, "the file is empty"),
    ("mixed.csv", mixed_encoding(), 422, "line 3 is not valid UTF-8"),
    ("utf16.csv", "姓名,身份证号\r\n".encode("utf-16"), 422, "UTF-16"),
    ("picture.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, 415, "unsupported file type"),
    # 4.9 KB that made the reader allocate 500 GB and abort the server; 1 GB per request.
    ("far.xlsx", workbook(GOOD_ROWS, far_cell("XFD1000000")), 422, "uses column 16,384"),
    ("wide.xlsx", workbook(GOOD_ROWS, far_cell("XFD2000")), 422, "uses column 16,384"),
    ("long.xlsx", workbook(GOOD_ROWS, far_cell("Z1048576")), 413, "more than 1,000,000"),
    ("bomb.xlsx", zip_bomb(), 422, "decompression bomb"),
]  # fmt: skip


async def batch_count(world: World) -> int:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return int(
            await owner.fetchval(
                "SELECT (SELECT count(*) FROM customer_archive_import_batch)"
                " + (SELECT count(*) FROM customer_archive_import_row)"
            )
        )
    finally:
        await owner.close()


@pytest.mark.parametrize(("name", "content", "status", "message"), CASES, ids=[c[0] for c in CASES])
async def test_bad_file_is_refused_naming_the_problem(
    world: World, bj: httpx.AsyncClient, name: str, content: bytes, status: int, message: str
) -> None:
    response = await bj.post(IMPORTS, files={"file": (name, content)})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert message in response.json()["detail"], response.json()["detail"]
    assert await batch_count(world) == 0


async def test_size_limit_is_checked_while_streaming(
    world: World, bj: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANKCRM_IMPORT_MAX_BYTES", "1000")
    big = csv_bytes([["姓名", "身份证号"]] + [["王秀英", rid()]] * 100)
    response = await bj.post(IMPORTS, files={"file": ("big.csv", big)})
    assert response.status_code == 413
    assert "larger than the import limit" in response.json()["detail"]
    assert await batch_count(world) == 0


async def test_row_limit_refuses_the_whole_file(
    world: World, bj: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    monkeypatch.setattr(reading, "CHUNK_ROWS", 2)
    rows = [["姓名", "身份证号"]] + [["王秀英", rid(order=f"{i:03d}")] for i in range(1, 6)]
    response = await bj.post(IMPORTS, files={"file": ("many.csv", csv_bytes(rows))})
    assert response.status_code == 413
    assert "more than 3 data rows" in response.json()["detail"]
    assert await batch_count(world) == 0
    response = await bj.post(IMPORTS, files={"file": ("many.xlsx", workbook(rows))})
    assert response.status_code == 413
    assert await batch_count(world) == 0


async def test_not_multipart_and_missing_file(bj: httpx.AsyncClient) -> None:
    response = await bj.post(IMPORTS, json={"file": "x"})
    assert response.status_code == 415
    response = await bj.post(IMPORTS, files={"other": ("a.csv", b"x")})
    assert response.status_code == 422
    assert "part named 'file'" in response.json()["detail"]


async def test_numbers_stored_as_excel_numbers_and_formula_text_in_csv(
    bj: httpx.AsyncClient,
) -> None:
    rows: list[list[Any]] = [["姓名", "身份证号"], ["王秀英", 110108198506143021.0]]
    response = await bj.post(IMPORTS, files={"file": ("n.xlsx", workbook(rows))})
    batch = response.json()
    assert batch["invalid_rows"] == 1
    errors = (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).json()["items"][0]["errors"]
    assert "stored as a number in Excel" in errors[0]["message"]

    injected = csv_bytes([["姓名", "身份证号"], ['=HYPERLINK("http://x")', rid()]])
    batch = (await bj.post(IMPORTS, files={"file": ("i.csv", injected)})).json()
    assert batch["invalid_rows"] == 1
    errors = (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).json()["items"][0]["errors"]
    assert "formula" in errors[0]["message"]


def test_truncated_zip_is_named_without_reading_rows(tmp_path: Any) -> None:
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(Exception, match="truncated"):
        reading.inspect_file(path, "t.xlsx")


async def test_hostile_workbooks_leave_the_server_answering(
    world: World, bj: httpx.AsyncClient
) -> None:
    for reference in ("XFD1000000", "XFD2000", "CV500000"):
        content = workbook(GOOD_ROWS, far_cell(reference))
        assert len(content) < 10_000
        response = await bj.post(IMPORTS, files={"file": ("hostile.xlsx", content)})
        assert 400 <= response.status_code < 500, response.text
        assert (await bj.get("/readyz")).status_code == 200
    assert await batch_count(world) == 0


async def test_a_nul_byte_is_a_row_error_naming_the_column(bj: httpx.AsyncClient) -> None:
    rows = [
        ["姓名", "身份证号", "备注"],
        ["王\x00秀英", rid(), "ok"],
        ["李娜", rid("19900101"), "a\u202eb"],
    ]
    batch = (await bj.post(IMPORTS, files={"file": ("nul.csv", csv_bytes(rows))})).json()
    assert batch["invalid_rows"] == 2, batch
    items = (await bj.get(f"{IMPORTS}/{batch['id']}/errors")).json()["items"]
    found = {(item["row"], e["column"], e["message"]) for item in items for e in item["errors"]}
    assert (2, "姓名", "contains the control character U+0000") in found, found
    assert (3, "备注", "contains the control character U+202E") in found, found
