"""Splitting a one-column address (``广东省深圳市南山区科技园路1号``) into province, city,
district and street, with the national division codes shipped beside this module.

Core-banking exports and clerks' own files carry the address as one text; the archive
stores it in parts (search, statistics by region and the 360° view read them). The parts
are recognised from the start of the text, level by level, against the GB/T 2260 list of
divisions (``divisions.tsv``, county level, about 3,200 names):

- the province may be missing (``深圳市南山区…``: the city names it), or written without
  its suffix (``广东深圳…``, ``内蒙古呼和浩特市…``, ``广西南宁市…``);
- municipalities (北京, 天津, 上海, 重庆) have no city level: ``北京市朝阳区…`` is
  province and city ``北京市``, as the archive's forms store them; so are the special
  administrative regions;
- cities without districts (东莞市, 中山市, 儋州市 …) and county-level cities directly
  under a province (湖北省仙桃市, 河南省济源市 …) end the division part early;
- a short name without its suffix (``深圳``, ``延边``) counts only when the next level
  follows it at once, so a street called 广州路 is never taken for the city of Guangzhou.

A district name alone (``朝阳区…``) is taken only when it names one district in the
whole country (there are two 朝阳区: Beijing's and Changchun's). Nothing is guessed from
the branch: a row whose address cannot be placed is refused with the reason, and the clerk
writes the province or city in front.

Why not a parser package: the maintained-looking ones either load pandas frames per call
(cpca and its forks, last data 2020-2021, a million rows took minutes) or segment words
with a dictionary of their own; this one is a dictionary lookup per level over the
shipped list, which a bank can review and refresh (``python -m … FILE``) when the
Ministry publishes changes.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DIVISIONS_FILE = Path(__file__).with_name("divisions.tsv")

# Minority nationalities as they appear in the names of autonomous divisions; the short
# name of ``恩施土家族苗族自治州`` is what stands before the first of them (``恩施``).
_NATIONALITIES = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡",
    "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
    "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
    "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)  # fmt: skip
_AUTONOMOUS = re.compile("(?:" + "|".join(sorted(_NATIONALITIES, key=len, reverse=True)) + ")族?")
_PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
_SEPARATORS = re.compile(r"^[\s,，、;；:：\-—_/|]+")
_SPACES = re.compile(r"\s+")
MUNICIPALITIES = frozenset(("11", "12", "31", "50"))


@dataclass(frozen=True)
class Division:
    code: str
    name: str


@dataclass(frozen=True)
class AddressParts:
    province: str
    city: str
    district: str
    """Empty for cities without districts and county-level cities under a province."""
    street: str


class AddressError(ValueError):
    """Why an address could not be split (the message names what is missing)."""


def _without_nationalities(stem: str) -> str:
    # 广西壮族 → 广西, 恩施土家族苗族 → 恩施, 伊犁哈萨克 → 伊犁 (only before 自治…: 水 and
    # 白 are nationalities too, and 六盘水市 is no autonomous city)
    match = _AUTONOMOUS.search(stem, 2)
    return stem[: match.start()] if match else stem


def _short_province(name: str) -> str:
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return _without_nationalities(stem) if suffix == "自治区" else stem
    return name


def _short_city(name: str) -> str | None:
    for suffix in _CITY_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            if suffix == "自治州":
                stem = _without_nationalities(stem)
            return stem if len(stem) >= 2 else None
    return None


class _Level:
    """Names of one level, indexed by their first character for prefix matching."""

    def __init__(self) -> None:
        self.by_first: dict[str, list[tuple[str, Division, bool]]] = {}

    def add(self, alias: str, division: Division, short: bool) -> None:
        self.by_first.setdefault(alias[0], []).append((alias, division, short))

    def freeze(self) -> None:
        for entries in self.by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    def matches(self, text: str, position: int) -> list[tuple[int, Division, bool]]:
        """Every name at ``position``, longest first: (end, division, is a short name)."""
        if position >= len(text):
            return []
        return [
            (position + len(alias), division, short)
            for alias, division, short in self.by_first.get(text[position], ())
            if text.startswith(alias, position)
        ]


class Divisions:
    """The national division list, ready to split addresses."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self.names: dict[str, str] = dict(entries)
        self.provinces = _Level()
        self.cities = _Level()
        self.counties = _Level()
        county_names: dict[str, int] = {}
        for code, name in self.names.items():
            division = Division(code, name)
            if code.endswith("0000"):
                self.provinces.add(name, division, False)
                short_province = _short_province(name)
                if short_province != name:
                    self.provinces.add(short_province, division, True)
            elif code.endswith("00") or (
                code[:2] not in MUNICIPALITIES and code[:4] + "00" not in self.names
            ):
                # A prefecture-level city, or a county-level city directly under its
                # province (仙桃市 429004: no 4290 city exists), which stands in for both.
                self.cities.add(name, division, False)
                short = _short_city(name)
                if short:
                    self.cities.add(short, division, True)
            else:
                self.counties.add(name, division, False)
                county_names[name] = county_names.get(name, 0) + 1
        self.unique_counties = frozenset(n for n, count in county_names.items() if count == 1)
        self.with_cities = frozenset(code[:2] for code in self.names if not code.endswith("0000"))
        for level in (self.provinces, self.cities, self.counties):
            level.freeze()

    def province_of(self, code: str) -> str:
        return self.names[code[:2] + "0000"]

    def split(self, address: str) -> AddressParts:
        """The parts of ``address``; raises :class:`AddressError` naming what is missing."""
        text = _SPACES.sub(" ", unicodedata.normalize("NFKC", address)).strip()
        position = 0
        province: Division | None = None
        city: Division | None = None
        county: Division | None = None
        for end, found, short in self.provinces.matches(text, position):
            if short and not self._city_follows(text, _skip(text, end), found.code[:2]):
                continue
            province, position = found, _skip(text, end)
            break
        if province is not None and province.code[:2] in MUNICIPALITIES:
            # 北京市北京市朝阳区 and 上海市市辖区 appear in exports: skip the repetition.
            for repeat in (province.name, "市辖区", "城区"):
                if text.startswith(repeat, position):
                    position = _skip(text, position + len(repeat))
            city = province
        elif province is not None and not self._has_cities(province.code):
            city = province  # 香港特别行政区, 澳门特别行政区, 台湾省
        else:
            prefix = province.code[:2] if province else None
            for end, found, short in self.cities.matches(text, position):
                if prefix and found.code[:2] != prefix:
                    continue
                if short and not self._county_follows(text, _skip(text, end), found.code):
                    continue
                city, position = found, _skip(text, end)
                break
            if city is not None and province is None:
                province = Division(city.code[:2] + "0000", self.province_of(city.code))
        scope: str | None
        if city is None:
            scope = province.code[:2] if province else ""
        elif city.code.endswith("0000"):
            scope = city.code[:2]  # a municipality or special administrative region
        elif city.code.endswith("00"):
            scope = city.code[:4]
        else:
            scope = None  # a county-level city under its province: no district level
        if scope is not None:
            found_here = [
                (end, found)
                for end, found, _ in self.counties.matches(text, position)
                if found.code.startswith(scope)
            ]
            if city is None and found_here:
                # Without the city a district name must name one district where it is
                # looked for (two 朝阳区: Beijing's and Changchun's).
                name = found_here[0][1].name
                places = [f for _, f in found_here if f.name == name]
                if len(places) > 1:
                    cities = "、".join(self._city_name(f.code) for f in places)
                    raise AddressError(
                        f"{name} is a district of several cities ({cities}): write the"
                        " province and city in front of it"
                    )
            if found_here:
                position, county = _skip(text, found_here[0][0]), found_here[0][1]
        if county is not None and city is None:
            # The district names its city (and province) when only it was written.
            city_code = county.code[:4] + "00"
            province = Division(county.code[:2] + "0000", self.province_of(county.code))
            city = (
                province
                if county.code[:2] in MUNICIPALITIES
                else Division(city_code, self.names[city_code])
            )
        if province is None or city is None:
            if county is None and province is None:
                raise AddressError(
                    "no province, city or district at the start of the address"
                    " (write it as 广东省深圳市南山区科技园路1号)"
                )
            raise AddressError(
                "no city after the province in the address (write it as 广东省深圳市南山区…)"
            )
        street = text[position:]
        if not street:
            raise AddressError("the address has no street or house number after the district")
        return AddressParts(province.name, city.name, county.name if county else "", street)

    def _city_name(self, county_code: str) -> str:
        if county_code[:2] in MUNICIPALITIES:
            return self.province_of(county_code)
        return self.province_of(county_code) + self.names[county_code[:4] + "00"]

    def _has_cities(self, province_code: str) -> bool:
        return province_code[:2] in self.with_cities

    def _city_follows(self, text: str, position: int, prefix: str) -> bool:
        if prefix in MUNICIPALITIES:
            return bool(self.counties.matches(text, position))
        return any(d.code[:2] == prefix for _, d, _ in self.cities.matches(text, position))

    def _county_follows(self, text: str, position: int, city_code: str) -> bool:
        return any(d.code[:4] == city_code[:4] for _, d, _ in self.counties.matches(text, position))


