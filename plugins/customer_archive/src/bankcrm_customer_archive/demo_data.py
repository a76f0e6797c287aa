"""Deterministic generator of realistic Chinese bank customers (demo and load-test data).

Everything is driven by one seeded :class:`random.Random`, so the same ``seed`` yields the same
customers in the same order (on a given Python version; ``generate_customers(10, s)`` is a prefix
of ``generate_customers(1000, s)``). No network, no Faker: the standard library plus ``pypinyin``
(imported lazily, only to derive e-mail addresses from names). About 40 us per customer.

Identifiers are structurally valid but random, so any match with a real person or company is
chance: resident ID numbers follow GB 11643-1999 (region code from :data:`REGIONS`, the birth
date, an order code whose parity gives the gender, ISO 7064 MOD 11-2 check character); unified
social credit codes follow GB 32100-2015 (with a valid GB 11714 organisation code inside); account
and card numbers are 19 digits with a Luhn check digit. Dates are relative to the fixed
:data:`AS_OF`, not to "today", so the output never drifts.
"""

from __future__ import annotations

import functools
import gc
import math
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import accumulate
from operator import mul
from random import Random
from typing import Generic, NamedTuple, TypeVar

__all__ = [
    "AS_OF",
    "PRODUCT_CATALOGUE",
    "REGIONS",
    "TAG_VOCABULARY",
    "GeneratedAddress",
    "GeneratedContact",
    "GeneratedCustomer",
    "GeneratedHolding",
    "ProductSpec",
    "Region",
    "generate_customers",
    "is_valid_resident_id",
    "is_valid_uscc",
    "organization_code_check_char",
    "resident_id_check_digit",
    "uscc_check_char",
]

#: Reference date of every generated data set (ages, account opening dates, maturities).
AS_OF = date(2025, 6, 30)

_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------
# Public record types
# ---------------------------------------------------------------------------------------------


class Region(NamedTuple):
    """A county-level division with its real GB/T 2260 code and a postcode for it."""

    province: str  # "浙江省"
    city: str  # "杭州市" (for a municipality the same as the province)
    district: str  # "西湖区"
    admin_code: str  # "330106"
    postcode: str  # "310013"


class ProductSpec(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    category: str  # "deposit" | "loan" | "card" | "wealth"
    segment: str = "individual"  # "individual" | "corporate": which customers may hold it


@dataclass(frozen=True, slots=True)
class GeneratedAddress:
    kind: str  # "home" | "office" | "registered"
    province: str
    city: str
    district: str
    street: str
    postcode: str

    def full_text(self) -> str:
        """The address as written in China, e.g. ``浙江省杭州市西湖区文三路123号5幢2单元301室``.

        For a municipality (北京市, 上海市, ...) the city is not repeated.
        """
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}{self.street}"


@dataclass(frozen=True, slots=True)
class GeneratedContact:
    name: str
    title: str
    phone: str


@dataclass(frozen=True, slots=True)
class GeneratedHolding:
    product_code: str
    account_no: str  # 19 digits, Luhn check digit last; cards start with "62" (UnionPay)
    balance: Decimal  # CNY, 2 places; loans and credit cards: positive outstanding amount
    opened_on: date


@dataclass(frozen=True, slots=True)
class GeneratedCustomer:
    kind: str  # "individual" | "corporate"
    name: str
    id_number: str  # resident ID (individual) or unified social credit code (corporate)
    birth_date: date | None
    gender: str | None  # "M" | "F"
    phone: str
    email: str | None
    occupation: str | None
    employer: str | None
    industry: str | None  # GB/T 4754-2017 section name
    addresses: tuple[GeneratedAddress, ...]
    contacts: tuple[GeneratedContact, ...]
    holdings: tuple[GeneratedHolding, ...]
    tags: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Check digits and validators
# ---------------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
_ID_CHECK = "10X98765432"  # indexed by (weighted sum mod 11)
_ID_OFFSET = ord("0") * sum(_ID_WEIGHTS)  # weights applied to ASCII codes instead of digits
_ASCII_DIGITS = frozenset("0123456789")

#: First two digits of GB/T 2260 codes (provinces, plus 81/82/83 used by HK/Macau/Taiwan
#: residence permits).
_PROVINCE_PREFIXES = frozenset(
    str(prefix)
    for prefix in (
        *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
        *range(61, 66), 71, 81, 82, 83,
    )
)  # fmt: skip
_MIN_BIRTH_YEAR = 1880


def resident_id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits of an ID."""
    if len(first17) != 17 or not _ASCII_DIGITS.issuperset(first17):
        raise ValueError("a resident ID body is exactly 17 ASCII digits")
    return _ID_CHECK[(sum(map(mul, _ID_WEIGHTS, first17.encode())) - _ID_OFFSET) % 11]


def is_valid_resident_id(value: str) -> bool:
    """True for a canonical 18-character PRC resident ID number.

    Checks the length, that the region code is 6 digits under a real province prefix, that
    characters 7-14 are a real calendar date between 1880 and today, and the check character
    (an upper-case ``X`` stands for 10; callers should ``strip().upper()`` user input first).
    """
    if len(value) != 18:
        return False
    body = value[:17]
    if not _ASCII_DIGITS.issuperset(body) or body[:2] not in _PROVINCE_PREFIXES:
        return False
    try:
        born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return False
    if born.year < _MIN_BIRTH_YEAR or born > date.today():
        return False
    return value[17] == resident_id_check_digit(body)


_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_CHARSET)}
_USCC_ALPHABET = frozenset(_USCC_CHARSET)
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 29 ...


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of a unified social credit code."""
    if len(first17) != 17 or not _USCC_ALPHABET.issuperset(first17):
        raise ValueError("a USCC body is exactly 17 characters from 0-9 and A-Y without I O S V Z")
    return _uscc_check(first17)


def _uscc_check(first17: str) -> str:
    total = sum(map(mul, _USCC_WEIGHTS, map(_USCC_VALUE.__getitem__, first17)))
    return _USCC_CHARSET[-total % 31]


def is_valid_uscc(value: str) -> bool:
    """True for a canonical 18-character unified social credit code (GB 32100-2015).

    Checks the alphabet (upper case only), that characters 3-8 are a region code of digits, and
    the check character. The embedded organisation code (characters 9-17) is not checked: its
    GB 11714 check character is :func:`organization_code_check_char`.
    """
    if len(value) != 18 or not _USCC_ALPHABET.issuperset(value):
        return False
    if not _ASCII_DIGITS.issuperset(value[2:8]):
        return False
    return value[17] == _uscc_check(value[:17])


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_ORG_ALPHABET = frozenset(_ORG_VALUE)
# check = 11 - (sum mod 11), written "X" for 10 and "0" for 11; indexed by (sum mod 11)
_ORG_CHECK = "0X987654321"


def organization_code_check_char(first8: str) -> str:
    """GB 11714-1997 check character of an organisation code (characters 9-17 of a USCC)."""
    if len(first8) != 8 or not _ORG_ALPHABET.issuperset(first8):
        raise ValueError("an organisation code body is exactly 8 characters from 0-9 and A-Z")
    return _org_check(first8)


def _org_check(first8: str) -> str:
    total = sum(map(mul, _ORG_WEIGHTS, map(_ORG_VALUE.__getitem__, first8)))
    return _ORG_CHECK[total % 11]


_LUHN_DOUBLED = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))
_DIGIT_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))


def _luhn_check_digit(payload: str) -> str:
    """Luhn (ISO/IEC 7812) check digit to append to ``payload`` (ASCII digits)."""
    raw = payload.encode()
    doubled = raw[-1::-2].translate(_LUHN_DOUBLED)
    total = sum(doubled) + sum(raw[-2::-2].translate(_DIGIT_VALUES))
    return "0123456789"[-total % 10]


# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------

