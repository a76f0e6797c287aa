"""Targeting a campaign: who is in it, who is held out as the control group and whom the
contact rules exclude.

One SQL statement over the archive's customer filter (``filter_conditions``), so it runs
in the database at any size. The control group is drawn by a seeded hash of the customer
id (``hashtextextended``, stable across PostgreSQL versions since hash partitioning relies
on it): the same seed and the same customers give the same groups, so a campaign's split
can be reproduced and audited. Exclusions apply to both groups alike (a do-not-contact
customer, one over the frequency cap, one with no address on the channel), so the control
group stays comparable with the contacted one.
"""

from __future__ import annotations

import inspect
from typing import Any

import msgspec
from msgspec import Struct

from bankcrm import audit, branches, db
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.problems import Problem
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import campaigns
from bankcrm_marketing.common import (
    CAMPAIGN,
    CONTACT,
    DNC_ALL,
    DO_NOT_CONTACT,
    ENTITY_CAMPAIGN,
    MEMBER,
)

SHARE_SCALE = 1_000_000
"""The control share is compared in millionths of the hash's range."""


class TargetingOut(Struct):
    campaign_id: int
    seed: int
    control_share: float
    members: int
    target: int
    control: int
    excluded: dict[str, int]
    """Members excluded by a contact rule, by rule (both groups)."""
    contactable: int
    """Target members to be contacted."""


def address_rule(channel: str) -> str:
    """The SQL (over ``c``) true when the customer cannot be reached on ``channel``."""
    if channel == "email":
        return "c.email IS NULL OR c.email = ''"
    if channel in ("sms", "wechat", "call"):
        return "c.phone IS NULL OR c.phone = ''"
    return "false"


async def scored_ids(
    campaign: Any, criteria_sql: str, args: list[Any], registry: PluginHooks | None
) -> list[int] | None:
    """The customers whose score by the campaign's model reaches its minimum (None: the
    campaign uses no model)."""
    if campaign["score_model"] is None:
        return None
    rows = await db.fetch(
        f"SELECT c.id FROM customer_archive_customer c WHERE {criteria_sql}", *args
    )
    ids = [r["id"] for r in rows]
    hooks = registry or plugin_hooks()
    answer: Any = None
    for _plugin, found in hooks.call_each(
        "marketing_scores", model=campaign["score_model"], customer_ids=ids
    ):
        if inspect.isawaitable(found):
            found = await found
        if found is not None:
            answer = found
            break
    if answer is None:
        raise Problem(
            409,
            f"body.score_model: no installed plugin scores the model {campaign['score_model']!r}",
            code="no_scores",
        )
    minimum = float(campaign["score_min"])
    return [i for i in ids if i in answer and float(answer[i]) >= minimum]


async def target(campaign_id: int, registry: PluginHooks | None = None) -> TargetingOut:
    """(Re)build the members of a draft campaign from its criteria; audited."""
    async with db.transaction():
        campaign = await campaigns.campaign_row(campaign_id, lock=True)
        if campaign["status"] not in ("draft", "open"):
            raise Problem(
                409, "the campaign is launched; its members are fixed", code="campaign_launched"
            )
        criteria = campaigns.criteria_of(campaign)
        where, args = await archive.filter_conditions(criteria)
        subtree = sorted((await branches.snapshot()).subtree(campaign["branch_id"]))
        where = f"({where}) AND c.branch_id = ANY(${len(args) + 1}::bigint[])"
        args = [*args, subtree]
        ids = await scored_ids(campaign, where, args, registry)
        if ids is not None:
            where = f"{where} AND c.id = ANY(${len(args) + 1}::bigint[])"
            args = [*args, ids]
        n = len(args)
        await db.fetch(f"DELETE FROM {MEMBER} WHERE campaign = $1", campaign_id)
        share = round(float(campaign["control_share"]) * SHARE_SCALE)
        await db.fetch(
            f'INSERT INTO {MEMBER} (branch_id, campaign, customer, "group", excluded,'
            " created_at)"
            f" SELECT ${n + 1}, ${n + 2}, c.id,"
            f" CASE WHEN (hashtextextended(c.id::text, ${n + 3}) & 2147483647) % {SHARE_SCALE}"
            f" < ${n + 4} THEN 'control' ELSE 'target' END,"
            f" CASE WHEN EXISTS (SELECT 1 FROM {DO_NOT_CONTACT} d WHERE d.customer = c.id"
            f"   AND d.channel IN ('{DNC_ALL}', ${n + 5})) THEN 'do_not_contact'"
            f" WHEN {address_rule(campaign['channel'])} THEN 'no_address'"
            f" WHEN (SELECT count(*) FROM {CONTACT} k WHERE k.customer = c.id"
            "   AND k.status IN ('queued', 'sent')"
            f"   AND k.scheduled_at > now() - make_interval(days => ${n + 6})) >= ${n + 7}"
            " THEN 'frequency_cap' END, now()"
            f" FROM customer_archive_customer c WHERE {where}",
            *args,
            campaign["branch_id"],
            campaign_id,
            campaign["seed"],
            share,
            campaign["channel"],
            campaign["frequency_days"],
            campaign["frequency_cap"],
        )
        await db.fetch(
            f"UPDATE {CAMPAIGN} SET targeted_at = now(), updated_at = now() WHERE id = $1",
            campaign_id,
        )
        result = await counts(campaign)
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_CAMPAIGN,
            campaign_id,
            branch_id=campaign["branch_id"],
            after={"targeted": msgspec.to_builtins(result)},
        )
    return result


async def counts(campaign: Any) -> TargetingOut:
    rows = await db.fetch(
        f'SELECT "group", excluded, count(*) AS n FROM {MEMBER} WHERE campaign = $1'
        ' GROUP BY "group", excluded',
        campaign["id"],
    )
    excluded: dict[str, int] = {}
    groups = {"target": 0, "control": 0}
    contactable = 0
    for r in rows:
        groups[r["group"]] += r["n"]
        if r["excluded"] is not None:
            excluded[r["excluded"]] = excluded.get(r["excluded"], 0) + r["n"]
        elif r["group"] == "target":
            contactable += r["n"]
    return TargetingOut(
        campaign_id=campaign["id"],
        seed=campaign["seed"],
        control_share=round(float(campaign["control_share"]), 6),
        members=groups["target"] + groups["control"],
        target=groups["target"],
        control=groups["control"],
        excluded=excluded,
        contactable=contactable,
    )


async def targeting(campaign_id: int) -> TargetingOut:
    return await counts(await campaigns.campaign_row(campaign_id))
