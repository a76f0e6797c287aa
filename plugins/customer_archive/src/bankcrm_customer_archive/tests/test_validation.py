from decimal import Decimal
from typing import Any

import httpx
import pytest

from bankcrm_customer_archive import names
from bankcrm_customer_archive.validation import Problems, check_amount, normalise_phone
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


def fields(response: httpx.Response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def test_field_level_problems(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    url = f"{BASE}/customers"
    valid = kit.resident_id()
    wrong_check_digit = valid[:-1] + ("1" if valid[-1] != "1" else "2")
    response = await bj.post(url, json=kit.person(
        id_number=wrong_check_digit, phone="12345678901", birth_date="1990-01-01"
    ))  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == {"/body/id_number", "/body/phone"}

    mismatch = await bj.post(url, json=kit.person(birth_date="1990-01-01", gender="M"))
    assert fields(mismatch) == {"/body/birth_date", "/body/gender"}

    corporate = await bj.post(url, json=kit.person(kind="corporate", name="某某有限公司"))
    assert fields(corporate) == {"/body/id_type"}
    good = kit.uscc()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    bad_uscc = await bj.post(
        url, json=kit.person(kind="corporate", id_type="uscc", id_number=wrong)
    )
    assert fields(bad_uscc) == {"/body/id_number"}

    contact = await bj.post(url, json=kit.person(contacts=[{"name": "李", "phone": "999"}]))
    assert fields(contact) == {"/body/contacts/0/phone"}
    tags = await bj.post(url, json=kit.person(tags=["不存在的标签"]))
    assert fields(tags) == {"/body/tags"}
    manager = await bj.post(url, json=kit.person(relationship_manager_id=999_999))
    assert fields(manager) == {"/body/relationship_manager_id"}


async def test_type_errors_are_422_with_field(bj: httpx.AsyncClient, kit: Any) -> None:
    """A value of the wrong type is read but not allowed: 422 with its pointer."""
    url = f"{BASE}/customers"
    for body, field in [
        (kit.person(kind="household"), "kind"),
        (kit.person(birth_date="1990-02-30"), "birth_date"),
        (kit.person(nickname="x"), "nickname"),
        (kit.person(name=""), "name"),
        (kit.person(email="not-an-address"), "email"),
    ]:
        response = await bj.post(url, json=body)
        assert response.status_code == 422, body
        assert field in response.json()["detail"]
        assert fields(response) == {f"/body/{field}"}
    assert (await bj.get(f"{url}", params={"limit": 201})).status_code == 422
    assert (await bj.get(f"{url}", params={"kind": "household"})).status_code == 422
    # A cursor that does not decode cannot be read: 400.
    assert (await bj.get(f"{url}", params={"cursor": "nonsense"})).status_code == 400
    short = await bj.get(url, params={"phone": "12"})
    assert short.status_code == 422
    assert fields(short) == {"/query/phone"}


async def test_branch_must_be_in_scope(world: World, kit: Any) -> None:
    sh = await world.client("demo.sh.manager")
    refused = await sh.post(f"{BASE}/customers", json=kit.person(branch_id=world.branch("BJ")))
    assert refused.status_code == 422
    assert fields(refused) == {"/body/branch_id"}
    # Without branch_id the actor's home branch is used.
    created = await kit.create(sh)
    assert created["branch_id"] == world.branch("SH")
    duplicate = await sh.post(f"{BASE}/customers", json=kit.person())
    assert duplicate.status_code == 409
    assert fields(duplicate) == {"/body/id_number"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("(0571) 8765 4321", "0571-87654321"),
        ("12812345678", None),
        ("1381234567", None),
        ("010-1234567", None),
    ],
)
def test_phone_normalisation(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_amounts() -> None:
    problems = Problems()
    assert check_amount(problems, "a", Decimal("12.5")) == Decimal("12.50")
    check_amount(problems, "b", Decimal("0.001"))
    check_amount(problems, "c", Decimal("-1"))
    check_amount(problems, "d", Decimal("NaN"))
    assert [e.field for e in problems.errors] == ["b", "c", "d"]


def test_pinyin_keys_and_query_grams() -> None:
    assert names.pinyin_keys("长孙无忌", individual=True) == ("zhangsunwuji", "zswj")
    # Heteronymous surname readings apply to people only.
    assert names.pinyin_keys("曾经有限公司", individual=False)[0].startswith("ceng")
    assert names.pinyin_keys("ABC科技有限公司", individual=False) == (
        "abckejiyouxiangongsi", "abckjyxgs"
    )  # fmt: skip
    assert names.name_pairs("王秀英") == ["n:王秀", "n:秀英"]
    assert names.search_keys("王秀英", individual=True, phone="138-1234-5678") == [
        "i:wxy", "n:王秀", "n:秀英", "p:wangxiuying", "p:xiuying", "p:ying", "t:87654321831",
    ]  # fmt: skip
    assert names.prefix_range("p:wang") == ("p:wang", "p:wanh")
    assert names.prefix_range("王") == ("王", "玌")
    assert names.normalise_pinyin_query("Lü Xiu'ying") == "lvxiuying"
    assert names.like_pattern("50%_off") == "%50\\%\\_off%"