# (region, sampling weight). Weights favour the large economic centres a commercial bank's
# customer base concentrates in.
_REGION_TABLE: tuple[tuple[Region, int], ...] = (
    (Region("北京市", "北京市", "东城区", "110101", "100010"), 3),
    (Region("北京市", "北京市", "西城区", "110102", "100032"), 3),
    (Region("北京市", "北京市", "朝阳区", "110105", "100020"), 6),
    (Region("北京市", "北京市", "海淀区", "110108", "100080"), 6),
    (Region("天津市", "天津市", "和平区", "120101", "300041"), 2),
    (Region("天津市", "天津市", "南开区", "120104", "300100"), 2),
    (Region("河北省", "石家庄市", "长安区", "130102", "050011"), 2),
    (Region("山西省", "太原市", "小店区", "140105", "030032"), 2),
    (Region("内蒙古自治区", "呼和浩特市", "新城区", "150102", "010050"), 1),
    (Region("辽宁省", "沈阳市", "和平区", "210102", "110001"), 2),
    (Region("辽宁省", "大连市", "中山区", "210202", "116001"), 2),
    (Region("吉林省", "长春市", "南关区", "220102", "130022"), 1),
    (Region("黑龙江省", "哈尔滨市", "南岗区", "230103", "150001"), 2),
    (Region("上海市", "上海市", "黄浦区", "310101", "200001"), 4),
    (Region("上海市", "上海市", "徐汇区", "310104", "200030"), 4),
    (Region("上海市", "上海市", "长宁区", "310105", "200050"), 3),
    (Region("上海市", "上海市", "浦东新区", "310115", "200120"), 8),
    (Region("江苏省", "南京市", "玄武区", "320102", "210018"), 3),
    (Region("江苏省", "南京市", "鼓楼区", "320106", "210009"), 3),
    (Region("江苏省", "苏州市", "吴中区", "320506", "215100"), 3),
    (Region("江苏省", "苏州市", "姑苏区", "320508", "215000"), 3),
    (Region("浙江省", "杭州市", "上城区", "330102", "310002"), 4),
    (Region("浙江省", "杭州市", "西湖区", "330106", "310013"), 6),
    (Region("浙江省", "杭州市", "滨江区", "330108", "310051"), 4),
    (Region("浙江省", "杭州市", "余杭区", "330110", "311100"), 4),
    (Region("浙江省", "宁波市", "鄞州区", "330212", "315100"), 4),
    (Region("浙江省", "温州市", "鹿城区", "330302", "325000"), 3),
    (Region("安徽省", "合肥市", "蜀山区", "340104", "230031"), 2),
    (Region("福建省", "福州市", "鼓楼区", "350102", "350001"), 3),
    (Region("福建省", "厦门市", "思明区", "350203", "361001"), 3),
    (Region("福建省", "厦门市", "湖里区", "350206", "361006"), 2),
    (Region("江西省", "南昌市", "东湖区", "360102", "330006"), 2),
    (Region("山东省", "济南市", "历下区", "370102", "250011"), 3),
    (Region("山东省", "青岛市", "市南区", "370202", "266001"), 3),
    (Region("山东省", "青岛市", "崂山区", "370212", "266061"), 2),
    (Region("河南省", "郑州市", "金水区", "410105", "450003"), 3),
    (Region("湖北省", "武汉市", "江岸区", "420102", "430010"), 3),
    (Region("湖北省", "武汉市", "武昌区", "420106", "430061"), 3),
    (Region("湖北省", "武汉市", "洪山区", "420111", "430070"), 2),
    (Region("湖南省", "长沙市", "芙蓉区", "430102", "410011"), 2),
    (Region("湖南省", "长沙市", "岳麓区", "430104", "410006"), 2),
    (Region("广东省", "广州市", "越秀区", "440104", "510030"), 3),
    (Region("广东省", "广州市", "海珠区", "440105", "510220"), 3),
    (Region("广东省", "广州市", "天河区", "440106", "510630"), 5),
    (Region("广东省", "深圳市", "罗湖区", "440303", "518001"), 3),
    (Region("广东省", "深圳市", "福田区", "440304", "518048"), 5),
    (Region("广东省", "深圳市", "南山区", "440305", "518052"), 5),
    (Region("广东省", "深圳市", "宝安区", "440306", "518101"), 4),
    (Region("广东省", "佛山市", "禅城区", "440604", "528000"), 2),
    (Region("广东省", "佛山市", "顺德区", "440606", "528300"), 2),
    (Region("广西壮族自治区", "南宁市", "青秀区", "450103", "530022"), 2),
    (Region("海南省", "海口市", "龙华区", "460106", "570105"), 1),
    (Region("重庆市", "重庆市", "渝中区", "500103", "400010"), 3),
    (Region("重庆市", "重庆市", "渝北区", "500112", "401120"), 3),
    (Region("四川省", "成都市", "锦江区", "510104", "610021"), 3),
    (Region("四川省", "成都市", "武侯区", "510107", "610041"), 4),
    (Region("贵州省", "贵阳市", "南明区", "520102", "550001"), 1),
    (Region("云南省", "昆明市", "五华区", "530102", "650031"), 2),
    (Region("陕西省", "西安市", "莲湖区", "610104", "710003"), 2),
    (Region("陕西省", "西安市", "雁塔区", "610113", "710061"), 3),
    (Region("甘肃省", "兰州市", "城关区", "620102", "730030"), 1),
    (Region("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102", "830002"), 1),
)

#: Real county-level divisions (GB/T 2260 codes), with a representative postcode.
REGIONS: tuple[Region, ...] = tuple(region for region, _ in _REGION_TABLE)

# Year a code came into use, for districts created (or re-coded) after 18-digit IDs began to be
# issued; nobody too old to have been issued an ID there gets one with that prefix.
_CODE_SINCE = {
    "310115": 1993,
    "320506": 2001,
    "320508": 2012,
    "330108": 1996,
    "330110": 2001,
    "330212": 2002,
    "340104": 2002,
    "370212": 1994,
    "440306": 1992,
    "440604": 2002,
    "440606": 2003,
    "450103": 2004,
    "460106": 2002,
    "500112": 1994,
}

_PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "新疆维吾尔自治区": "新疆",
}

# Provinces where residential buildings are numbered "3号楼" rather than "3幢".
_NORTHERN_PROVINCES = frozenset((
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "山东省", "河南省", "陕西省", "甘肃省", "新疆维吾尔自治区",
))  # fmt: skip

