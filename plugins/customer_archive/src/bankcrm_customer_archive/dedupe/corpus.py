"""Labelled corpora for training and measuring duplicate detection.

Customers come from :mod:`..demo_data`; a share of them get one or two duplicate records
with the errors that make duplicates in a bank: a homophone character typed through a
pinyin input method, the name written in pinyin (``Wang Xiuying``) or misspelt in it,
traditional characters, a new phone number, day and month of birth swapped, an ID number
re-typed with an error (so its hash differs), a new address, a missing e-mail. Hard
non-duplicates are planted too: relatives sharing the address and phone (twins share the
birth date as well). Every record carries its ``cluster`` (the original customer), so
precision and recall can be counted exactly.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any

from bankcrm_customer_archive import names
from bankcrm_customer_archive.dedupe.features import SOURCE_COLUMNS
from bankcrm_customer_archive.demo_data import (
    GeneratedCustomer,
    generate_customers,
)

# Characters people are named with (the generator's pools and more): homophones among
# them are what a pinyin input method offers in place of the intended character.
_NAME_CHARACTERS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳亮成峰博毅雷晨昊睿"
    "芳娜敏静丽艳娟霞燕玲婷红萍颖琳丹洁莉晶慧倩雪琴欣悦琪蕾薇"
    "建国志文海晓子天家永振德立嘉思金少新秀玉春美雨梦诗彩婉淑"
    "轩然泽航东生荣江英兰梅珍云怡涵雯妍萱"
    "维薇炜玮蔚卫为微唯巍威葳嵩松颂宋崧菲非霏斐飞妃雯闻文纹汶"
    "瑛莹颖盈滢迎影营英赢璐露路鹭禄潞琳林霖淋临麟玲铃凌灵羚苓岭"
    "华骅桦铧婕洁杰捷颉睫静靖晶菁婧敬竞境鹏朋彭蓬澎棚宇雨羽禹语"
    "芳方舫昉钫坊涛韬滔焘桃陶淘萍平屏坪苹凭娟鹃涓隽眷倩茜蒨芊谦"
)

DUPLICATE_ERRORS = (
    "homophone", "pinyin_name", "pinyin_typo", "traditional", "phone_changed",
    "phone_missing", "birth_swapped", "id_changed", "address_changed", "email_missing",
)  # fmt: skip


@functools.cache
def _homophones() -> dict[str, tuple[str, ...]]:
    from pypinyin import lazy_pinyin

    by_sound: dict[str, list[str]] = {}
    for ch in dict.fromkeys(_NAME_CHARACTERS):
        by_sound.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    return {
        ch: tuple(o for o in group if o != ch)
        for group in by_sound.values()
        for ch in group
        if len(group) > 1
    }


@dataclass
class Corpus:
    """Column-wise customer records (:data:`SOURCE_COLUMNS`) with their truth."""

    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in SOURCE_COLUMNS}
    )
    cluster: list[int] = field(default_factory=list)
    """The original customer of each record: equal clusters are duplicates."""
    errors: list[str] = field(default_factory=list)
    """What was changed in a duplicate (``+``-joined), ``""`` for originals and
    ``relative``/``twin`` for planted non-duplicates."""

    def __len__(self) -> int:
        return len(self.cluster)

    def add(self, cluster: int, errors: str, **values: Any) -> None:
        values["id"] = len(self.cluster) + 1
        for name in SOURCE_COLUMNS:
            self.columns[name].append(values.get(name))
        self.cluster.append(cluster)
        self.errors.append(errors)

    def true_pairs(self) -> set[tuple[int, int]]:
        """Every pair of record ids (smaller first) that are the same customer."""
        members: dict[int, list[int]] = {}
        for record_id, cluster in zip(self.columns["id"], self.cluster, strict=True):
            members.setdefault(cluster, []).append(record_id)
        pairs = set()
        for ids in members.values():
            for i, left in enumerate(ids):
                for right in ids[i + 1 :]:
                    pairs.add((min(left, right), max(left, right)))
        return pairs


def id_hash(id_number: str) -> str:
    """A stand-in for :func:`bankcrm.pii.lookup_hash` (no secret key needed offline)."""
    return hashlib.sha256(id_number.encode()).hexdigest()


def _record(customer: GeneratedCustomer) -> dict[str, Any]:
    individual = customer.kind == "individual"
    home = customer.addresses[0] if customer.addresses else None
    return {
        "kind": customer.kind,
        "name": customer.name,
        "name_pinyin": names.pinyin_keys(customer.name, individual=individual)[0],
        "gender": customer.gender,
        "birth_date": customer.birth_date,
        "id_number_hash": id_hash(customer.id_number),
        "phone": customer.phone,
        "email": customer.email,
        "province": home.province if home else None,
        "city": home.city if home else None,
        "district": home.district if home else None,
        "street": home.street if home else None,
    }


def _pinyin_name(name: str) -> str:
    """``王秀英`` -> ``Wang Xiuying``: how a name is written on a foreign-language form."""
    syllables = names.syllables(name, individual=True)
    if not syllables:
        return name
    return f"{syllables[0].capitalize()} {''.join(syllables[1:]).capitalize()}".strip()


def _misspell(rng: Random, text: str) -> str:
    letters = list(text)
    position = rng.randrange(1, len(letters)) if len(letters) > 2 else 0
    how = rng.randrange(3)
    if how == 0 and len(letters) > 4:
        del letters[position]
    elif how == 1 and position + 1 < len(letters):
        letters[position], letters[position + 1] = letters[position + 1], letters[position]
    else:
        letters[position] = rng.choice("aeioungh")
    return "".join(letters)


class _Perturber:
    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.phone_serial = 0

    def new_phone(self) -> str:
        self.phone_serial += 1
        return f"199{self.phone_serial:08d}"

    def apply(self, record: dict[str, Any], error: str) -> bool:
        """Change ``record`` in place; False when the error does not apply to it."""
        rng = self.rng
        individual = record["kind"] == "individual"
        name = record["name"]
        if error == "homophone":
            spots = [i for i, ch in enumerate(name) if i > 0 and ch in _homophones()]
            if not spots:
                return False
            i = rng.choice(spots)
            name = name[:i] + rng.choice(_homophones()[name[i]]) + name[i + 1 :]
        elif error == "pinyin_name":
            if not individual or not names.has_cjk(name):
                return False
            name = _pinyin_name(name)
        elif error == "pinyin_typo":
            if not individual or not names.has_cjk(name):
                return False
            surname, _, given = _pinyin_name(name).partition(" ")
            name = f"{surname} {_misspell(rng, given)}" if given else _misspell(rng, surname)
        elif error == "traditional":
            from zhconv import convert

            traditional = convert(name, "zh-tw")
            if traditional == name:
                return False
            name = traditional
        elif error == "phone_changed":
            record["phone"] = self.new_phone()
        elif error == "phone_missing":
            record["phone"] = None
        elif error == "birth_swapped":
            born: date | None = record["birth_date"]
            if born is None or born.day > 12 or born.day == born.month:
                return False
            record["birth_date"] = born.replace(month=born.day, day=born.month)
        elif error == "id_changed":
            record["id_number_hash"] = id_hash(f"typo-{rng.random()}")
        elif error == "address_changed":
            record["street"] = (
                f"{rng.choice('东西南北')}{rng.choice('环新安和')}路{rng.randrange(1, 300)}号"
            )
        elif error == "email_missing":
            if record["email"] is None:
                return False
            record["email"] = None
        record["name"] = name
        record["name_pinyin"] = names.pinyin_keys(name, individual=individual)[0]
        return True


def generate_corpus(
    customers: int,
    *,
    seed: int = 7,
    duplicate_share: float = 0.1,
    relative_share: float = 0.03,
) -> Corpus:
    """``customers`` originals, ~``duplicate_share`` of them with 1-2 duplicates (1-3
    errors each), ~``relative_share`` with a relative (a twin for one in ten of those)."""
    rng = Random(seed)  # noqa: S311 - reproducible test data, not secrets
    perturber = _Perturber(rng)
    corpus = Corpus()
    extra: list[tuple[int, str, dict[str, Any]]] = []
    for index, customer in enumerate(generate_customers(customers, seed)):
        cluster = index + 1
        record = _record(customer)
        corpus.add(cluster, "", **record)
        if rng.random() < duplicate_share:
            for _ in range(1 if rng.random() < 0.85 else 2):
                copy = dict(record)
                applied = [
                    error
                    for error in rng.sample(DUPLICATE_ERRORS, rng.choice((1, 1, 2, 2, 3)))
                    if perturber.apply(copy, error)
                ]
                extra.append((cluster, "+".join(applied) or "exact", copy))
        if customer.kind == "individual" and rng.random() < relative_share:
            extra.append(_relative(rng, perturber, record, customers + len(extra) + 1))
    # Duplicates arrive later than their originals, in no particular order.
    rng.shuffle(extra)
    for cluster, errors, record in extra:
        corpus.add(cluster, errors, **record)
    return corpus


def _relative(
    rng: Random, perturber: _Perturber, record: dict[str, Any], cluster: int
) -> tuple[int, str, dict[str, Any]]:
    twin = rng.random() < 0.1
    relative = dict(record)
    surname = record["name"][0]
    given = "".join(rng.choice(_NAME_CHARACTERS) for _ in range(rng.choice((1, 2, 2))))
    relative["name"] = surname + given
    relative["name_pinyin"] = names.pinyin_keys(relative["name"], individual=True)[0]
    relative["id_number_hash"] = id_hash(f"relative-{cluster}")
    relative["email"] = None
    if not twin:
        born: date | None = record["birth_date"]
        if born is not None:
            relative["birth_date"] = born - timedelta(days=rng.randrange(300, 12_000))
        relative["gender"] = "F" if record["gender"] == "M" else "M"
        if rng.random() < 0.5:
            relative["phone"] = perturber.new_phone()
    return cluster, "twin" if twin else "relative", relative


def iter_rows(corpus: Corpus) -> Iterator[dict[str, Any]]:
    """The records one by one (for loading a corpus into the database)."""
    for i in range(len(corpus)):
        yield {name: corpus.columns[name][i] for name in SOURCE_COLUMNS}
