"""The fast paths of the import give the same results as the general code they replace."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from pypinyin import lazy_pinyin

from bankcrm_customer_archive import names
from bankcrm_customer_archive.demo_data import generate_customers
from bankcrm_customer_archive.importing.tests.test_import_pipeline import (
    BASE,
    IMPORTS,
    csv_bytes,
    rid,
    upload,
)
from bankcrm_customer_archive.search import services as search
from bankcrm_sdk.world import World

# Heteronyms read by phrase (长江, 重庆, 银行), words inside longer runs, Latin and digits.
TRICKY_RUNS = ["长江实业", "重庆银行行长", "朝阳区朝阳门外大街", "了不起", "曾国藩", "单田芳",
               "北京正腾电子科技有限公司", "中国工商银行股份有限公司", "乐乐", "㐀丂"]  # fmt: skip


def test_word_cached_pinyin_equals_lazy_pinyin() -> None:
    names._run_syllables.cache_clear()
    runs = list(TRICKY_RUNS)
    for customer in generate_customers(3000, seed=11):
        runs += [customer.name, customer.employer or ""]
    runs = [r for text in runs for r in names._CJK_RUN.findall(text) if names.has_cjk(r)]
    assert len(runs) > 3000
    for run in runs:
        assert names._run_syllables(run) == tuple(lazy_pinyin(run)), run


async def test_imported_customers_are_found_by_employer_and_address(
    world: World, bj: httpx.AsyncClient, job_worker: Any
) -> None:
    rows = [
        ["客户名称", "证件号码", "工作单位", "省", "市", "区", "详细地址", "手机号"],
        ["赵敏", rid("19870302", "442"), "恒远精密仪器有限公司", "北京市", "北京市", "朝阳区",
         "望京 SOHO 塔3", "13812340001"],
        ["钱伟", rid("19900505", "113"), "", "", "", "", "", ""],
    ]  # fmt: skip
    batch = (await upload(bj, csv_bytes(rows), branch_id=str(world.branch("BJ")))).json()
    assert batch["valid_rows"] == 2, batch
    jobs = await job_worker()
    assert (await bj.post(f"{IMPORTS}/{batch['id']}/commit")).status_code == 202
    await jobs.drain(30)

    async def found(**body: Any) -> list[str]:
        response = await bj.post(f"{BASE}/customers/search", json=body)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await found(company="精密仪器") == ["赵敏"]
    assert await found(address="望京soho") == ["赵敏"]
    assert await found(address="朝阳区望京") == ["赵敏"]
    assert await found(q="zhaomin") == ["赵敏"]

    # The keys written by the import are exactly those the services would derive.
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        customers = await owner.fetch(
            "SELECT id, name, kind, phone, employer FROM customer_archive_customer"
            " WHERE import_batch_id = $1",
            batch["id"],
        )
        for customer in customers:
            addresses = await owner.fetch(
                "SELECT district, street FROM customer_archive_customer_address"
                " WHERE customer = $1",
                customer["id"],
            )
            written = await owner.fetchval(
                "SELECT array_agg(key ORDER BY key) FROM customer_archive_search_key"
                " WHERE customer = $1",
                customer["id"],
            )
            individual = customer["kind"] == "individual"
            expected = names.search_keys(
                customer["name"], individual=individual, phone=customer["phone"]
            ) + search.text_keys(customer["employer"], [(a[0], a[1]) for a in addresses])
            assert written == sorted(expected)
    finally:
        await owner.close()