# Real main roads of the districts above (fallback: the roads every Chinese city has).
_DISTRICT_ROADS: dict[str, tuple[str, ...]] = {
    "110101": ("东长安街", "王府井大街", "东直门内大街", "朝阳门北大街"),
    "110102": ("金融大街", "西单北大街", "复兴门内大街", "阜成门外大街"),
    "110105": ("建国路", "朝阳北路", "东三环中路", "望京街", "工人体育场北路"),
    "110108": ("中关村大街", "学院路", "知春路", "北四环西路"),
    "120101": ("南京路", "滨江道", "赤峰道"),
    "310101": ("南京东路", "淮海中路", "西藏中路", "中山东一路"),
    "310104": ("漕溪北路", "衡山路", "肇嘉浜路", "虹桥路"),
    "310105": ("延安西路", "仙霞路", "天山路"),
    "310115": ("世纪大道", "陆家嘴环路", "张杨路", "银城中路"),
    "320102": ("中山路", "北京东路", "珠江路", "龙蟠路"),
    "320106": ("中山北路", "湖南路", "汉中路", "北京西路"),
    "320508": ("人民路", "干将路", "十全街", "道前街"),
    "330102": ("解放路", "延安路", "庆春路"),
    "330106": ("文三路", "天目山路", "教工路", "古墩路", "文二路"),
    "330108": ("江南大道", "滨盛路", "长河路"),
    "330110": ("文一西路", "五常大道", "良睦路"),
    "330212": ("天童南路", "四明中路", "宁南南路"),
    "350102": ("五四路", "八一七北路", "古田路", "湖东路"),
    "350203": ("中山路", "湖滨南路", "厦禾路", "鹭江道"),
    "370102": ("泉城路", "经十路", "解放路"),
    "370202": ("香港中路", "东海西路"),
    "410105": ("花园路", "金水路", "经三路", "农业路"),
    "420102": ("解放大道", "沿江大道", "中山大道", "建设大道"),
    "420106": ("中南路", "中北路", "武珞路", "和平大道"),
    "420111": ("珞喻路", "雄楚大道"),
    "430102": ("五一大道", "芙蓉中路"),
    "440104": ("环市东路", "东风中路", "北京路"),
    "440105": ("新港西路", "工业大道"),
    "440106": ("天河路", "体育西路", "黄埔大道", "天河北路"),
    "440303": ("人民南路", "深南东路", "建设路"),
    "440304": ("深南大道", "福华路", "益田路", "福中路"),
    "440305": ("科苑路", "深南大道", "后海大道", "南海大道"),
    "440306": ("宝安大道", "创业一路"),
    "440604": ("季华路", "汾江中路", "祖庙路"),
    "450103": ("民族大道", "东葛路", "竹溪大道"),
    "460106": ("国贸大道", "滨海大道", "金龙路"),
    "500103": ("民族路", "中山三路", "邹容路", "民生路"),
    "500112": ("金开大道",),
    "510104": ("红星路", "东大街", "总府路"),
    "510107": ("人民南路", "科华北路", "武侯祠大街"),
    "610104": ("莲湖路", "西大街", "劳动路"),
    "610113": ("长安南路", "小寨东路", "雁塔路", "高新路"),
    "620102": ("东岗西路", "庆阳路", "张掖路"),
    "650102": ("解放南路", "中山路", "新华北路"),
    "230103": ("红军街", "西大直街", "学府路"),
    "210102": ("中华路", "南京北街", "太原北街"),
    "360102": ("八一大道", "阳明路", "中山路"),
}
_COMMON_ROADS = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "长江路",
    "黄河路", "青年路", "朝阳路", "光明路", "人民大道", "建设大道", "工业路", "学府路", "滨江路",
    "花园路", "迎宾大道", "东风路", "北京路", "健康路", "幸福路", "友谊路", "环城北路", "兴业路",
    "创业大道", "科技路", "育才路",
)  # fmt: skip
_COMMUNITY_HEADS = (
    "阳光", "金色", "翠苑", "锦绣", "碧水", "世纪", "丽景", "和平", "幸福", "东方", "紫金", "湖畔",
    "滨江", "香樟", "桂花", "明珠", "银河", "春晓", "怡和", "新城",
)  # fmt: skip
_COMMUNITY_TAILS = ("花园", "家园", "小区", "新村", "公寓", "嘉园", "名苑", "雅苑", "华府")
_STOREYS = (6, 7, 11, 18, 26, 33)  # common heights of residential buildings
_OFFICE_BUILDINGS = (
    "国际金融中心", "财富中心", "世纪大厦", "时代广场", "商务中心", "科技大厦", "创新大厦",
    "金融大厦", "国贸大厦", "发展大厦", "汇金大厦", "环球中心",
)  # fmt: skip

_PRODUCT_TABLE: tuple[ProductSpec, ...] = (
    ProductSpec("DEP-CUR", "活期储蓄", "Demand savings deposit", "deposit"),
    ProductSpec("DEP-1Y", "一年定期", "One-year time deposit", "deposit"),
    ProductSpec("DEP-3Y", "三年定期", "Three-year time deposit", "deposit"),
    ProductSpec("DEP-LCD", "大额存单", "Large-denomination certificate of deposit", "deposit"),
    ProductSpec("LN-MORT", "个人住房贷款", "Residential mortgage loan", "loan"),
    ProductSpec("LN-CONS", "个人消费贷款", "Personal consumer loan", "loan"),
    ProductSpec("LN-BIZ", "个人经营贷", "Personal business loan", "loan"),
    ProductSpec("CARD-DEB", "借记卡", "Debit card", "card"),
    ProductSpec("CARD-GOLD", "信用卡金卡", "Gold credit card", "card"),
    ProductSpec("CARD-PLAT", "信用卡白金卡", "Platinum credit card", "card"),
    ProductSpec("WM-30D", "稳健理财30天", "30-day conservative wealth product", "wealth"),
    ProductSpec("WM-SIP", "基金定投", "Fund systematic investment plan", "wealth"),
    ProductSpec("CD-CUR", "单位活期存款", "Corporate demand deposit", "deposit", "corporate"),
    ProductSpec("CD-FIX", "单位定期存款", "Corporate time deposit", "deposit", "corporate"),
    ProductSpec("CL-WC", "流动资金贷款", "Working capital loan", "loan", "corporate"),
    ProductSpec("CL-SME", "普惠小微贷款", "Inclusive small business loan", "loan", "corporate"),
    ProductSpec("CC-SET", "单位结算卡", "Corporate settlement card", "card", "corporate"),
)

#: The bank's product shelf; a holding's ``product_code`` is always one of these codes.
PRODUCT_CATALOGUE: tuple[ProductSpec, ...] = _PRODUCT_TABLE
_PRODUCTS = {spec.code: spec for spec in PRODUCT_CATALOGUE}

#: Every tag a generated customer can carry (a customer's tags keep this order).
TAG_VOCABULARY: tuple[str, ...] = (
    "代发工资", "高净值", "贵宾客户", "理财偏好", "房贷客户", "信用卡客户", "消费贷客户",
    "个体工商户", "新客户", "老年客户", "年轻客群", "手机银行活跃", "社保卡客户",
    "小微企业", "普惠金融", "授信客户", "代发单位", "进出口企业", "高新技术企业", "存款大户",
)  # fmt: skip
_TAG_ORDER = {tag: i for i, tag in enumerate(TAG_VOCABULARY)}

# Surname, pinyin (as used in e-mail addresses), weight (per 10,000 people, 2020 census order).
_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 712), ("李", "li", 700), ("张", "zhang", 674), ("刘", "liu", 510),
    ("陈", "chen", 461), ("杨", "yang", 322), ("黄", "huang", 245), ("赵", "zhao", 219),
    ("吴", "wu", 200), ("周", "zhou", 195), ("徐", "xu", 145), ("孙", "sun", 138),
    ("马", "ma", 129), ("朱", "zhu", 128), ("胡", "hu", 116), ("郭", "guo", 115),
    ("何", "he", 106), ("林", "lin", 101), ("高", "gao", 100), ("罗", "luo", 95),
    ("郑", "zheng", 91), ("梁", "liang", 87), ("谢", "xie", 81), ("宋", "song", 76),
    ("唐", "tang", 76), ("许", "xu", 70), ("韩", "han", 69), ("冯", "feng", 66),
    ("邓", "deng", 65), ("曹", "cao", 63), ("彭", "peng", 62), ("曾", "zeng", 60),
    ("肖", "xiao", 59), ("田", "tian", 56), ("董", "dong", 53), ("袁", "yuan", 52),
    ("潘", "pan", 52), ("于", "yu", 51), ("蒋", "jiang", 50), ("蔡", "cai", 50),
    ("余", "yu", 48), ("杜", "du", 46), ("叶", "ye", 45), ("程", "cheng", 44),
    ("苏", "su", 43), ("魏", "wei", 42), ("吕", "lv", 41), ("丁", "ding", 40),
    ("任", "ren", 39), ("沈", "shen", 38), ("姚", "yao", 37), ("卢", "lu", 36),
    ("姜", "jiang", 35), ("崔", "cui", 34), ("钟", "zhong", 33), ("谭", "tan", 32),
    ("陆", "lu", 31), ("汪", "wang", 30), ("范", "fan", 29), ("金", "jin", 28),
    ("石", "shi", 27), ("廖", "liao", 26), ("贾", "jia", 25), ("夏", "xia", 24),
    ("韦", "wei", 23), ("付", "fu", 23), ("方", "fang", 22), ("白", "bai", 21),
    ("邹", "zou", 21), ("孟", "meng", 20), ("熊", "xiong", 20), ("秦", "qin", 19),
    ("欧阳", "ouyang", 4), ("司马", "sima", 1), ("诸葛", "zhuge", 1), ("上官", "shangguan", 1),
    ("司徒", "situ", 1),
)  # fmt: skip

