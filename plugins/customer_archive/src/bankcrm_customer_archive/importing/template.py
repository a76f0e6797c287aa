"""A file to start an import from: the recognised columns with Chinese headers (first the
required ones), an example row, and a second sheet that explains each column and lists
every header it is also recognised under (the same list as ``docs/importing.md``).

The customer sheet has one 联系地址 column, split on import; the separate 省/市/区/详细地址
columns are explained on the second sheet for files that have them."""

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
        "phone": "13800005678", "email": "wang@example.com", "branch": "北京海淀支行",
        "relationship_manager": "李海", "address": "北京市海淀区中关村大街1号",
        "province": "北京市", "city": "北京市", "district": "海淀区", "street": "中关村大街1号",
        "tags": "代发工资",
    },
    "holding": {
        "id_number": "110108198506143024", "product_code": "DEP-1Y",
        "account_no": "6222000000000000001", "balance": "100000.00", "currency": "CNY",
        "opened_on": "2026-01-05",
    },
}  # fmt: skip


NOTES = {
    "relationship_manager": "姓名、工号或用户名均可（如 李海、E1101、李海(E1101)）；同名时请填工号",
    "branch": "机构代码或名称（如 BJ-HD 或 北京海淀支行）；不填则为导入时选择的机构",
    "address": "一列完整地址，自动拆分为省、市、区县和详细地址（可省略省，直辖市无需写市）",
    "province": "与 市、区、详细地址 分列填写时使用，可代替完整地址列",
    "city": "与 省、区、详细地址 分列填写时使用",
    "district": "与 省、市、详细地址 分列填写时使用",
    "street": "与 省、市、区 分列填写时使用",
    "birth_date": "如 1985-06-14、1985/6/14、19850614、1985年6月14日",
    "phone": "手机或固定电话，可带 +86、空格或短横线",
}
SEPARATE_ADDRESS = ("province", "city", "district", "street")


def write_template(kind: str) -> tuple[Path, str]:
    fields = CUSTOMER_FIELDS if kind == "customer" else HOLDING_FIELDS
    required = CUSTOMER_REQUIRED if kind == "customer" else HOLDING_REQUIRED
    order = [*required, *(f for f in fields if f not in required)]
    columns = [f for f in order if f not in SEPARATE_ADDRESS]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户" if kind == "customer" else "账户"
    sheet.append([fields[f][0] for f in columns])
    sheet.append([EXAMPLES[kind].get(f, "") for f in columns])
    bold, needed = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if name in required:
            cell.fill = needed
        sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) * 2 + 4)
    notes = book.create_sheet("说明")
    notes.append(["列名", "必填", "说明", "也可写作"])
    for name in order:
        synonyms = fields[name]
        notes.append(
            [
                synonyms[0],
                "是" if name in required else "",
                NOTES.get(name, ""),
                "、".join(synonyms[1:]),
            ]
        )
    notes.append([])
    notes.append(
        [
            "未识别的列不会导入，会在预览中列出；"
            "同一项有两列时（如 手机号码 和 联系电话）导入排在前面的列名。"
        ]
    )
    descriptor, path = tempfile.mkstemp(prefix="bankcrm-import-template-", suffix=".xlsx")
    with open(descriptor, "wb") as handle:
        book.save(handle)
    label = "客户导入模板" if kind == "customer" else "账户导入模板"
    return Path(path), f"{label}.xlsx"


__all__ = ["write_template"]
