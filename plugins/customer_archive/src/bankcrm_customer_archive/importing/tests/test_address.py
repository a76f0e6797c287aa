"""Splitting one-column addresses with the national division list."""

from __future__ import annotations

import pytest

from bankcrm_customer_archive.importing.address import (
    AddressError,
    AddressParts,
    read_divisions,
    split_address,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("广东省深圳市南山区科技园路1号", ("广东省", "深圳市", "南山区", "科技园路1号")),
        ("广东深圳南山区科技园路1号", ("广东省", "深圳市", "南山区", "科技园路1号")),
        ("深圳市南山区科技园路1号", ("广东省", "深圳市", "南山区", "科技园路1号")),
        ("广东省南山区科技园路1号", ("广东省", "深圳市", "南山区", "科技园路1号")),
        ("北京市朝阳区建国路88号", ("北京市", "北京市", "朝阳区", "建国路88号")),
        ("北京朝阳区建国路88号", ("北京市", "北京市", "朝阳区", "建国路88号")),
        ("北京市北京市海淀区中关村大街1号", ("北京市", "北京市", "海淀区", "中关村大街1号")),
        ("北京市 朝阳区 建国路88号", ("北京市", "北京市", "朝阳区", "建国路88号")),
        ("海淀区中关村大街1号", ("北京市", "北京市", "海淀区", "中关村大街1号")),
        ("上海市浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号")),
        ("重庆市渝中区解放碑1号", ("重庆市", "重庆市", "渝中区", "解放碑1号")),
        ("内蒙古自治区呼和浩特市新城区新华大街1号",
         ("内蒙古自治区", "呼和浩特市", "新城区", "新华大街1号")),
        ("内蒙古呼和浩特市新城区新华大街1号",
         ("内蒙古自治区", "呼和浩特市", "新城区", "新华大街1号")),
        ("广西南宁市青秀区民族大道1号", ("广西壮族自治区", "南宁市", "青秀区", "民族大道1号")),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号",
         ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放路1号")),
        ("吉林省延边朝鲜族自治州延吉市人民路1号",
         ("吉林省", "延边朝鲜族自治州", "延吉市", "人民路1号")),
        ("延边延吉市人民路1号", ("吉林省", "延边朝鲜族自治州", "延吉市", "人民路1号")),
        ("湖北省仙桃市仙桃大道1号", ("湖北省", "仙桃市", "", "仙桃大道1号")),
        ("广东省东莞市南城街道鸿福路1号", ("广东省", "东莞市", "", "南城街道鸿福路1号")),
        ("香港特别行政区中环皇后大道1号",
         ("香港特别行政区", "香港特别行政区", "", "中环皇后大道1号")),
        ("江苏省南京市鼓楼区广州路1号", ("江苏省", "南京市", "鼓楼区", "广州路1号")),
        ("贵州省六盘水市钟山区人民路1号", ("贵州省", "六盘水市", "钟山区", "人民路1号")),
        ("浙江省杭州市西湖区 文三路 90号", ("浙江省", "杭州市", "西湖区", "文三路 90号")),
        ("广东省，深圳市，南山区，科技园路1号", ("广东省", "深圳市", "南山区", "科技园路1号")),
    ],
)  # fmt: skip
def test_an_address_splits_into_its_parts(text: str, parts: tuple[str, ...]) -> None:
    assert split_address(text) == AddressParts(*parts)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("广州路1号", "no province, city or district"),  # a street named after a city
        ("科技园路1号", "no province, city or district"),
        ("朝阳区建国路88号", "朝阳区 is a district of several cities (北京市、吉林省长春市)"),
        ("广东省科技园路1号", "no city after the province"),
        ("广东省深圳市南山区", "no street"),
    ],
)
def test_an_address_that_cannot_be_placed_says_why(text: str, why: str) -> None:
    with pytest.raises(AddressError, match=why.replace("(", r"\(").replace(")", r"\)")):
        split_address(text)


def test_the_shipped_list_is_national_and_well_formed() -> None:
    entries = read_divisions()
    codes = [code for code, _ in entries]
    assert len(codes) == len(set(codes)) > 3000
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert sum(code.endswith("0000") for code in codes) == 34  # provinces, regions, SARs
    assert dict(entries)["440305"] == "南山区"