# Whole given names popular in each birth era (before 1965, 1965-1989, 1990 on), most common
# first. Index 0 = male, 1 = female.
_ERA_GIVEN_NAMES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (
        ("建国", "建华", "国强", "建军", "志强", "国华", "建平", "德明", "文华", "卫东", "国庆",
         "志明", "永强", "振华", "红军", "海涛", "伟", "强", "军", "明", "平", "刚"),
        ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "斌",
         "波", "峰", "宇", "浩", "亮", "志刚", "海波", "建伟", "晓东", "俊杰", "文杰", "晓明",
         "海峰", "永刚"),
        ("子轩", "浩然", "宇轩", "浩宇", "梓豪", "俊宇", "宇航", "子豪", "一鸣", "嘉豪", "天宇",
         "博文", "思远", "晨阳", "睿", "昊", "杰", "鑫", "浩", "宇", "晨", "航", "博", "凯"),
    ),
    (
        ("秀英", "桂英", "秀兰", "玉兰", "桂兰", "淑珍", "秀珍", "凤英", "玉梅", "秀芳", "丽华",
         "红梅", "春梅", "桂芳", "玉珍", "秀云", "淑华", "芳", "霞", "华"),
        ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "红", "萍", "颖",
         "琳", "丹", "洁", "莉", "晶", "慧", "丽娟", "晓燕", "海燕", "艳红", "小红", "晓丽",
         "春燕", "丽丽", "婷婷"),
        ("欣怡", "梓涵", "雨桐", "诗涵", "思琪", "子涵", "雨欣", "可馨", "佳怡", "一诺", "梦瑶",
         "欣妍", "雨萱", "佳琪", "嘉怡", "思雨", "文静", "晓雪", "悦", "琪", "婷", "雪", "欣",
         "蕾"),
    ),
)  # fmt: skip
_SINGLE_CHARS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳亮成峰博毅雷晨昊睿",
    "芳娜敏静丽艳娟霞燕玲婷红萍颖琳丹洁莉晶慧倩雪琴欣悦琪蕾薇",
)
_FIRST_CHARS = (
    "建国志文海晓俊子浩宇天家永振德明立嘉思博伟金少新",
    "秀玉丽春晓海美雪静慧佳欣雨思梦诗文彩红金婉淑",
)
_SECOND_CHARS = (
    "国华军明平伟强辉峰杰涛林斌轩然宇博睿泽航晨阳龙鹏成东生荣新江波刚勇超毅",
    "英兰芳华梅珍燕红霞玲娟琴云萍婷敏静丽洁怡涵琪雯颖妍萱琳",
)
_SINGLE_NAME_SHARE = (0.1, 0.2, 0.08)  # of the names not taken from the era lists
_ERA_NAME_SHARE = 0.15

# Company trade name (字号) syllables and industry words: (word, GB/T 4754 section, tech?).
_TRADE_NAME_FIRST = "恒华鑫宏瑞金永新盛博天中联汇信嘉卓正德富荣兴国源海创明佳志安"
_TRADE_NAME_SECOND = "达信源泰丰通力远安昌盛兴华和诚业利成威捷晟润辉锦鼎隆腾宇航峰"
_MANUFACTURING = "制造业"
_IT = "信息传输、软件和信息技术服务业"
_TRADE = "批发和零售业"
_BUSINESS_SERVICES = "租赁和商务服务业"
_RESEARCH = "科学研究和技术服务业"
_CONSTRUCTION = "建筑业"
_TRANSPORT = "交通运输、仓储和邮政业"
_HOSPITALITY = "住宿和餐饮业"
_REAL_ESTATE = "房地产业"
_CULTURE = "文化、体育和娱乐业"
_AGRICULTURE = "农、林、牧、渔业"
_RESIDENT_SERVICES = "居民服务、修理和其他服务业"
_EDUCATION = "教育"
_HEALTH = "卫生和社会工作"
_PUBLIC = "公共管理、社会保障和社会组织"
_FINANCE = "金融业"

_INDUSTRY_WORDS: tuple[tuple[str, str, bool, int], ...] = (
    ("机械制造", _MANUFACTURING, False, 6), ("精密机械", _MANUFACTURING, False, 3),
    ("汽车零部件", _MANUFACTURING, False, 3), ("纺织", _MANUFACTURING, False, 3),
    ("服饰", _MANUFACTURING, False, 3), ("食品", _MANUFACTURING, False, 3),
    ("家具", _MANUFACTURING, False, 2), ("化工", _MANUFACTURING, False, 2),
    ("包装材料", _MANUFACTURING, False, 2), ("医疗器械", _MANUFACTURING, True, 2),
    ("电子科技", _MANUFACTURING, True, 4), ("印刷", _MANUFACTURING, False, 1),
    ("新材料科技", _RESEARCH, True, 2), ("新能源科技", _RESEARCH, True, 2),
    ("环保科技", _RESEARCH, True, 2), ("生物科技", _RESEARCH, True, 2),
    ("软件技术", _IT, True, 3), ("网络科技", _IT, True, 3), ("信息技术", _IT, True, 3),
    ("贸易", _TRADE, False, 6), ("进出口", _TRADE, False, 3), ("商贸", _TRADE, False, 4),
    ("建材", _TRADE, False, 2), ("汽车销售服务", _TRADE, False, 2),
    ("供应链管理", _BUSINESS_SERVICES, False, 2), ("企业管理咨询", _BUSINESS_SERVICES, False, 2),
    ("广告", _BUSINESS_SERVICES, False, 2), ("人力资源服务", _BUSINESS_SERVICES, False, 1),
    ("建筑工程", _CONSTRUCTION, False, 4), ("装饰工程", _CONSTRUCTION, False, 3),
    ("电力工程", _CONSTRUCTION, False, 1), ("物流", _TRANSPORT, False, 4),
    ("运输", _TRANSPORT, False, 2), ("餐饮管理", _HOSPITALITY, False, 3),
    ("酒店管理", _HOSPITALITY, False, 1), ("房地产开发", _REAL_ESTATE, False, 1),
    ("物业管理", _REAL_ESTATE, False, 2), ("文化传媒", _CULTURE, False, 2),
    ("农业发展", _AGRICULTURE, False, 2), ("生态农业", _AGRICULTURE, False, 1),
    ("家政服务", _RESIDENT_SERVICES, False, 1),
)  # fmt: skip

# Occupations: (title, employer kind, fixed industry or None = the employer's, weight).
_OCCUPATIONS: tuple[tuple[str, str, str | None, int], ...] = (
    ("软件工程师", "company", _IT, 5), ("教师", "school", _EDUCATION, 6),
    ("医生", "hospital", _HEALTH, 3), ("护士", "hospital", _HEALTH, 3),
    ("会计", "company", None, 5), ("公务员", "government", _PUBLIC, 4),
    ("销售经理", "company", None, 5), ("行政专员", "company", None, 3),
    ("工程师", "company", _MANUFACTURING, 5), ("技术工人", "company", _MANUFACTURING, 7),
    ("项目经理", "company", _CONSTRUCTION, 3), ("司机", "company", _TRANSPORT, 3),
    ("快递员", "company", _TRANSPORT, 2), ("厨师", "company", _HOSPITALITY, 2),
    ("房产经纪人", "company", _REAL_ESTATE, 2), ("设计师", "company", _CULTURE, 2),
    ("律师", "law_firm", _BUSINESS_SERVICES, 1), ("企业主", "own_company", None, 3),
    ("个体工商户", "none", _TRADE, 6), ("自由职业者", "none", None, 3),
    ("农民", "none", _AGRICULTURE, 3), ("金融从业人员", "company", _FINANCE, 1),
)  # fmt: skip
_GOVERNMENT_BUREAUS = ("财政局", "教育局", "税务局", "市场监督管理局", "人力资源和社会保障局")

