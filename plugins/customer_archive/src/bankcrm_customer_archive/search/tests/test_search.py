from typing import Any

import httpx

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


async def names_for(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(f"{BASE}/customers", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_search_paths(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    vip = (
        await bj.post(f"{BASE}/tags", json={"name": "贵宾客户", "branch_id": world.branch("BJ-HD")})
    ).json()
    hd, cy, bj_branch = world.branch("BJ-HD"), world.branch("BJ-CY"), world.branch("BJ")
    people = [
        ("王秀英", "110108", "19700101", "002", "13812345678", hd),
        ("王芳", "110105", "19800202", "004", "13900001111", cy),
        ("李王芳", "110101", "19900303", "006", "13600004444", bj_branch),
        ("张伟", "110108", "19750404", "003", "13700002222", hd),
        ("单田芳", "110105", "19600505", "005", None, cy),
    ]
    ids = {}
    for name, region, born, order, phone, branch in people:
        created = await kit.create(bj, name=name, id_number=kit.resident_id(region, born, order),
                                   phone=phone, branch_id=branch)  # fmt: skip
        ids[name] = created["id"]
    await bj.post(f"{BASE}/customers/{ids['王秀英']}/tags", json={"tag_id": vip["id"]})
    await kit.create(
        bj, kind="corporate", name="北京恒信科技有限公司", id_type="uscc", id_number=kit.uscc(),
        phone="010-62345678", branch_id=bj_branch,
        contacts=[{"name": "刘洋", "title": "财务负责人", "phone": "13500003333"}],
    )  # fmt: skip
    sh = await world.client("demo.sh.manager")
    await kit.create(sh, name="王秀兰", id_number=kit.resident_id("310115", "19880808", "008"))

    # Chinese characters: two or more anywhere in the name, newest first; a single
    # character is a surname.
    assert await names_for(bj, q="王") == ["王芳", "王秀英"]
    assert await names_for(bj, q="芳") == []
    assert await names_for(bj, q="王芳") == ["李王芳", "王芳"]
    assert await names_for(bj, q="王秀英") == ["王秀英"]
    assert await names_for(bj, q="恒信科技") == ["北京恒信科技有限公司"]
    assert await names_for(sh, q="王") == ["王秀兰"]
    assert await names_for(bj, q="秀王") == []
    assert await names_for(bj, q="王芳王") == []
    # Pinyin (any part, any case, spaces ignored) and initials (from the start).
    assert await names_for(bj, q="WangFang") == ["李王芳", "王芳"]
    assert await names_for(bj, q="xiu ying") == ["王秀英"]
    assert await names_for(bj, q="shantian") == ["单田芳"]
    assert await names_for(bj, q="wxy") == ["王秀英"]
    assert await names_for(bj, q="hengxin") == ["北京恒信科技有限公司"]
    assert await names_for(bj, q="zw") == ["张伟"]
    # A misspelt pinyin falls back to the closest spellings.
    assert (await names_for(bj, q="wangxiuyng"))[0] == "王秀英"
    assert await names_for(bj, q="qqqqqq") == []
    # Phones: full number (also a contact person's) or last digits.
    assert await names_for(bj, phone="138 1234 5678") == ["王秀英"]
    assert await names_for(bj, phone="5678") == ["北京恒信科技有限公司", "王秀英"]
    assert await names_for(bj, phone="13500003333") == ["北京恒信科技有限公司"]
    assert await names_for(bj, phone="010-62345678") == ["北京恒信科技有限公司"]
    # ID number: exact, through the keyed hash, whatever the case of an X.
    assert await names_for(bj, id_number=kit.resident_id("110105", "19800202", "004")) == ["王芳"]
    assert await names_for(bj, id_number=kit.uscc().lower()) == ["北京恒信科技有限公司"]
    assert await names_for(sh, id_number=kit.resident_id("110105", "19800202", "004")) == []
    # Tag, kind, branch subtree, relationship manager; criteria combine.
    assert await names_for(bj, tag="贵宾客户") == ["王秀英"]
    assert await names_for(bj, kind="corporate") == ["北京恒信科技有限公司"]
    assert await names_for(bj, branch_id=hd) == ["张伟", "王秀英"]
    assert await names_for(bj, branch_id=hd, q="wang") == ["王秀英"]
    assert len(await names_for(bj, branch_id=world.branch("BJ"))) == 6
    outside = await bj.get(f"{BASE}/customers", params={"branch_id": world.branch("SH")})
    assert outside.status_code == 422


async def test_keyset_pages(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    for order in range(1, 8):
        await kit.create(
            bj, name=f"客户{order}", id_number=kit.resident_id("110108", "19850614", f"{order:03d}")
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, "q": "客户"}
        if cursor:
            params["cursor"] = cursor
        page = (await bj.get(f"{BASE}/customers", params=params)).json()
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"客户{n}" for n in range(7, 0, -1)]
