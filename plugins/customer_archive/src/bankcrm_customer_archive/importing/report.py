"""The preview's error report as ``.xlsx``: every problem row, bad cells marked.

Rows imported with a warning (an unknown manager left unassigned) are listed too, the
cell filled yellow; a second sheet lists the file's columns that are not imported.

Written with xlsxwriter in constant-memory mode from a server-side cursor, so a report of
a million bad rows never sits in memory. Columns: the row's line in the file, the mapped
columns under the file's own headers, and the errors. A bad cell shows the value as the
file had it, filled red with the message as a comment; other cells show the value as it
was understood. Personal data is masked as everywhere else; nothing is ever written as a
formula (``strings_to_formulas`` off).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import xlsxwriter

from bankcrm import db, messages
from bankcrm.web.problems import not_found
from bankcrm_customer_archive.importing.service import BATCH, staging_table
from bankcrm_customer_archive.records import mask_email, mask_phone

_DISPLAY_CUSTOMER: dict[str, str] = {
    "id_number": "id_number_masked", "birth_date": "birth_date", "gender": "gender",
    "kind": "kind", "id_type": "id_type", "name": "name", "phone": "phone", "email": "email",
    "occupation": "occupation", "employer": "employer", "industry": "industry",
    "education": "education", "income_band": "income_band",
    "marital_status": "marital_status", "company_size": "company_size",
    "registered_capital": "registered_capital", "established_on": "established_on",
    "relationship_manager": "relationship_manager", "branch": "target_branch_id",
    "province": "province", "city": "city", "district": "district", "street": "street",
    "postcode": "postcode", "tags": "tags",
}  # fmt: skip
_DISPLAY_HOLDING: dict[str, str] = {
    "id_number": "id_number_masked", "product_code": "product_code",
    "account_no": "account_no", "balance": "balance", "currency": "currency",
    "opened_on": "opened_on", "status": "status", "branch": "target_branch_id",
}  # fmt: skip
_MASK = {
    "phone": mask_phone,
    "email": mask_email,
    "street": lambda v: v[:6] + "***" if v and len(v) > 6 else "***" if v else v,
    "account_no": lambda v: v[:4] + "****" + v[-4:] if v and len(v) > 8 else v,
}


def _display(field_name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    masker = _MASK.get(field_name)
    text = masker(str(value)) if masker else str(value)
    return text or ""


def _address(row: Any) -> str:
    # 北京市北京市朝阳区 reads 北京市朝阳区: a municipality is its own city.
    province, city = row["province"] or "", row["city"] or ""
    return (
        province
        + (city if city != province else "")
        + (row["district"] or "")
        + (row["street"] or "")
    )


def _not_imported_sheet(
    workbook: xlsxwriter.Workbook, bold: Any, stored: Any, language: str
) -> None:
    columns = json.loads(stored) if isinstance(stored, str) else stored or []
    sheet = workbook.add_worksheet("未导入的列")
    sheet.write_string(0, 0, "列 Column", bold)
    sheet.write_string(0, 1, "原因 Reason", bold)
    for line, column in enumerate(columns, start=1):
        sheet.write_string(line, 0, column["column"])
        if column["reason"] == "superseded":
            reason = (
                f"已从“{column['instead']}”列导入同一项"
                if language == "zh"
                else f"the same field is imported from column {column['instead']}"
            )
        else:
            reason = "未识别的列名" if language == "zh" else "header not recognised"
        sheet.write_string(line, 1, reason)


async def write_report(batch_id: int, language: str = "zh") -> tuple[Path, str]:
    """The report of ``batch_id`` in a temporary file, and a download name for it."""
    batch = await db.fetchrow(f"SELECT * FROM {BATCH} WHERE id = $1", batch_id)
    if batch is None:
        raise not_found(f"import batch {batch_id}")
    mapping = batch["mapping"]
    mapping = json.loads(mapping) if isinstance(mapping, str) else mapping
    headers = (
        json.loads(batch["headers"]) if isinstance(batch["headers"], str) else batch["headers"]
    )
    columns = [(h, mapping[h]) for h in headers if h in mapping]
    display = _DISPLAY_CUSTOMER if batch["kind"] == "customer" else _DISPLAY_HOLDING
    descriptor, name = tempfile.mkstemp(prefix="bankcrm-import-report-", suffix=".xlsx")
    os.close(descriptor)
    path = Path(name)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_numbers": False, "strings_to_urls": False},
    )  # fmt: skip
    try:
        sheet = workbook.add_worksheet("错误报告")
        bold = workbook.add_format({"bold": True, "bg_color": "#DDDDDD"})
        bad = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        noted = workbook.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        sheet.write_string(0, 0, "行号 Row", bold)
        for position, (header, _) in enumerate(columns, start=1):
            sheet.write_string(0, position, header, bold)
        sheet.write_string(0, len(columns) + 1, "错误 Errors", bold)
        sheet.freeze_panes(1, 1)
        line = 1
        async with db.transaction() as transaction:
            cursor = transaction.connection.cursor(
                f"SELECT * FROM {staging_table(batch['kind'])} WHERE batch = $1"
                " AND errors IS NOT NULL ORDER BY row_no",
                batch_id,
                prefetch=2000,
            )
            async for row in cursor:
                errors = row["errors"]
                errors = json.loads(errors) if isinstance(errors, str) else errors or []
                by_field: dict[str, list[dict[str, str]]] = {}
                for error in errors:
                    by_field.setdefault(error["field"], []).append(error)
                sheet.write_number(line, 0, row["row_no"])
                for position, (_, field_name) in enumerate(columns, start=1):
                    found = by_field.get(field_name)
                    if found:
                        warned = all(e.get("severity") == "warning" for e in found)
                        sheet.write_string(
                            line, position, found[0]["value"] or "", noted if warned else bad
                        )
                        sheet.write_comment(
                            line,
                            position,
                            "\n".join(messages.translate(e["message"], language) for e in found),
                        )
                    elif field_name == "address":
                        sheet.write_string(line, position, _display("street", _address(row)))
                    else:
                        value = row[display[field_name]] if field_name in display else None
                        sheet.write_string(line, position, _display(field_name, value))
                said = "; ".join(
                    ("警告 " if language == "zh" else "warning ") * (e.get("severity") == "warning")
                    + f"{e['column'] or e['field']}: {messages.translate(e['message'], language)}"
                    for e in errors
                )
                sheet.write_string(line, len(columns) + 1, said)
                line += 1
        _not_imported_sheet(workbook, bold, batch["not_imported_columns"], language)
    finally:
        workbook.close()
    stem = Path(batch["file_name"]).stem or "import"
    return path, f"{stem}-errors-batch{batch_id}.xlsx"