_CONTACT_TITLES = (
    (("法定代表人", 5), ("董事长", 2), ("总经理", 3)),
    (("财务负责人", 5), ("财务经理", 3), ("副总经理", 1)),
    (("出纳", 4), ("会计", 3), ("办公室主任", 2)),
)

# Mobile prefixes (13x/15x/18x/19x segments in use) with rough market weights.
_MOBILE_PREFIXES: tuple[tuple[str, int], ...] = (
    *((f"13{d}", 10) for d in range(10)),
    *((f"15{d}", 8) for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *((f"18{d}", 8) for d in range(10)),
    *((f"19{d}", 3) for d in (0, 1, 3, 5, 6, 7, 8, 9)),
)
_EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("163.com", 30), ("126.com", 15), ("qq.com", 12), ("sina.com", 8), ("139.com", 6),
    ("foxmail.com", 5), ("sohu.com", 4), ("hotmail.com", 4), ("gmail.com", 4),
    ("outlook.com", 3), ("yeah.net", 3), ("aliyun.com", 2),
)  # fmt: skip


class _BalanceSpec(NamedTuple):
    median: float  # CNY
    sigma: float  # of the underlying normal
    minimum: float
    maximum: float
    step: int  # round to this many yuan (0: to the fen)
    zero_share: float  # share of holdings with nothing outstanding
    affluence: bool  # scaled by the customer's affluence factor
    max_age_days: int  # opened at most this long before AS_OF


_BALANCES: dict[str, _BalanceSpec] = {
    "DEP-CUR": _BalanceSpec(8_000, 1.5, 0.5, 20_000_000, 0, 0.0, True, 30 * 365),
    "DEP-1Y": _BalanceSpec(50_000, 0.9, 1_000, 20_000_000, 1_000, 0.0, True, 365),
    "DEP-3Y": _BalanceSpec(100_000, 0.9, 5_000, 30_000_000, 1_000, 0.0, True, 3 * 365),
    "DEP-LCD": _BalanceSpec(500_000, 0.8, 200_000, 50_000_000, 10_000, 0.0, True, 3 * 365),
    "LN-MORT": _BalanceSpec(650_000, 0.6, 30_000, 8_000_000, 0, 0.0, False, 25 * 365),
    "LN-CONS": _BalanceSpec(60_000, 0.7, 3_000, 500_000, 0, 0.0, False, 3 * 365),
    "LN-BIZ": _BalanceSpec(500_000, 0.8, 50_000, 10_000_000, 0, 0.0, False, 3 * 365),
    "CARD-DEB": _BalanceSpec(3_000, 1.6, 0.0, 5_000_000, 0, 0.0, True, 30 * 365),
    "CARD-GOLD": _BalanceSpec(6_000, 0.9, 0.0, 50_000, 0, 0.25, False, 20 * 365),
    "CARD-PLAT": _BalanceSpec(20_000, 0.9, 0.0, 200_000, 0, 0.2, False, 20 * 365),
    "WM-30D": _BalanceSpec(100_000, 0.9, 10_000, 30_000_000, 0, 0.0, True, 29),
    "WM-SIP": _BalanceSpec(20_000, 1.1, 500, 5_000_000, 0, 0.0, True, 10 * 365),
    "CD-CUR": _BalanceSpec(400_000, 1.6, 100, 500_000_000, 0, 0.0, True, 30 * 365),
    "CD-FIX": _BalanceSpec(2_000_000, 1.0, 100_000, 500_000_000, 10_000, 0.0, True, 3 * 365),
    "CL-WC": _BalanceSpec(3_000_000, 1.0, 100_000, 200_000_000, 0, 0.0, True, 365),
    "CL-SME": _BalanceSpec(800_000, 0.7, 50_000, 10_000_000, 0, 0.0, False, 3 * 365),
    "CC-SET": _BalanceSpec(50_000, 1.5, 0.0, 50_000_000, 0, 0.0, True, 10 * 365),
}

_HOLDING_COUNT = ((1, 2, 3, 4), (35, 35, 20, 10))
_ACCOUNT_CATEGORY = {"deposit": "1", "loan": "2", "wealth": "5"}

_AS_OF_ORD = AS_OF.toordinal()
_YEAR_DAYS = 365.2425
_MIN_AGE_DAYS = 18 * 366
_MAX_AGE_DAYS = int(88 * _YEAR_DAYS)
_MODE_AGE_DAYS = int(36 * _YEAR_DAYS)
_MA_CODES_FROM = date(2015, 10, 1).toordinal()  # new registrations get "MA..." org codes
_EARLIEST_FOUNDING = date(1993, 1, 1).toordinal()
_CHUNK = 1000  # customers made per pause of the garbage collector
_HNW_ASSETS = 6_000_000
_VIP_ASSETS = 500_000


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


class _Weighted(Generic[_T]):
    """Fast weighted choice: one ``random()`` and a bisect."""

    __slots__ = ("_cum", "_items", "_last", "_total")

    def __init__(self, items: Sequence[_T], weights: Sequence[float]) -> None:
        self._items = tuple(items)
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]
        self._last = len(self._cum) - 1  # search bound: float rounding cannot run off the end

    def pick(self, rng: _FastRandom) -> _T:
        return self._items[bisect(self._cum, rng.random() * self._total, 0, self._last)]


def _zipf(items: Sequence[_T]) -> _Weighted[_T]:
    return _Weighted(items, [1.0 / (rank + 5) for rank in range(len(items))])


@functools.lru_cache(maxsize=8192)
def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin  # imported lazily: loading its dictionaries takes ~0.3 s

    return "".join(lazy_pinyin(text)).replace("ü", "v")


def _city_short(city: str) -> str:
    return city.removesuffix("市")


def _province_short(province: str) -> str:
    return _PROVINCE_SHORT.get(province) or province.removesuffix("省").removesuffix("市")


_REGION_PICKER = _Weighted(REGIONS, [weight for _, weight in _REGION_TABLE])
_SURNAME_PICKER = _Weighted(
    [(name, pinyin) for name, pinyin, _ in _SURNAMES], [w for _, _, w in _SURNAMES]
)
_ERA_PICKERS = tuple(tuple(_zipf(names) for names in by_era) for by_era in _ERA_GIVEN_NAMES)
_PREFIX_PICKER = _Weighted([p for p, _ in _MOBILE_PREFIXES], [w for _, w in _MOBILE_PREFIXES])
_DOMAIN_PICKER = _Weighted([d for d, _ in _EMAIL_DOMAINS], [w for _, w in _EMAIL_DOMAINS])
_INDUSTRY_PICKER = _Weighted(_INDUSTRY_WORDS, [w for *_, w in _INDUSTRY_WORDS])
_INDUSTRY_BY_SECTION: dict[str, _Weighted[tuple[str, str, bool, int]]] = {
    section: _Weighted(
        [entry for entry in _INDUSTRY_WORDS if entry[1] == section],
        [entry[3] for entry in _INDUSTRY_WORDS if entry[1] == section],
    )
    for section in {entry[1] for entry in _INDUSTRY_WORDS}
}
_OCCUPATION_PICKER = _Weighted(_OCCUPATIONS, [w for *_, w in _OCCUPATIONS])
_CONTACT_TITLE_PICKERS = tuple(
    _Weighted([t for t, _ in titles], [w for _, w in titles]) for titles in _CONTACT_TITLES
)
_HOLDING_COUNT_PICKER = _Weighted(*_HOLDING_COUNT)
_CONTACT_COUNT_PICKER = _Weighted((1, 2, 3), (30, 45, 25))
_REGIONS_BY_CITY: dict[str, tuple[Region, ...]] = {
    city: tuple(r for r in REGIONS if r.city == city) for city in {r.city for r in REGIONS}
}
_REGIONS_BY_PROVINCE: dict[str, tuple[Region, ...]] = {
    prov: tuple(r for r in REGIONS if r.province == prov) for prov in {r.province for r in REGIONS}
}


