"""Tests for the deterministic demo customer generator."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypinyin import lazy_pinyin

from bankcrm_customer_archive.demo_data import (
    AS_OF,
    PRODUCT_CATALOGUE,
    REGIONS,
    TAG_VOCABULARY,
    GeneratedAddress,
    GeneratedCustomer,
    generate_customers,
    is_valid_resident_id,
    is_valid_uscc,
    organization_code_check_char,
    resident_id_check_digit,
    uscc_check_char,
)

MOBILE = re.compile(r"^1(3\d|5[0-35-9]|8\d|9[0-35-9])\d{8}$")
EMAIL = re.compile(r"^[a-z0-9._]+@[a-z0-9.]+\.[a-z]+$")
REGION_CODES = {region.admin_code: region for region in REGIONS}
PRODUCTS = {spec.code: spec for spec in PRODUCT_CATALOGUE}


@pytest.fixture(scope="module")
def customers() -> list[GeneratedCustomer]:
    return list(generate_customers(3000, seed=20240601))


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# -- check digits against published examples ---------------------------------------------------


def test_resident_id_published_examples() -> None:
    # The usual worked example (Beijing Chaoyang, 1949-12-31, female): check character X.
    assert resident_id_check_digit("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")
    # The example commonly quoted from GB 11643-1999.
    assert resident_id_check_digit("44052418800101001") == "4"
    assert is_valid_resident_id("440524188001010014")


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002x",  # lower-case x is not canonical
        "11010519491231002",  # too short
        "11010519491231002X0",  # too long
        "1101051949123100２X",  # full-width digit
        "",
    ],
)
def test_resident_id_rejects_malformed(value: str) -> None:
    assert not is_valid_resident_id(value)


def test_resident_id_rejects_impossible_dates_and_regions() -> None:
    for body in (
        "11010519490230002",  # 30 February
        "11010519491301002",  # month 13
        "99010519491231002",  # no province 99
        "00010519491231002",
        f"110105{date.today().year + 1}0101002",  # born in the future
        "11010518700101002",  # before 1880
    ):
        assert not is_valid_resident_id(body + resident_id_check_digit(body)), body


def test_resident_id_check_digit_rejects_bad_input() -> None:
    for bad in ("1101051949123100", "1101051949123100A", "110105194912310020"):
        with pytest.raises(ValueError, match="17 ASCII digits"):
            resident_id_check_digit(bad)


def test_uscc_published_examples() -> None:
    # A widely quoted example, and two codes in the published format: both check characters hold.
    for code in ("91350100M000100Y43", "91330100716105852F", "91440300708461136T"):
        assert uscc_check_char(code[:17]) == code[17]
        assert is_valid_uscc(code)
        # characters 9-17 are a GB 11714 organisation code with its own check character
        assert organization_code_check_char(code[8:16]) == code[16]


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # too short
        "91350100m000100y43",  # lower case
        "91350100I000100Y43",  # I is not in the alphabet
        "",
    ],
)
def test_uscc_rejects_malformed(value: str) -> None:
    assert not is_valid_uscc(value)


def test_uscc_region_must_be_digits() -> None:
    body = "913501A0M000100Y4"
    assert not is_valid_uscc(body + uscc_check_char(body))


def test_check_char_helpers_reject_bad_alphabet() -> None:
    with pytest.raises(ValueError, match="USCC"):
        uscc_check_char("91350100O000100Y4")
    with pytest.raises(ValueError, match="organisation code"):
        organization_code_check_char("m000100y")


# -- reference data ----------------------------------------------------------------------------


def test_regions_are_consistent() -> None:
    assert len(REGIONS) >= 40
    assert len(REGION_CODES) == len(REGIONS)
    assert REGION_CODES["330106"][:3] == ("浙江省", "杭州市", "西湖区")
    assert REGION_CODES["110105"].district == "朝阳区"
    province_prefix: dict[str, str] = {}
    city_prefix: dict[tuple[str, str], str] = {}
    for region in REGIONS:
        assert re.fullmatch(r"\d{6}", region.admin_code)
        assert re.fullmatch(r"\d{6}", region.postcode)
        assert region.city.endswith("市")
        assert region.district.endswith(("区", "县", "市"))
        province_code, city_code = region.admin_code[:2], region.admin_code[:4]
        assert province_prefix.setdefault(region.province, province_code) == province_code
        assert city_prefix.setdefault((region.province, region.city), city_code) == city_code
    assert len(set(province_prefix.values())) == len(province_prefix)


def test_product_catalogue() -> None:
    assert len(PRODUCTS) == len(PRODUCT_CATALOGUE) >= 16
    assert {spec.category for spec in PRODUCT_CATALOGUE} == {"deposit", "loan", "card", "wealth"}
    assert {spec.segment for spec in PRODUCT_CATALOGUE} == {"individual", "corporate"}
    names = {spec.name_zh for spec in PRODUCT_CATALOGUE}
    assert {"活期储蓄", "三年定期", "个人住房贷款", "信用卡金卡", "借记卡", "基金定投"} <= names
    assert all(spec.name_en and spec.code for spec in PRODUCT_CATALOGUE)


def test_address_full_text() -> None:
    address = GeneratedAddress(
        "home", "浙江省", "杭州市", "西湖区", "文三路123号5幢2单元301室", "310013"
    )
    assert address.full_text() == "浙江省杭州市西湖区文三路123号5幢2单元301室"
    municipal = GeneratedAddress(
        "office", "北京市", "北京市", "朝阳区", "建国路88号世纪大厦12层", "100020"
    )
    assert municipal.full_text() == "北京市朝阳区建国路88号世纪大厦12层"


# -- the generator -----------------------------------------------------------------------------


def test_same_seed_same_customers() -> None:
    first = list(generate_customers(300, seed=7))
    assert first == list(generate_customers(300, seed=7))
    assert first != list(generate_customers(300, seed=8))
    # a shorter run is a prefix of a longer one
    assert list(generate_customers(50, seed=7)) == first[:50]


def test_arguments_are_checked_eagerly() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_customers(-1)
    with pytest.raises(ValueError, match="corporate_ratio"):
        generate_customers(10, corporate_ratio=1.5)
    assert list(generate_customers(0)) == []


def test_identifiers_are_unique(customers: list[GeneratedCustomer]) -> None:
    ids = [c.id_number for c in customers]
    assert len(set(ids)) == len(ids)
    phones = [c.phone for c in customers] + [p.phone for c in customers for p in c.contacts]
    assert len(set(phones)) == len(phones)
    accounts = [h.account_no for c in customers for h in c.holdings]
    assert len(set(accounts)) == len(accounts)
    emails = [c.email for c in customers if c.email]
    assert len(set(emails)) == len(emails)
    companies = [c.name for c in customers if c.kind == "corporate"]
    assert len(set(companies)) == len(companies)


def test_individual_ids_are_valid_and_consistent(customers: list[GeneratedCustomer]) -> None:
    individuals = [c for c in customers if c.kind == "individual"]
    assert individuals
    for c in individuals:
        assert is_valid_resident_id(c.id_number), c.id_number
        assert c.id_number[:6] in REGION_CODES
        assert c.birth_date is not None
        assert c.id_number[6:14] == c.birth_date.strftime("%Y%m%d")
        assert c.gender == ("M" if int(c.id_number[16]) % 2 else "F")
        assert c.birth_date <= AS_OF - timedelta(days=18 * 365 + 5)
        assert c.contacts == ()
        registered = [a for a in c.addresses if a.kind == "registered"]
        if registered:  # household registration = where the ID was issued
            assert registered[0].district == REGION_CODES[c.id_number[:6]].district


def test_corporate_codes_are_valid(customers: list[GeneratedCustomer]) -> None:
    corporates = [c for c in customers if c.kind == "corporate"]
    assert corporates
    for c in corporates:
        assert is_valid_uscc(c.id_number), c.id_number
        assert c.id_number.startswith("91")
        assert organization_code_check_char(c.id_number[8:16]) == c.id_number[16]
        area = c.id_number[2:8]
        registered = c.addresses[0]
        assert registered.kind == "registered"
        region = next(
            r for r in REGIONS if (r.city, r.district) == (registered.city, registered.district)
        )
        assert area in (region.admin_code, region.admin_code[:4] + "00")
        assert c.name.startswith(registered.city.removesuffix("市"))
        assert c.name.endswith("有限公司")
        assert (c.birth_date, c.gender, c.occupation, c.employer) == (None, None, None, None)
        assert c.industry
        assert 1 <= len(c.contacts) <= 3
        assert len({p.name for p in c.contacts}) == len(c.contacts)
        for contact in c.contacts:
            assert MOBILE.match(contact.phone)
            assert contact.title


def test_phones_and_emails_look_real(customers: list[GeneratedCustomer]) -> None:
    for c in customers:
        assert MOBILE.match(c.phone), c.phone
        if c.email is not None:
            assert EMAIL.match(c.email), c.email
    assert 0.3 < sum(c.email is not None for c in customers) / len(customers) < 0.8


def test_holdings(customers: list[GeneratedCustomer]) -> None:
    for c in customers:
        assert 1 <= len(c.holdings) <= 4
        assert len({h.product_code for h in c.holdings}) == len(c.holdings)
        for h in c.holdings:
            spec = PRODUCTS[h.product_code]
            assert spec.segment == c.kind
            assert re.fullmatch(r"\d{19}", h.account_no)
            assert luhn_valid(h.account_no), h.account_no
            if spec.category == "card":
                assert h.account_no.startswith("62")
            assert isinstance(h.balance, Decimal)
            assert h.balance.as_tuple().exponent == -2
            assert h.balance >= 0
            assert h.opened_on <= AS_OF
            if c.birth_date is not None:
                assert h.opened_on >= c.birth_date + timedelta(days=18 * 365)
        assert [h.opened_on for h in c.holdings] == sorted(h.opened_on for h in c.holdings)
    fixed = [h for c in customers for h in c.holdings if h.product_code == "DEP-3Y"]
    assert fixed
    assert all(h.balance % 1000 == 0 for h in fixed)
    large_cd = [h for c in customers for h in c.holdings if h.product_code == "DEP-LCD"]
    assert large_cd
    assert all(h.balance >= 200_000 for h in large_cd)


def test_tags(customers: list[GeneratedCustomer]) -> None:
    order = {tag: i for i, tag in enumerate(TAG_VOCABULARY)}
    seen: Counter[str] = Counter()
    for c in customers:
        assert set(c.tags) <= set(TAG_VOCABULARY)
        assert list(c.tags) == sorted(c.tags, key=order.__getitem__)
        seen.update(c.tags)
        codes = {h.product_code for h in c.holdings}
        assert ("房贷客户" in c.tags) == ("LN-MORT" in codes)
        assert ("普惠金融" in c.tags) == ("CL-SME" in codes)
    for tag in ("代发工资", "高净值", "小微企业", "理财偏好", "房贷客户"):
        assert seen[tag] > 0, tag


def test_addresses(customers: list[GeneratedCustomer]) -> None:
    for c in customers:
        assert c.addresses
        assert c.addresses[0].kind == ("home" if c.kind == "individual" else "registered")
        for a in c.addresses:
            assert a.kind in ("home", "office", "registered")
            region = next(r for r in REGIONS if r.district == a.district and r.city == a.city)
            assert (a.province, a.postcode) == (region.province, region.postcode)
            assert re.search(r"\d+号", a.street)
            assert a.full_text().startswith(a.province)


@pytest.mark.parametrize("ratio", [0.0, 0.15, 0.5, 1.0])
def test_corporate_ratio(ratio: float) -> None:
    batch = list(generate_customers(2000, seed=11, corporate_ratio=ratio))
    share = sum(c.kind == "corporate" for c in batch) / len(batch)
    assert abs(share - ratio) < 0.03


def test_names_look_natural(customers: list[GeneratedCustomer]) -> None:
    people = [c for c in customers if c.kind == "individual"][:1000]
    names = Counter(c.name for c in people)
    assert all(2 <= len(name) <= 4 for name in names)
    # some people share a name, as in any real customer base, but not many
    assert 0.9 < len(names) / len(people) < 1.0
    assert max(names.values()) <= 10
    surnames = Counter(c.name[0] for c in customers if c.kind == "individual")
    assert {s for s, _ in surnames.most_common(5)} & {"王", "李", "张"} == {"王", "李", "张"}


def test_names_have_pinyin(customers: list[GeneratedCustomer]) -> None:
    names = {c.name for c in customers} | {p.name for c in customers for p in c.contacts}
    for name in names:
        pinyin = "".join(lazy_pinyin(name))
        assert pinyin, name
        assert pinyin.isascii(), name
