"""In-process hot paths of the customer archive: search keys, and the per-row Python work of
the detail and search answers (JSON aggregates decoded into DTOs, personal data masked,
encoded again). Together with the HTTP load run they show how much of a request is spent
in Python after PostgreSQL answered.

Run: ``uv run pytest benchmarks --benchmark-only -k customer_archive``. These follow the
plugin's current helpers (:mod:`bankcrm_customer_archive.names`, and the private row
converters of :mod:`~bankcrm_customer_archive.services` that the hot reads use): when the
plugin renames them, update the benchmark.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from bankcrm_customer_archive import names, services
from bankcrm_customer_archive.demo_data import GeneratedCustomer, generate_customers

CREATED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)

# A detail row as services.DETAIL_SQL returns it: scalar columns and three JSON aggregates.
DETAIL_ROW: dict[str, Any] = {
    "id": 48213, "branch_id": 3, "kind": "individual", "name": "王秀英",
    "name_pinyin": "wangxiuying", "name_initials": "wxy", "gender": "F",
    "birth_date": date(1979, 5, 14), "id_type": "resident_id",
    "id_number_masked": "110***********0021", "phone": "13812345678",
    "email": "wangxiuying79@163.com", "occupation": "教师", "employer": "北京市海淀区实验小学",
    "industry": None, "relationship_manager": 3, "relationship_manager_name": "demo.bj.rm",
    "status": "active", "created_at": CREATED, "updated_at": CREATED,
    "tags": json.dumps([
        {"id": 7, "branch_id": 3, "name": "代发工资", "color": "#1677ff"},
        {"id": 9, "branch_id": 3, "name": "高净值", "color": "#f5222d"},
    ], ensure_ascii=False),
    "addresses": json.dumps([
        {"id": 90211, "customer_id": 48213, "kind": "home", "province": "北京市",
         "city": "北京市", "district": "海淀区", "street": "中关村大街27号3单元502",
         "postcode": "100080", "is_primary": True},
        {"id": 90212, "customer_id": 48213, "kind": "office", "province": "北京市",
         "city": "北京市", "district": "海淀区", "street": "学院路15号", "postcode": "100083",
         "is_primary": False},
    ], ensure_ascii=False),
    "contacts": "[]",
}  # fmt: skip

SUMMARY_ROW: dict[str, Any] = {
    "id": 48213, "branch_id": 3, "kind": "individual", "name": "王秀英",
    "name_pinyin": "wangxiuying", "gender": "F", "id_type": "resident_id",
    "id_number_masked": "110***********0021", "phone": "13812345678", "status": "active",
    "relationship_manager": 3, "tags": ["代发工资", "高净值"], "created_at": CREATED,
}  # fmt: skip


def test_search_keys_of_new_customers(benchmark: Any) -> None:
    """Every search key of 200 customers not seen before (what a write or an import pays
    per customer: name pairs, pinyin suffixes, initials, phone)."""
    names.search_keys("欧阳", individual=True, phone=None)  # loads pypinyin's dictionaries
    batches = iter(range(1, 10_000))

    def fresh_customers() -> tuple[tuple[list[GeneratedCustomer]], dict[str, Any]]:
        return (list(generate_customers(200, seed=next(batches))),), {}

    def keys_of(customers: list[GeneratedCustomer]) -> int:
        return sum(
            len(names.search_keys(c.name, individual=c.kind == "individual", phone=c.phone))
            for c in customers
        )

    total = benchmark.pedantic(keys_of, setup=fresh_customers, rounds=30)
    assert total > 200 * 5


def test_pinyin_keys_cached(benchmark: Any) -> None:
    assert benchmark(names.pinyin_keys, "王秀英", individual=True) == ("wangxiuying", "wxy")


@pytest.mark.parametrize("query", ["王秀英", "Wang Xiu'ying"], ids=["chinese", "pinyin"])
def test_search_query_keys(benchmark: Any, query: str) -> None:
    """What ``search_customers`` derives from ``q`` before it builds the statement."""

    def keys() -> tuple[list[str], str]:
        if names.has_cjk(query):
            return names.name_pairs(query), names.like_pattern(query)
        letters = names.normalise_pinyin_query(query)
        low, high = names.prefix_range(names.PINYIN + letters)
        return [low, high], names.INITIALS + letters

    found, extra = benchmark(keys)
    if names.has_cjk(query):
        assert found == [names.NAME_PAIR + "王秀", names.NAME_PAIR + "秀英"]
        assert extra == "%王秀英%"
    else:
        assert found[0] == names.PINYIN + "wangxiuying"
        assert found[0] < found[1]
        assert extra == names.INITIALS + "wangxiuying"


def test_detail_row_to_json(benchmark: Any) -> None:
    """A detail answer after the query: aggregates decoded into DTOs, masked, encoded."""

    def convert() -> bytes:
        return msgspec.json.encode(services._detail(DETAIL_ROW))

    body = msgspec.json.decode(benchmark(convert))
    assert body["phone"] == "138****5678"
    assert body["addresses"][0]["street"] == "中关村****"


def test_search_page_to_json(benchmark: Any) -> None:
    """A search answer of 20 rows after the query."""
    rows = [dict(SUMMARY_ROW, id=SUMMARY_ROW["id"] - i) for i in range(21)]

    def convert() -> bytes:
        items = [services._summary(r) for r in rows[:20]]
        return msgspec.json.encode({"items": items, "next_cursor": str(items[-1].id)})

    body = msgspec.json.decode(benchmark(convert))
    assert len(body["items"]) == 20
    assert body["items"][0]["phone"] == "138****5678"