_POW10 = tuple(10**n for n in range(17))


class _FastRandom(Random):
    """``Random`` with cheap helpers: one ``random()`` call instead of ``randrange`` machinery.

    A pseudo-random stream for reproducible demo data, never for secrets.
    """

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def pick_from(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.random() * len(seq))]

    def digits(self, n: int) -> str:
        """``n`` uniformly random decimal digits (n <= 16)."""
        return str(self.getrandbits(64) % _POW10[n]).zfill(n)


class _HoldingPlan(NamedTuple):
    """What :meth:`_Run.holdings` needs of a product, flat for cheap unpacking."""

    code: str
    log_median: float
    sigma: float
    minimum: float
    maximum: float
    step: int
    zero_share: float
    affluence: bool
    max_age_days: int
    is_asset: bool  # counts towards the customer's deposits and investments
    account_kind: str  # segment digit + category digit; "" for a card (numbered "62...")


def _holding_plan(spec: ProductSpec) -> _HoldingPlan:
    bal = _BALANCES[spec.code]
    is_card = spec.category == "card"
    return _HoldingPlan(
        spec.code,
        math.log(bal.median),
        bal.sigma,
        bal.minimum,
        bal.maximum,
        bal.step,
        bal.zero_share,
        bal.affluence,
        bal.max_age_days,
        spec.category in ("deposit", "wealth") or spec.code in ("CARD-DEB", "CC-SET"),
        ""
        if is_card
        else ("1" if spec.segment == "corporate" else "0") + _ACCOUNT_CATEGORY[spec.category],
    )


_HOLDING_PLANS = {spec.code: _holding_plan(spec) for spec in PRODUCT_CATALOGUE}
_RETAIL_CODES = (
    "CARD-DEB", "DEP-CUR", "DEP-1Y", "DEP-3Y", "DEP-LCD", "LN-MORT", "LN-CONS", "LN-BIZ",
    "CARD-GOLD", "CARD-PLAT", "WM-30D", "WM-SIP",
)  # fmt: skip
_CORPORATE_CODES = ("CD-CUR", "CD-FIX", "CL-WC", "CL-SME", "CC-SET")


def _opened_on(holding: GeneratedHolding) -> date:
    return holding.opened_on


def _ordered_tags(tags: set[str]) -> tuple[str, ...]:
    return tuple(sorted(tags, key=_TAG_ORDER.__getitem__))