def _skip(text: str, position: int) -> int:
    """Past the spaces and separators between two parts (``北京市 朝阳区``, ``广东省,深圳市``)."""
    match = _SEPARATORS.match(text[position:])
    return position + match.end() if match else position


def read_divisions(path: Path = DIVISIONS_FILE) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t", 1)
        entries.append((code, name.strip()))
    return entries


@functools.cache
def divisions() -> Divisions:
    """The shipped list (read once per process)."""
    return Divisions(read_divisions())


def split_address(address: str) -> AddressParts:
    return divisions().split(address)


def _refresh(source: Path) -> int:
    """Rewrite ``divisions.tsv`` from a list of ``code name`` lines (the Ministry's
    published table saved as text, or any file of that shape), keeping the header."""
    header = [
        line
        for line in DIVISIONS_FILE.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]
    entries: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8-sig").splitlines():
        parts = re.split(r"[\s,，]+", line.strip(), maxsplit=1)
        if len(parts) == 2 and re.fullmatch(r"\d{6}", parts[0]):
            entries[parts[0]] = parts[1].strip()
    if len(entries) < 3000:
        print(f"only {len(entries)} divisions in {source}: not a national list", file=sys.stderr)
        return 1
    body = [f"{code}\t{name}" for code, name in sorted(entries.items())]
    DIVISIONS_FILE.write_text("\n".join([*header, *body]) + "\n", encoding="utf-8")
    print(f"{len(entries)} divisions written to {DIVISIONS_FILE}")
    return 0


if __name__ == "__main__":  # pragma: no cover - an operator's maintenance command
    if len(sys.argv) != 2:
        print("usage: python -m bankcrm_customer_archive.importing.address FILE", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(_refresh(Path(sys.argv[1])))
