"""Header variants of real exports, and two columns of one field."""

from __future__ import annotations

import pytest

from bankcrm.web.problems import Problem
from bankcrm_customer_archive.importing.mapping import resolve


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("户名", "name"), ("客户名称", "name"), ("姓名", "name"), ("Customer Name", "name"),
        ("身份证号", "id_number"), ("证件号码", "id_number"), ("ID No.", "id_number"),
        ("证件类型", "id_type"), ("手机", "phone"), ("手机号码", "phone"),
        ("联系电话", "phone"), ("Mobile", "phone"), ("性别", "gender"),
        ("出生日期", "birth_date"), ("Date of Birth", "birth_date"), ("客户类型", "kind"),
        ("客户经理", "relationship_manager"), ("客户经理工号", "relationship_manager"),
        ("管户经理", "relationship_manager"), ("客户经理（用户名）", "relationship_manager"),
        ("RM", "relationship_manager"), ("开户网点", "branch"), ("开户机构", "branch"),
        ("所属机构", "branch"), ("所属网点", "branch"), ("网点", "branch"),
        ("机构号", "branch"), ("机构代码", "branch"), ("Branch Code", "branch"),
        ("地址", "address"), ("联系地址", "address"), ("通讯地址", "address"),
        ("住址", "address"), ("家庭住址", "address"), ("单位地址", "address"),
        ("居住地址", "address"), ("Address", "address"), ("详细地址", "street"),
        ("省份", "province"), ("城市", "city"), ("区县", "district"),
    ],
)  # fmt: skip
def test_a_header_variant_names_its_field(header: str, field: str) -> None:
    required = {"name": "客户名称", "id_number": "证件号码"}
    headers = [header, *(h for f, h in required.items() if f != field)]
    mapping = resolve("customer", headers)
    assert mapping.as_dict()[header] == field
    assert mapping.unknown == ()


def test_of_two_columns_of_one_field_the_preferred_is_imported_and_the_other_listed() -> None:
    mapping = resolve(
        "customer",
        ["客户号", "户名", "证件号码", "联系电话", "手机号码", "单位地址", "家庭住址", "通讯地址"],
    )
    assert mapping.as_dict() == {
        "户名": "name", "证件号码": "id_number", "手机号码": "phone", "通讯地址": "address",
    }  # fmt: skip
    assert mapping.not_imported() == [
        {"column": "客户号", "reason": "not_recognised", "instead": ""},
        {"column": "联系电话", "reason": "superseded", "instead": "手机号码"},
        {"column": "单位地址", "reason": "superseded", "instead": "通讯地址"},
        {"column": "家庭住址", "reason": "superseded", "instead": "通讯地址"},
    ]


def test_a_column_mapped_explicitly_wins_and_two_explicit_ones_are_refused() -> None:
    mapping = resolve("customer", ["户名", "证件号码", "手机号码", "联系电话"],
                      explicit={"联系电话": "phone"})  # fmt: skip
    assert mapping.as_dict()["联系电话"] == "phone"
    assert mapping.superseded == {"手机号码": "联系电话"}
    with pytest.raises(Problem, match="already provides"):
        resolve("customer", ["户名", "证件号码", "A", "B"], explicit={"A": "phone", "B": "phone"})


def test_the_import_docs_list_every_recognised_header() -> None:
    from pathlib import Path

    from bankcrm_customer_archive.importing.mapping import CUSTOMER_FIELDS

    docs = Path(__file__).resolve().parents[6] / "docs" / "importing.md"
    text = docs.read_text(encoding="utf-8")
    for field_name, names in CUSTOMER_FIELDS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{field_name}` |"))
        missing = [name for name in names if name not in row]
        assert not missing, f"docs/importing.md lacks {missing} for {field_name}"


def test_the_template_imports_as_it_comes_and_lists_every_header() -> None:
    import openpyxl

    from bankcrm_customer_archive.importing.mapping import CUSTOMER_FIELDS
    from bankcrm_customer_archive.importing.template import write_template

    path, name = write_template("customer")
    try:
        book = openpyxl.load_workbook(path)
    finally:
        path.unlink()
    assert name == "客户导入模板.xlsx"
    headers = [c.value for c in book["客户"][1]]
    mapping = resolve("customer", headers)
    assert mapping.unknown == ()
    assert "联系地址" in headers
    assert "省" not in headers  # one address column, split on import
    notes = {row[0].value: row for row in book["说明"].iter_rows(min_row=2) if row[0].value}
    for names in CUSTOMER_FIELDS.values():
        assert set(names[1:]) <= set(str(notes[names[0]][3].value).split("、"))
