"""Advanced search: every filter, combinations, Chinese fragments, AUM kept in step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from bankcrm import db
from bankcrm_customer_archive.search import services as search
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def names_get(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(f"{BASE}/customers", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def names_post(client: httpx.AsyncClient, **body: Any) -> list[str]:
    response = await client.post(f"{BASE}/customers/search", json=body)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def owner_execute(world: World, sql: str, *args: Any) -> None:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        await owner.execute(sql, *args)
    finally:
        await owner.close()


@pytest.fixture
async def people(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int]
) -> dict[str, int]:
    """Five BJ customers with different tiers, ratings, tags, holdings and addresses."""
    hd, cy, bj_branch = world.branch("BJ-HD"), world.branch("BJ-CY"), world.branch("BJ")
    vip = (await bj.post(f"{BASE}/tags", json={"name": "贵宾", "branch_id": hd})).json()
    vip_cy = (await bj.post(f"{BASE}/tags", json={"name": "贵宾", "branch_id": cy})).json()
    paid = (await bj.post(f"{BASE}/tags", json={"name": "代发", "branch_id": hd})).json()
    rm = world.users["demo.bj.rm"]
    specs = [
        ("王秀英", hd, "19700101", "002", "中关村大街27号", "海淀区", "北京恒信科技有限公司", rm),
        ("李建国", cy, "19800202", "003", "建国路88号SOHO现代城", "朝阳区", "中信证券", None),
        ("张伟", hd, "19900303", "005", "学院路38号", "海淀区", None, rm),
        ("刘芳", bj_branch, "19600404", "006", "长安街1号", "东城区", "国家电网", None),
    ]
    ids: dict[str, int] = {}
    for name, branch, born, order, street, district, employer, manager in specs:
        created = await kit.create(
            bj, name=name, branch_id=branch, id_number=kit.resident_id("110108", born, order),
            phone=None, employer=employer, relationship_manager_id=manager,
            addresses=[{"kind": "home", "province": "北京市", "city": "北京市",
                        "district": district, "street": street}],
        )  # fmt: skip
        ids[name] = created["id"]
    ids["北京恒信科技有限公司"] = (
        await kit.create(
            bj,
            kind="corporate",
            name="北京恒信科技有限公司",
            id_type="uscc",
            id_number=kit.uscc(),
            phone=None,
            branch_id=bj_branch,
        )
    )["id"]
    await bj.post(f"{BASE}/customers/{ids['王秀英']}/tags", json={"tag_id": vip["id"]})
    await bj.post(f"{BASE}/customers/{ids['王秀英']}/tags", json={"tag_id": paid["id"]})
    await bj.post(f"{BASE}/customers/{ids['张伟']}/tags", json={"tag_id": paid["id"]})
    await bj.post(f"{BASE}/customers/{ids['李建国']}/tags", json={"tag_id": vip_cy["id"]})
    holdings = [
        ("王秀英", "WM-30D", "6217000010000000001", "800000.00", "2024-03-01"),
        ("王秀英", "DEP-CUR", "6217000010000000002", "50000.50", "2020-01-01"),
        ("李建国", "DEP-1Y", "6217000010000000003", "120000.00", "2023-06-15"),
        ("张伟", "LN-MORT", "6217000010000000004", "900000.00", "2022-01-01"),
    ]
    for name, code, account, balance, opened in holdings:
        response = await bj.post(
            f"{BASE}/customers/{ids[name]}/holdings",
            json={"product_code": code, "account_no": account, "balance": balance,
                  "opened_on": opened},
        )  # fmt: skip
        assert response.status_code == 201, response.text
    ratings = {"王秀英": ("wealth", "AA", "C4"), "李建国": ("affluent", "A", "C3"),
               "张伟": ("mass", "BBB", "C2")}  # fmt: skip
    for name, (tier, grade, risk) in ratings.items():
        await owner_execute(
            world,
            "UPDATE customer_archive_customer SET value_tier = $2, credit_grade = $3,"
            " risk_tolerance = $4 WHERE id = $1",
            ids[name], tier, grade, risk,
        )  # fmt: skip
    await owner_execute(
        world,
        "UPDATE customer_archive_customer SET created_at = '2019-05-01T10:00:00+08' WHERE id = $1",
        ids["刘芳"],
    )
    return ids


async def test_aum_follows_holdings(
    world: World, kit: Any, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    detail = (await bj.get(f"{BASE}/customers", params={"q": "王秀英"})).json()["items"][0]
    assert detail["aum"] == "850000.50"  # wealth + deposit; loans do not count
    zhang = (await bj.get(f"{BASE}/customers", params={"q": "张伟"})).json()["items"][0]
    assert zhang["aum"] == "0.00"
    holdings = (await bj.get(f"{BASE}/customers/{people['王秀英']}/holdings")).json()
    wealth = next(h for h in holdings if h["product_code"] == "WM-30D")
    url = f"{BASE}/customers/{people['王秀英']}/holdings/{wealth['id']}"
    await bj.patch(url, json={"balance": "100000.00"})
    assert await names_post(bj, aum_min="150000") == ["王秀英"]
    assert await names_post(bj, aum_min="100000", aum_max="150000") == ["李建国"]
    await bj.patch(url, json={"status": "closed"})
    assert await names_post(bj, aum_min="50000", aum_max="50000.50") == ["王秀英"]
    await bj.delete(url)
    assert await names_post(bj, aum_min="50000.50", aum_max="50000.50") == ["王秀英"]


async def test_each_filter(world: World, bj: httpx.AsyncClient, people: dict[str, int]) -> None:
    hd = world.branch("BJ-HD")
    rm = world.users["demo.bj.rm"]
    # Ratings and tiers (lists match any value).
    assert await names_get(bj, value_tiers=["wealth", "affluent"]) == ["李建国", "王秀英"]
    assert await names_post(bj, credit_grades=["BBB"]) == ["张伟"]
    assert await names_post(bj, risk_tolerances=["C4", "C2"]) == ["张伟", "王秀英"]
    # Tags by name (a name matches that tag in every branch) and by id, any or all.
    assert await names_get(bj, tags=["贵宾"]) == ["李建国", "王秀英"]
    assert await names_get(bj, tags=["贵宾", "代发"], tag_match="all") == ["王秀英"]
    assert await names_get(bj, tags=["贵宾", "代发"]) == ["张伟", "李建国", "王秀英"]
    assert await names_get(bj, tag="代发") == ["张伟", "王秀英"]
    tag_ids = {t["name"]: t["id"] for t in (await bj.get(f"{BASE}/tags?branch_id={hd}")).json()}
    assert await names_post(bj, tag_ids=[tag_ids["贵宾"]]) == ["王秀英"]
    # Products held (open holdings), by code and by category; when a holding was opened.
    assert await names_post(bj, product_codes=["WM-30D"]) == ["王秀英"]
    assert await names_post(bj, product_categories=["deposit"]) == ["李建国", "王秀英"]
    assert await names_post(bj, product_categories=["loan", "wealth"]) == ["张伟", "王秀英"]
    assert await names_post(
        bj, holding_opened_from="2023-01-01", holding_opened_to="2023-12-31"
    ) == ["李建国"]
    assert await names_post(
        bj, product_categories=["deposit"], holding_opened_from="2021-01-01"
    ) == ["李建国"]
    # Balance range (AUM), dates, kind, status, manager, branch subtree.
    assert await names_post(bj, aum_min="100000") == ["李建国", "王秀英"]
    assert await names_post(bj, aum_min="100000", aum_max="200000") == ["李建国"]
    assert await names_post(bj, birth_from="1975-01-01", birth_to="1985-12-31") == ["李建国"]
    assert await names_post(bj, created_to="2019-05-01") == ["刘芳"]
    assert "刘芳" not in await names_post(bj, created_from="2019-05-02")
    assert await names_post(bj, kind="corporate") == ["北京恒信科技有限公司"]
    assert await names_post(bj, statuses=["dormant"]) == []
    assert await names_post(bj, relationship_manager_id=rm) == ["张伟", "王秀英"]
    assert await names_post(bj, branch_id=hd) == ["张伟", "王秀英"]
    # Combinations: every criterion must hold.
    assert await names_post(
        bj, branch_id=hd, tags=["代发"], product_categories=["wealth"], aum_min="500000",
        risk_tolerances=["C4"], value_tiers=["wealth"],
    ) == ["王秀英"]  # fmt: skip
    assert await names_post(bj, branch_id=hd, value_tiers=["affluent"]) == []
    assert await names_get(bj, address="海淀", tags=["代发"], credit_grades=["BBB"]) == ["张伟"]


async def test_chinese_fragments(
    world: World, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    # Addresses: district and street, any two or more characters, spaces and case ignored.
    assert await names_post(bj, address="海淀") == ["张伟", "王秀英"]
    assert await names_post(bj, address="关村") == ["王秀英"]
    assert await names_post(bj, address="海淀区中关村大街") == ["王秀英"]
    assert await names_post(bj, address="soho 现代") == ["李建国"]
    assert await names_post(bj, address="大街38") == []
    assert await names_post(bj, address="村中") == []
    # Digits are not keys, but a fragment with them is found by its other pairs and then
    # checked whole.
    assert await names_post(bj, address="中关村大街27号") == ["王秀英"]
    assert await names_post(bj, address="中关村大街28号") == []
    assert await names_post(bj, address="88号soho") == ["李建国"]
    assert await names_post(bj, text="院路38号") == ["张伟"]
    # Companies: corporate names and individuals' employers.
    assert await names_post(bj, company="恒信") == ["北京恒信科技有限公司", "王秀英"]
    assert await names_post(bj, company="中信证券") == ["李建国"]
    assert await names_post(bj, company="电网") == ["刘芳"]
    # Text: names, companies and addresses at once.
    assert await names_post(bj, text="建国") == ["李建国"]  # the name and the street
    assert await names_post(bj, text="恒信科技") == ["北京恒信科技有限公司", "王秀英"]
    assert await names_post(bj, text="学院路") == ["张伟"]
    # A two-character fragment inside a name.
    assert await names_post(bj, q="秀英") == ["王秀英"]
    # The keys follow changes, in the same transaction.
    address = (await bj.get(f"{BASE}/customers/{people['张伟']}/addresses")).json()[0]
    url = f"{BASE}/customers/{people['张伟']}/addresses/{address['id']}"
    await bj.patch(url, json={"street": "五道口华清嘉园"})
    assert await names_post(bj, address="学院路") == []
    assert await names_post(bj, address="华清") == ["张伟"]
    await bj.delete(url)
    assert await names_post(bj, address="华清") == []
    await bj.patch(f"{BASE}/customers/{people['刘芳']}", json={"employer": "南方电网"})
    assert await names_post(bj, company="南方") == ["刘芳"]
    assert await names_post(bj, company="国家电网") == []
    await bj.patch(f"{BASE}/customers/{people['刘芳']}", json={"name": "刘芳芳"})
    assert await names_post(bj, company="南方电网") == ["刘芳芳"]  # name change keeps them
    # Another branch sees none of it.
    sh = await world.client("demo.sh.manager")
    assert await names_post(sh, address="海淀") == []


async def test_keyset_pages_over_a_filter(
    world: World, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await bj.post(f"{BASE}/customers/search", params=params, json={"address": "北京"})
        ).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == []  # the district and street only: 北京 is in the city, not indexed
    everyone = await names_post(bj)
    pages: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await bj.post(f"{BASE}/customers/search", params=params, json={})).json()
        pages += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everyone
    assert len(everyone) == 5
    count = await bj.post(f"{BASE}/customers/count", json={"tags": ["贵宾"]})
    assert count.json() == {"count": 2}


async def test_bad_filters_are_4xx(bj: httpx.AsyncClient, people: dict[str, int]) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"nickname": "x"}, "nickname"),
        ({"aum_min": "5", "aum_max": "1"}, "/body/aum_max"),
        ({"aum_min": "-1"}, "/body/aum_min"),
        ({"aum_min": "NaN"}, "/body/aum_min"),
        ({"birth_from": "2000-01-01", "birth_to": "1999-01-01"}, "/body/birth_to"),
        ({"address": "海"}, "/body/address"),
        ({"value_tiers": ["gold"]}, ""),
        ({"product_codes": ["NOPE"]}, "/body/product_codes"),
        ({"segment_id": 999999}, "/body/segment_id"),
    ]
    for body, path in cases:
        response = await bj.post(f"{BASE}/customers/search", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        if path:
            assert path in response.text, (body, response.text)
    response = await bj.get(f"{BASE}/customers", params={"aum_min": "7", "aum_max": "3"})
    assert response.status_code == 422
    assert "/query/aum_max" in response.text


async def test_fragments_without_a_digit_free_pair_are_refused(
    world: World, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    """House and room numbers are not keys, so ``501`` or ``27号`` alone cannot be looked
    up: a 422 naming the field, never a scan or a silently empty result."""
    for field in ("address", "company", "text"):
        for fragment in ("501", "27号", "3 号"):
            response = await bj.post(f"{BASE}/customers/search", json={field: fragment})
            assert response.status_code == 422, (field, fragment, response.text)
            errors = response.json()["errors"]
            assert errors[0]["field"] == f"/body/{field}", errors
            assert "not digits" in errors[0]["message"], errors
        response = await bj.get(f"{BASE}/customers", params={field: "501"})
        assert response.status_code == 422, response.text
        assert f"/query/{field}" in response.text
    # Saved searches are checked when saved; name search is separate and unchanged.
    saved = await bj.post(
        f"{BASE}/saved-searches", json={"name": "门牌", "filter": {"address": "501"}}
    )
    assert saved.status_code == 422, saved.text
    assert "/body/filter/address" in saved.text
    assert (await bj.get(f"{BASE}/customers", params={"q": "501"})).status_code == 200


async def test_text_keys_leave_out_digit_pairs(
    world: World, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    assert search.bigrams("27号院3号楼501") == {"号院", "号楼"}
    assert search.text_keys("3M中国", [("海淀区", "学院路38号")]) == sorted(
        ["e:m中", "e:中国", "a:海淀", "a:淀区", "a:区学", "a:学院", "a:院路"]
    )
    with world.bind(world.system_scope()):
        keys = [
            r["key"]
            for r in await db.fetch(
                "SELECT key FROM customer_archive_search_key WHERE customer = $1",
                people["王秀英"],
            )
        ]
    assert {"a:大街", "e:恒信"} <= set(keys)
    assert not [k for k in keys if k[:2] in search.TEXT_PREFIXES and search.has_ascii_digit(k)]


async def test_upgrade_drops_digit_keys_and_the_branch_constraint(
    world: World, people: dict[str, int]
) -> None:
    """The migration's statements on an archive written before it: the digit keys go, the
    others stay, and the key table keeps only its customer foreign key."""
    from bankcrm_customer_archive.piccolo_migrations import (
        customer_archive_2026_11_25t02_00_00_000000 as lean_keys,
    )

    customer = people["王秀英"]
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        async with owner.transaction():
            await owner.execute(
                "SELECT set_config('bankcrm.branch_ids',"
                " (SELECT string_agg(id::text, ',') FROM bankcrm_branch), true)"
            )
            await owner.execute(
                "INSERT INTO customer_archive_search_key (branch_id, customer, key)"
                " SELECT branch_id, id, k FROM customer_archive_customer,"
                " unnest(ARRAY['a:27', 'a:7号', 'e:3m', 'n:27']) k WHERE id = $1",
                customer,
            )
        async with owner.transaction():
            for statement in lean_keys.STATEMENTS:
                await owner.execute(statement)
            keys = {
                r["key"]
                for r in await owner.fetch(
                    "SELECT key FROM customer_archive_search_key WHERE customer = $1", customer
                )
            }
        constraints = {
            r["conname"]
            for r in await owner.fetch(
                "SELECT conname FROM pg_constraint WHERE contype = 'f'"
                " AND conrelid = 'customer_archive_search_key'::regclass"
            )
        }
        indexes = {
            r["indexname"]
            for r in await owner.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_archive_search_key'"
            )
        }
    finally:
        await owner.close()
    assert not keys & {"a:27", "a:7号", "e:3m"}
    assert {"n:27", "a:大街", "e:恒信"} <= keys  # name keys are not text keys
    assert constraints == {"customer_archive_search_key_customer_fkey"}
    assert "customer_archive_search_key_branch_id" not in indexes
    assert "customer_archive_search_key_lookup" in indexes


async def test_fold_matches_the_database(world: World) -> None:
    samples = [
        "海淀区 中关村大街27号", "SOHO现代城\u3000B座", "Room\t5A", "ÄBC de", "a", "",
        "27号院3号楼501", "Ｂ座１２０８室", "3M中国 2号",
    ]  # fmt: skip
    with world.bind(world.system_scope()):
        for text in samples:
            rows = await db.fetchrow(
                "SELECT customer_archive_fold($1) AS folded, customer_archive_bigrams($1) AS b",
                text,
            )
            assert rows is not None
            assert rows["folded"] == search.fold(text)
            assert set(rows["b"]) == search.bigrams(text)


async def test_plans_use_indexes_under_rls(
    world: World, bj: httpx.AsyncClient, people: dict[str, int]
) -> None:
    """With sequential scans priced out, every filter still has an index path for the
    application role (an operator that is not leakproof would force a scan)."""
    criteria = [
        search.CustomerFilter(value_tiers=["wealth"]),
        search.CustomerFilter(aum_min=Decimal("100000")),
        search.CustomerFilter(address="中关村"),
        search.CustomerFilter(company="恒信"),
        search.CustomerFilter(product_codes=["WM-30D"], branch_id=world.branch("BJ-HD")),
        search.CustomerFilter(birth_from=date(1975, 1, 1)),
    ]
    scope = await world.scope_of("BJ")
    with world.bind(scope):
        async with db.transaction():
            await db.fetch("SET LOCAL enable_seqscan = off")
            for item in criteria:
                statement = await search.search_statement(item, 51)
                assert statement is not None
                plan = "\n".join(
                    r[0] for r in await db.fetch("EXPLAIN " + statement[0], *statement[1])
                )
                assert "Seq Scan on customer_archive_customer " not in plan, (item, plan)
                assert "Seq Scan on customer_archive_search_key" not in plan, (item, plan)