class _Run:
    """State of one generation run: the random stream and the uniqueness registers."""

    def __init__(self, seed: int, corporate_ratio: float) -> None:
        self.rng = _FastRandom(seed)
        self.corporate_ratio = corporate_ratio
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.accounts: set[str] = set()
        self.emails: set[str] = set()
        self.companies: set[str] = set()

    # -- shared pieces -------------------------------------------------------------------------

    def next_customer(self) -> GeneratedCustomer:
        if self.rng.random() < self.corporate_ratio:
            return self.corporate()
        return self.individual()

    def phone(self) -> str:
        rng = self.rng
        while True:
            number = f"{_PREFIX_PICKER.pick(rng)}{rng.getrandbits(64) % 100_000_000:08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def person_name(self, gender: str, birth_year: int) -> tuple[str, str, str]:
        """(full name, surname pinyin, given name)."""
        rng = self.rng
        surname, surname_py = _SURNAME_PICKER.pick(rng)
        sex = 0 if gender == "M" else 1
        era = 0 if birth_year < 1965 else 1 if birth_year < 1990 else 2
        if rng.random() < _ERA_NAME_SHARE:
            given = _ERA_PICKERS[sex][era].pick(rng)
        elif rng.random() < _SINGLE_NAME_SHARE[era]:
            given = rng.pick_from(_SINGLE_CHARS[sex])
        else:
            first = rng.pick_from(_FIRST_CHARS[sex])
            second = rng.pick_from(_SECOND_CHARS[sex])
            given = first + second if first != second else first
        return surname + given, surname_py, given

    def email(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        limit = 99
        while address in self.emails:
            address = f"{local}{self.rng.between(1, limit)}@{domain}"
            limit *= 2
        self.emails.add(address)
        return address

    def person_email(self, surname_py: str, given: str, birth_year: int) -> str:
        rng = self.rng
        domain = _DOMAIN_PICKER.pick(rng)
        if domain == "qq.com" and rng.random() < 0.7:
            return self.email(str(rng.between(10_000, 3_999_999_999)), domain)
        given_py = _pinyin(given)
        style = rng.below(6)
        if style == 0:
            local = surname_py + given_py
        elif style == 1:
            local = f"{surname_py}{given_py}{birth_year % 100:02d}"
        elif style == 2:
            local = f"{given_py}.{surname_py}"
        elif style == 3:
            initials = surname_py[0] + "".join(_pinyin(ch)[0] for ch in given)
            local = f"{initials}{birth_year}"
        elif style == 4:
            local = f"{surname_py}_{given_py}"
        else:
            local = f"{surname_py}{given_py}{rng.between(1, 999)}"
        return self.email(local, domain)

    def address(self, kind: str, region: Region, *, business: bool = False) -> GeneratedAddress:
        rng = self.rng
        # One 64-bit draw feeds the small choices (they use about 40 bits), as digits in mixed
        # radix: much cheaper than a random() call per choice.
        bits = rng.getrandbits(64)
        roads = _DISTRICT_ROADS.get(region.admin_code)
        if not roads or bits & 3 == 0:  # a quarter of addresses are on the common roads
            roads = _COMMON_ROADS
        bits >>= 2
        bits, pick = divmod(bits, len(roads))
        road = roads[pick]
        number = min(1 + int(-150.0 * math.log(1.0 - rng.random())), 1999)  # mean 150
        if kind == "home" or (kind == "registered" and not business):
            bits, building = divmod(bits, 30)
            bits, unit = divmod(bits, 4)
            bits, storeys = divmod(bits, len(_STOREYS))
            bits, floor = divmod(bits, _STOREYS[storeys])
            bits, door = divmod(bits, 4)
            community = ""
            if bits & 1:
                bits >>= 1
                bits, head = divmod(bits, len(_COMMUNITY_HEADS))
                tail = bits % len(_COMMUNITY_TAILS)
                community = _COMMUNITY_HEADS[head] + _COMMUNITY_TAILS[tail]
            block = "号楼" if region.province in _NORTHERN_PROVINCES else "幢"
            street = (
                f"{road}{number}号{community}{building + 1}{block}{unit + 1}单元"
                f"{floor + 1}{door + 1:02d}室"
            )
        elif business and kind == "registered" and bits % 5 < 2:  # own premises
            street = f"{road}{number}号{bits // 5 % 12 + 1}幢"
        else:
            bits, floor = divmod(bits, 39)
            bits, tower = divmod(bits, len(_OFFICE_BUILDINGS))
            street = f"{road}{number}号{_OFFICE_BUILDINGS[tower]}{floor + 2}层"
            if bits % 5 < 3:
                street += f"{floor + 2}{bits // 5 % 20 + 1:02d}室"
        return GeneratedAddress(
            kind, region.province, region.city, region.district, street, region.postcode
        )

    def holdings(
        self,
        codes: tuple[str, ...],
        weights: list[float],
        region: Region,
        earliest_ord: int,
        affluence: float,
    ) -> tuple[tuple[GeneratedHolding, ...], float]:
        """1-4 distinct products drawn by weight (zero = not eligible); also the assets held."""
        rng = self.rng
        rand = rng.random
        accounts = self.accounts
        city_code = region.admin_code[:4]
        count = min(_HOLDING_COUNT_PICKER.pick(rng), len(weights) - weights.count(0.0))
        # weighted sampling without replacement, by rejecting products already drawn
        cum = list(accumulate(weights))
        total = cum[-1]
        size = len(cum)
        chosen: list[int] = []
        while len(chosen) < count:
            index = bisect(cum, rand() * total)  # zero weights are never hit
            if index < size and index not in chosen:
                chosen.append(index)
        result = []
        assets = 0.0
        for index in chosen:
            (
                code,
                log_median,
                sigma,
                low,
                high,
                step,
                zero_share,
                scaled,
                max_age,
                is_asset,
                kind,
            ) = _HOLDING_PLANS[codes[index]]
            if zero_share and rand() < zero_share:
                cents = 0
            else:
                value = math.exp(log_median + sigma * rng.gauss())
                if scaled:
                    value *= affluence
                value = min(max(value, low), high)
                cents = round(value / step) * step * 100 if step else round(value * 100)
            balance = Decimal(cents).scaleb(-2)
            if is_asset:
                assets += cents / 100
            start = max(earliest_ord, _AS_OF_ORD - max_age)
            opened = date.fromordinal(start + int(rand() * (_AS_OF_ORD - start + 1)))
            while True:
                # cards: UnionPay "62" + 16 digits; accounts: city code, segment (0 retail,
                # 1 corporate), category, 12-digit serial; a Luhn check digit last
                if kind:
                    payload = f"{city_code}{kind}{rng.getrandbits(64) % 10**12:012d}"
                else:
                    payload = f"62{rng.getrandbits(64) % 10**16:016d}"
                account = payload + _luhn_check_digit(payload)
                if account not in accounts:
                    accounts.add(account)
                    break
            result.append(GeneratedHolding(code, account, balance, opened))
        if count > 1:
            result.sort(key=_opened_on)
        return tuple(result), assets

    def company_name(self, region: Region, industry_word: str, *, long: bool = False) -> str:
        """City + trade name (two characters, three with ``long``) + industry + legal form."""
        rng = self.rng
        city = _city_short(region.city)
        suffix = "股份有限公司" if rng.random() < 0.12 else "有限公司"
        while True:
            first = rng.pick_from(_TRADE_NAME_FIRST)
            second = rng.pick_from(_TRADE_NAME_SECOND)
            if first != second:
                break
        third = rng.pick_from(_TRADE_NAME_SECOND) if long else ""
        return f"{city}{first}{second}{third}{industry_word}{suffix}"

    # -- individuals ---------------------------------------------------------------------------

    def resident_id(self, region: Region, birth: date, gender: str) -> str | None:
        """A new ID number, or None when that region and birth date look used up."""
        rng = self.rng
        prefix = f"{region.admin_code}{birth.year}{birth.month:02d}{birth.day:02d}"
        parity = 1 if gender == "M" else 0  # odd order code = male
        for _ in range(64):
            order = rng.below(500) * 2 + parity
            if order == 0:
                continue
            body = f"{prefix}{order:03d}"
            number = body + resident_id_check_digit(body)
            if number not in self.ids:
                self.ids.add(number)
                return number
        return None

    def id_region(self, home: Region, birth_year: int) -> Region:
        rng = self.rng
        issued_by = max(birth_year + 16, 2004)
        while True:
            roll = rng.random()
            if roll < 0.7:
                region = home
            elif roll < 0.8:
                region = rng.pick_from(_REGIONS_BY_PROVINCE[home.province])
            else:
                region = _REGION_PICKER.pick(rng)
            if _CODE_SINCE.get(region.admin_code, 0) <= issued_by:
                return region

    def employer(self, kind: str, region: Region, industry: str | None) -> tuple[str | None, str]:
        """(employer name, industry section) for an occupation's employer kind."""
        rng = self.rng
        city = region.city
        if kind == "school":
            if rng.random() < 0.5:
                return f"{city}第{rng.between(1, 15)}中学", _EDUCATION
            return f"{city}{region.district}实验小学", _EDUCATION
        if kind == "hospital":
            roll = rng.random()
            if roll < 0.5:
                return f"{city}第{rng.between(1, 7)}人民医院", _HEALTH
            if roll < 0.75:
                return f"{city}中医院", _HEALTH
            return f"{city}{region.district}人民医院", _HEALTH
        if kind == "government":
            bureau = rng.pick_from(_GOVERNMENT_BUREAUS)
            district = region.district if rng.random() < 0.6 else ""
            return f"{city}{district}{bureau}", _PUBLIC
        if kind == "law_firm":
            trade = rng.pick_from(_TRADE_NAME_FIRST) + rng.pick_from(_TRADE_NAME_SECOND)
            return f"{_province_short(region.province)}{trade}律师事务所", _BUSINESS_SERVICES
        if industry == _FINANCE:
            trade = rng.pick_from(_TRADE_NAME_FIRST) + rng.pick_from(_TRADE_NAME_SECOND)
            kind_word = rng.pick_from(("融资担保", "小额贷款", "保险代理"))
            return f"{_city_short(city)}{trade}{kind_word}有限公司", _FINANCE
        if industry is not None and industry in _INDUSTRY_BY_SECTION:
            word, section, _, _ = _INDUSTRY_BY_SECTION[industry].pick(rng)
        else:
            word, section, _, _ = _INDUSTRY_PICKER.pick(rng)
        return self.company_name(region, word), section

    def individual(self) -> GeneratedCustomer:
        rng = self.rng
        home = _REGION_PICKER.pick(rng)
        gender = "M" if rng.random() < 0.5 else "F"
        id_number = None
        while id_number is None:
            days = int(rng.triangular(_MIN_AGE_DAYS, _MAX_AGE_DAYS, _MODE_AGE_DAYS))
            birth_ord = _AS_OF_ORD - days
            birth = date.fromordinal(birth_ord)
            id_region = self.id_region(home, birth.year)
            id_number = self.resident_id(id_region, birth, gender)
        age = AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))
        name, surname_py, given = self.person_name(gender, birth.year)
        phone = self.phone()

        tags: set[str] = set()
        occupation: str | None
        employer: str | None = None
        industry: str | None = None
        employer_kind = "none"
        work_region = home
        retirement_age = 60 if gender == "M" else 55
        if age >= retirement_age and rng.random() < 0.9:
            occupation = "退休人员"
        elif age <= 22 and rng.random() < 0.6:
            occupation = "学生"
        else:
            occupation, employer_kind, industry, _ = _OCCUPATION_PICKER.pick(rng)
            if employer_kind == "own_company":
                employer_kind = "company"
            if employer_kind != "none":
                if rng.random() < 0.5:
                    work_region = rng.pick_from(_REGIONS_BY_CITY[home.city])
                employer, industry = self.employer(employer_kind, work_region, industry)
                if occupation != "企业主" and rng.random() < 0.4:
                    tags.add("代发工资")
            if occupation == "个体工商户":
                tags.add("个体工商户")

        email = None
        if rng.random() < (0.65 if age < 60 else 0.25):
            email = self.person_email(surname_py, given, birth.year)

        addresses = [self.address("home", home)]
        if employer is not None and rng.random() < 0.5:
            addresses.append(self.address("office", work_region))
        if id_region != home or rng.random() < 0.2:
            addresses.append(self.address("registered", id_region))

        affluence = rng.lognormvariate(0.0, 0.9) * (
            0.5 if age < 30 else 1.0 if age < 45 else 1.4 if age < 65 else 1.2
        )
        business_owner = occupation in ("个体工商户", "企业主")
        weights = [
            12.0,  # CARD-DEB
            5.0,  # DEP-CUR
            4.0 if age >= 50 else 2.0,  # DEP-1Y
            4.0 if age >= 50 else 1.5,  # DEP-3Y
            0.8 * affluence,  # DEP-LCD
            4.0 if 25 <= age <= 60 else 0.0,  # LN-MORT
            1.5 if age < 55 else 0.2,  # LN-CONS
            5.0 if business_owner else 0.1,  # LN-BIZ
            4.0 if age < 65 else 0.5,  # CARD-GOLD
            0.6 * affluence if age < 70 else 0.0,  # CARD-PLAT
            1.0 + 1.5 * affluence,  # WM-30D
            2.5 if age < 45 else 1.0,  # WM-SIP
        ]
        adult_ord = birth_ord + _MIN_AGE_DAYS
        holdings, assets = self.holdings(_RETAIL_CODES, weights, home, adult_ord, affluence)

        if assets >= _HNW_ASSETS:
            tags.add("高净值")
        elif assets >= _VIP_ASSETS:
            tags.add("贵宾客户")
        codes = {h.product_code for h in holdings}
        if codes & {"WM-30D", "WM-SIP"}:
            tags.add("理财偏好")
        if "LN-MORT" in codes:
            tags.add("房贷客户")
        if codes & {"CARD-GOLD", "CARD-PLAT"}:
            tags.add("信用卡客户")
        if "LN-CONS" in codes:
            tags.add("消费贷客户")
        if holdings[0].opened_on.toordinal() > _AS_OF_ORD - 365:
            tags.add("新客户")
        if age >= 60:
            tags.add("老年客户")
        elif age <= 30:
            tags.add("年轻客群")
        if rng.random() < (0.6 if age < 60 else 0.3):
            tags.add("手机银行活跃")
        if rng.random() < 0.15:
            tags.add("社保卡客户")

        return GeneratedCustomer(
            kind="individual",
            name=name,
            id_number=id_number,
            birth_date=birth,
            gender=gender,
            phone=phone,
            email=email,
            occupation=occupation,
            employer=employer,
            industry=industry,
            addresses=tuple(addresses),
            contacts=(),
            holdings=holdings,
            tags=_ordered_tags(tags),
        )

    # -- companies -----------------------------------------------------------------------------

    def uscc(self, region: Region, founded_ord: int) -> str:
        rng = self.rng
        area = region.admin_code if rng.random() < 0.6 else region.admin_code[:4] + "00"
        while True:
            if founded_ord >= _MA_CODES_FROM:
                tail = "".join([rng.pick_from(_USCC_CHARSET) for _ in range(6)])
                org_body = f"MA{tail}"
            else:
                org_body = rng.digits(8)
            body = f"91{area}{org_body}{_org_check(org_body)}"
            code = body + _uscc_check(body)
            if code not in self.ids:
                self.ids.add(code)
                return code

    def corporate(self) -> GeneratedCustomer:
        rng = self.rng
        region = _REGION_PICKER.pick(rng)
        word, industry, tech, _ = _INDUSTRY_PICKER.pick(rng)
        name = self.company_name(region, word)
        attempts = 0
        while name in self.companies:
            attempts += 1
            name = self.company_name(region, word, long=attempts > 20)
        self.companies.add(name)
        founded_ord = rng.between(_EARLIEST_FOUNDING, _AS_OF_ORD - 60)
        id_number = self.uscc(region, founded_ord)
        phone = self.phone()

        email = None
        if rng.random() < 0.7:
            trade_py = _pinyin(name[len(_city_short(region.city)) :][:2])
            if rng.random() < 0.5:
                domain = f"{trade_py}{''.join(p[0] for p in _pinyin_syllables(word))}.com"
                email = self.email(rng.pick_from(("info", "finance", "service", "contact")), domain)
            else:
                email = self.email(f"{trade_py}{rng.between(1, 9999)}", _DOMAIN_PICKER.pick(rng))

        contacts: list[GeneratedContact] = []
        names: set[str] = set()
        for position in range(_CONTACT_COUNT_PICKER.pick(rng)):
            gender = "M" if rng.random() < 0.6 else "F"
            while True:
                contact_name = self.person_name(gender, rng.between(1958, 1998))[0]
                if contact_name not in names:
                    break
            names.add(contact_name)
            title = _CONTACT_TITLE_PICKERS[position].pick(rng)
            contacts.append(GeneratedContact(contact_name, title, self.phone()))

        addresses = [self.address("registered", region, business=True)]
        if rng.random() < 0.6:
            office_region = rng.pick_from(_REGIONS_BY_CITY[region.city])
            addresses.append(self.address("office", office_region, business=True))

        size = rng.lognormvariate(0.0, 1.0)
        small = size < 2.5
        weights = [
            20.0,  # CD-CUR
            2.0 * size,  # CD-FIX
            1.0 if small else 3.0,  # CL-WC
            4.0 if small else 0.5,  # CL-SME
            3.0,  # CC-SET
        ]
        holdings, deposits = self.holdings(_CORPORATE_CODES, weights, region, founded_ord, size)

        tags: set[str] = set()
        codes = {h.product_code for h in holdings}
        if small:
            tags.add("小微企业")
        if "CL-SME" in codes:
            tags.add("普惠金融")
        if codes & {"CL-WC", "CL-SME"}:
            tags.add("授信客户")
        if rng.random() < 0.3:
            tags.add("代发单位")
        if word == "进出口" or (industry == _MANUFACTURING and rng.random() < 0.25):
            tags.add("进出口企业")
        if tech and rng.random() < 0.35:
            tags.add("高新技术企业")
        if deposits >= 10_000_000:
            tags.add("存款大户")
        if holdings[0].opened_on.toordinal() > _AS_OF_ORD - 365:
            tags.add("新客户")

        return GeneratedCustomer(
            kind="corporate",
            name=name,
            id_number=id_number,
            birth_date=None,
            gender=None,
            phone=phone,
            email=email,
            occupation=None,
            employer=None,
            industry=industry,
            addresses=tuple(addresses),
            contacts=tuple(contacts),
            holdings=holdings,
            tags=_ordered_tags(tags),
        )


