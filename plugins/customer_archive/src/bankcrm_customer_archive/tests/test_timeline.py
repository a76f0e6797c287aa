"""The customer timeline: the archive's own items and another plugin's, merged by time,
paged by cursor, under the viewer's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bankcrm import branches, db
from bankcrm.context import Scope
from bankcrm_customer_archive.timeline import TimelineItem, customer_timeline
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive/customers"


def visits_plugin(make_plugin: Any) -> Any:
    """A plugin that has one care visit a day for the last ten days of every customer."""

    async def customer_timeline_items(
        customer_id: int, scope: Scope, before: datetime, limit: int
    ) -> list[TimelineItem]:
        now = datetime.now(UTC)
        visits = [
            TimelineItem(
                now - timedelta(days=day),
                "visits",
                "visits.care_visit",
                f"关怀走访 {day}",
                f"Care visit {day}",
                "visits_visit",
                str(day),
            )
            for day in range(1, 11)
        ]
        return [v for v in visits if v.at < before][:limit]

    return make_plugin(
        "visits", requires=("customer_archive",),
        hooks={"customer_timeline_items": customer_timeline_items},
    )  # fmt: skip


async def test_hook_customer_timeline_items_merged_and_paged(
    world: World, kit: Any, bj: httpx.AsyncClient, catalogue: dict[str, int],
    make_plugin: Any, kernel_with: Any,
) -> None:  # fmt: skip
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    opened = await bj.post(
        f"{BASE}/{customer_id}/holdings",
        json={"product_code": "DEP-1Y", "account_no": "6222000000000000777", "balance": "10.00"},
    )
    assert opened.status_code == 201, opened.text
    own = await bj.get(f"{BASE}/{customer_id}/timeline")
    assert own.status_code == 200, own.text
    kinds = [i["kind"] for i in own.json()["items"]]
    assert kinds == ["customer_archive.holding_opened", "customer_archive.customer_created"]

    kernel = kernel_with([visits_plugin(make_plugin)])
    with world.bind(world.system_scope()):
        await db.fetch(
            "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings,"
            " changed_by, changed_at) VALUES ($1, 'visits', true, '{}', 'test', now())",
            world.branch("HQ"),
        )
    branches.invalidate()
    seen: list[TimelineItem] = []
    cursor = None
    with world.bind(await world.scope_of("BJ")):
        for _ in range(10):
            page = await customer_timeline(customer_id, kernel.registry, 3, cursor)
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [i.at for i in seen] == sorted((i.at for i in seen), reverse=True)
    assert len(seen) == 12  # ten visits, the account, the customer
    assert len({(i.source_table, i.source_id) for i in seen}) == 12
    # Today's account and customer first, then a visit a day back to ten days ago.
    assert [i.plugin for i in seen[:2]] == ["customer_archive", "customer_archive"]
    assert [i.source_id for i in seen[2:]] == [str(day) for day in range(1, 11)]
    assert {i.plugin for i in seen} == {"visits", "customer_archive"}

    # The 360 view closes with the same timeline's first page, every plugin's items merged.
    with world.bind(await world.scope_of("BJ")):
        from bankcrm_customer_archive.services import customer_360

        view = await customer_360(customer_id, kernel.registry)
    timeline = view.sections[-1]
    assert timeline.key == "customer_archive.timeline"
    assert [(i.plugin, i.source_id) for i in timeline.data["items"]] == [
        (i.plugin, i.source_id) for i in seen[:10]
    ]
    assert timeline.data["next_cursor"] is not None


async def test_timeline_of_a_customer_out_of_scope_is_404(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj, branch_id=world.branch("BJ-HD")))["id"]
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{BASE}/{customer_id}/timeline")).status_code == 404
    tampered = await bj.get(f"{BASE}/{customer_id}/timeline", params={"cursor": "eyJ4Ijox"})
    assert tampered.status_code == 400
