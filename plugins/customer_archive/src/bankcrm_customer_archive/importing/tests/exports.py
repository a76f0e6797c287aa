"""Realistic customer exports, as core-banking systems and clerks write them.

The small files under ``fixtures/`` are written by :func:`write_fixtures` and committed,
so a reader sees the bytes a bank sends (GBK, a BOM, tabs, an ``.xlsx``); the 1,000-row
core-banking export is made the same way, deterministically, when a test or the benchmark
needs it (``python -m bankcrm_customer_archive.importing.tests.exports DIR`` writes it).

Every file names staff and branches of the SDK's test world plus the relationship
managers :data:`STAFF` adds to it: 北京分行 (BJ) with its sub-branches 北京海淀支行 (BJ-HD)
and 北京朝阳支行 (BJ-CY).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random
from typing import Any

import openpyxl

from bankcrm_customer_archive.demo_data import generate_customers

FIXTURES = Path(__file__).with_name("fixtures")


@dataclass(frozen=True)
class StaffMember:
    username: str
    employee_no: str
    name: str
    branch: str
    """The branch code of their membership and employee record."""


STAFF: tuple[StaffMember, ...] = (
    StaffMember("bj.hd.zhaomin", "E1102", "赵敏", "BJ-HD"),
    StaffMember("bj.cy.sunlei", "E1201", "孙磊", "BJ-CY"),
    StaffMember("bj.cy.zhouqing", "E1202", "周晴", "BJ-CY"),
    StaffMember("bj.yangfan", "E1003", "杨帆", "BJ"),
)
"""Relationship managers added to the test world (besides 李海 E1101 demo.bj.rm, BJ-HD)."""

SUB_BRANCHES = (("北京海淀支行", "BJ-HD"), ("北京朝阳支行", "BJ-CY"))
_MANAGERS = {"BJ-HD": ("李海", "赵敏"), "BJ-CY": ("孙磊", "周晴")}


def _csv(rows: Sequence[Sequence[Any]], encoding: str, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: Sequence[Sequence[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    # Numbers that must stay text (ID numbers, phones) are text cells, as a careful
    # export writes them.
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _phone_styles(phone: str, index: int) -> str:
    """A mobile number as exports write it: plain, +86, spaced, dashed."""
    styles = (
        phone,
        f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}",
        f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        f"+86-{phone}",
        f"{phone[:3]} {phone[3:7]} {phone[7:]}",
    )
    return styles[index % len(styles)]


def _date_styles(day: date, index: int) -> str:
    styles = (
        day.strftime("%Y%m%d"),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.isoformat(),
    )
    return styles[index % len(styles)]


CORE_BANKING_HEADER = (
    "客户号", "客户名称", "客户类型", "证件类型", "证件号码", "性别", "出生日期", "手机号码",
    "联系地址", "开户网点", "客户经理", "开户日期", "客户状态",
)  # fmt: skip


def core_banking_rows(count: int = 1000, seed: int = 2026) -> list[list[str]]:
    """A core-banking customer export: the manager by name, the opening branch by name,
    one address column, dates as 20240105 and friends, phones with +86, spaces, dashes;
    about one customer in ten corporate (统一社会信用代码, no gender or birth date)."""
    random = Random(seed)
    rows: list[list[str]] = [list(CORE_BANKING_HEADER)]
    customers = generate_customers(count, seed=seed, corporate_ratio=0.1)
    for index, customer in enumerate(customers):
        branch_name, code = SUB_BRANCHES[index % 2]
        corporate = customer.kind == "corporate"
        address = customer.addresses[0].full_text() if customer.addresses else ""
        opened = date(2015 + random.randrange(10), random.randrange(1, 13), random.randrange(1, 29))
        rows.append(
            [
                f"C{880000000 + index:010d}",
                customer.name,
                "对公" if corporate else "个人",
                "统一社会信用代码" if corporate else "居民身份证",
                customer.id_number,
                "" if corporate or customer.gender is None else "男女"[customer.gender == "F"],
                ""
                if corporate or customer.birth_date is None
                else _date_styles(customer.birth_date, index),
                _phone_styles(customer.phone, index)
                if customer.phone[:1] == "1"
                else customer.phone,
                address,
                branch_name,
                _MANAGERS[code][random.randrange(2)],
                _date_styles(opened, index + 1),
                "正常",
            ]
        )
    return rows


def core_banking_export(count: int = 1000, seed: int = 2026) -> bytes:
    """The export as the core system writes it: GB18030 CSV."""
    return _csv(core_banking_rows(count, seed), "gb18030")


def _people(count: int, seed: int) -> list[Any]:
    return [c for c in generate_customers(count * 3, seed=seed, corporate_ratio=0.0)][:count]


def fixture_files() -> dict[str, bytes]:
    """The committed small exports, by file name (see the module's docstring)."""
    files: dict[str, bytes] = {}

    # 1. A core system's GBK export: manager by name, branch by name, one 联系地址 column,
    #    an unrecognised 客户号 and 备注, two phone columns (手机号码 wins over 联系电话), ID
    #    numbers kept text for Excel ('… and ="…").
    people = _people(6, 11)
    rows: list[list[str]] = [
        ["客户号", "户名", "证件类型", "证件号码", "性别", "出生日期", "手机号码", "联系电话",
         "联系地址", "开户网点", "客户经理", "备注"],
    ]  # fmt: skip
    addresses = (
        "广东省深圳市南山区科技园路1号",
        "北京市朝阳区建国路88号SOHO现代城2号楼1501",
        "内蒙古自治区呼和浩特市新城区新华大街1号",
        "浙江杭州西湖区文三路90号东部软件园",
        "深圳市福田区深南大道6008号",
        "广西壮族自治区南宁市青秀区民族大道100号",
    )
    managers = ("李海", "赵敏", "孙磊", "周晴", "王北", "李 海")
    for index, person in enumerate(people):
        branch = (
            "北京海淀支行"
            if managers[index] in ("李海", "赵敏", "王北", "李 海")
            else "北京朝阳支行"
        )
        rows.append(
            [
                # Core systems keep long numbers text in Excel with ' or ="…".
                f"C{100 + index:06d}", person.name, "身份证",
                (f"'{person.id_number}", f'="{person.id_number}"', person.id_number)[index % 3],
                "男女"[person.gender == "F"], _date_styles(person.birth_date, index),
                _phone_styles(person.phone, index), "010-62345678", addresses[index], branch,
                managers[index], "",
            ]
        )  # fmt: skip
    files["core_gbk_manager_names.csv"] = _csv(rows, "gb18030")

    # 2. A CRM's UTF-8 export with a BOM, another order: manager by employee number,
    #    branch by code (机构号), 通讯地址 and 家庭住址 (the first wins), 2024年1月5日 dates.
    people = _people(5, 12)
    rows = [["证件号码", "姓名", "客户经理工号", "机构号", "通讯地址", "家庭住址", "出生日期",
             "性别", "联系电话"]]  # fmt: skip
    addresses = (
        "北京市海淀区中关村大街27号",
        "上海市浦东新区世纪大道100号",
        "湖北省仙桃市仙桃大道西段1号",
        "广东省东莞市南城街道鸿福路200号",
        "吉林省延边朝鲜族自治州延吉市人民路1号",
    )
    numbers = (("E1101", "BJ-HD"), ("E1102", "bj-hd"), ("E1201", "BJ-CY"), ("E1202", "BJ-CY"),
               ("E1003", "BJ"))  # fmt: skip
    for index, person in enumerate(people):
        number, code = numbers[index]
        rows.append(
            [
                person.id_number, person.name, number, code, addresses[index], "北京市西城区1号",
                _date_styles(person.birth_date, 2), "男女"[person.gender == "F"],
                f"{person.phone[:3]}-{person.phone[3:7]}-{person.phone[7:]}",
            ]
        )  # fmt: skip
    files["crm_utf8_bom_employee_numbers.csv"] = b"\xef\xbb\xbf" + _csv(rows, "utf-8")

    # 3. An English workbook from a head-office system: usernames, branch codes, dates
    #    as 2024/1/5, a municipality and autonomous regions.
    people = _people(4, 13)
    rows = [["Customer Name", "ID No", "Gender", "Date of Birth", "Mobile", "Address",
             "Branch Code", "RM", "Segment"]]  # fmt: skip
    addresses = (
        "天津市和平区南京路189号",
        "新疆维吾尔自治区乌鲁木齐市天山区解放北路1号",
        "宁夏回族自治区银川市兴庆区解放西街2号",
        "重庆市渝中区解放碑民族路188号",
    )
    usernames = (("demo.bj.rm", "BJ-HD"), ("bj.cy.sunlei", "BJ-CY"), ("bj.yangfan", "BJ"),
                 ("demo.bj.manager", "BJ-CY"))  # fmt: skip
    for index, person in enumerate(people):
        username, code = usernames[index]
        born = person.birth_date
        rows.append(
            [
                person.name, person.id_number, ("Male", "Female")[person.gender == "F"],
                f"{born.year}/{born.month}/{born.day}", f"+86 {person.phone}", addresses[index],
                code, username, "retail",
            ]
        )  # fmt: skip
    files["english_usernames.xlsx"] = _xlsx(rows)

    # 4. A clerk's own five rows: name, ID, phone and one 地址 column; no branch, no manager.
    people = _people(5, 14)
    rows = [["姓名", "身份证号", "手机", "地址"]]
    addresses = (
        "广东省深圳市南山区科技园路1号",
        "北京市朝阳区建国路88号",
        "江苏省南京市鼓楼区广州路1号",
        "四川成都武侯区人民南路四段1号",
        "海淀区中关村南大街5号",
    )
    for index, person in enumerate(people):
        rows.append([person.name, person.id_number, person.phone, addresses[index]])
    files["clerk_five_rows.xlsx"] = _xlsx(rows)

    # 5. A tab-separated branch report: separate 省份/城市/区县/详细地址 columns, the manager
    #    as "name(number)", the branch as 所属机构 name, dates as 1985.06.14.
    people = _people(4, 15)
    rows = [["所属机构", "管户经理", "客户姓名", "证件号", "手机号", "省份", "城市", "区县",
             "详细地址", "出生日期"]]  # fmt: skip
    places = (
        ("北京市", "北京市", "海淀区", "学院路30号"),
        ("广东省", "广州市", "天河区", "天河路385号"),
        ("浙江省", "宁波市", "鄞州区", "天童南路1号"),
        ("上海市", "上海市", "徐汇区", "漕溪北路88号"),
    )
    who = (("北京海淀支行", "李海(E1101)"), ("北京朝阳支行", "孙磊（E1201）"),
           ("北京海淀支行", "E1102 赵敏"), ("北京分行", "杨帆/E1003"))  # fmt: skip
    for index, person in enumerate(people):
        born = person.birth_date
        rows.append(
            [
                who[index][0], who[index][1], person.name, person.id_number, person.phone,
                *places[index], f"{born.year}.{born.month:02d}.{born.day:02d}",
            ]
        )  # fmt: skip
    files["branch_report_tabs.csv"] = _csv(rows, "utf-8", delimiter="\t")
    return files


def write_fixtures(directory: Path = FIXTURES) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in fixture_files().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


def main(arguments: Sequence[str]) -> None:
    """Without arguments: rewrite the committed fixtures. With a directory: write the
    fixtures and the 1,000-row core-banking export there."""
    if not arguments:
        for path in write_fixtures():
            print(path)
        return
    target = Path(arguments[0])
    for path in write_fixtures(target):
        print(path)
    export = target / "core_banking_1000.csv"
    export.write_bytes(core_banking_export())
    print(export)


if __name__ == "__main__":  # pragma: no cover - writes files for a person to look at
    main(sys.argv[1:])
