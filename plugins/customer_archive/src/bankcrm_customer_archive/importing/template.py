"""A file to start an import from: the recognised columns with Chinese headers (first the
required ones), an example row, and a second sheet that explains each column."""

from __future__ import annotations

import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from bankcrm_customer_archive.importing.mapping import (
    CUSTOMER_FIELDS,
    CUSTOMER_REQUIRED,
    HOLDING_FIELDS,
    HOLDING_REQUIRED,
)

EXAMPLES = {
    "customer": {
        "kind": "个人客户", "name": "王秀英", "id_type": "居民身份证",
        "id_number": "110108198506143024", "gender": "女", "birth_date": "1985-06-14",
        "phone": "13800005678", "email": "wang@example.com", "branch": "BJ-HD",
        "relationship_manager": "demo.bj.rm", "province": "北京市", "city": "北京市",
        "district": "海淀区", "street": "中关村大街1号", "tags": "代发工资",
    },
    "holding": {
        "id_number": "110108198506143024", "product_code": "DEP-1Y",
        "account_no": "6222000000000000001", "balance": "100000.00", "currency": "CNY",
        "opened_on": "2026-01-05",
    },
}  # fmt: skip


def write_template(kind: str) -> tuple[Path, str]:
    fields = CUSTOMER_FIELDS if kind == "customer" else HOLDING_FIELDS
    required = CUSTOMER_REQUIRED if kind == "customer" else HOLDING_REQUIRED
    order = [*required, *(f for f in fields if f not in required)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户" if kind == "customer" else "账户"
    sheet.append([fields[f][0] for f in order])
    sheet.append([EXAMPLES[kind].get(f, "") for f in order])
    bold, needed = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, name in enumerate(order, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if name in required:
            cell.fill = needed
        sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) * 2 + 4)
    notes = book.create_sheet("说明")
    notes.append(["列名", "必填", "也可写作"])
    for name in order:
        synonyms = fields[name]
        notes.append([synonyms[0], "是" if name in required else "", "、".join(synonyms[1:])])
    descriptor, path = tempfile.mkstemp(prefix="bankcrm-import-template-", suffix=".xlsx")
    with open(descriptor, "wb") as handle:
        book.save(handle)
    label = "客户导入模板" if kind == "customer" else "账户导入模板"
    return Path(path), f"{label}.xlsx"


__all__ = ["write_template"]