@functools.lru_cache(maxsize=256)
def _pinyin_syllables(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def generate_customers(
    count: int, seed: int = 0, corporate_ratio: float = 0.15
) -> Iterator[GeneratedCustomer]:
    """Yield ``count`` realistic customers, reproducibly for a given ``seed``.

    Each customer is corporate with probability ``corporate_ratio``. Within one call, ID numbers,
    phone numbers (contacts' included), account numbers, e-mail addresses and company names are
    unique. The output for ``(count, seed)`` is a prefix of the output for ``(count + n, seed)``.
    Arguments are checked when called, not on first iteration. Customers are made in chunks of
    1,000 with the cyclic garbage collector paused meanwhile (never while the caller runs).
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0.0 <= corporate_ratio <= 1.0:
        raise ValueError("corporate_ratio must be between 0 and 1")
    return _generate(_Run(seed, corporate_ratio), count)


def _generate(run: _Run, count: int) -> Iterator[GeneratedCustomer]:
    # Customers are made in chunks with the cyclic garbage collector paused (never across a
    # yield): they create only acyclic objects, and a consumer that keeps them all (a list, a
    # bulk load) otherwise pays for repeated full collections over everything kept so far.
    remaining = count
    while remaining > 0:
        size = min(remaining, _CHUNK)
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            chunk = [run.next_customer() for _ in range(size)]
        finally:
            if was_enabled:
                gc.enable()
        remaining -= size
        yield from chunk
