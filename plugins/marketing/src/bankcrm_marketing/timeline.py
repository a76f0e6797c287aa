"""Campaign contacts on the customer's timeline (the archive's ``customer_timeline_items``)."""

from __future__ import annotations

from datetime import datetime

from bankcrm import db
from bankcrm_customer_archive.services import TimelineItem
from bankcrm_marketing.common import CAMPAIGN, CONTACT, PLUGIN
from bankcrm_marketing.enumerations import CHANNEL_LABELS


async def timeline_items(customer_id: int, before: datetime, limit: int) -> list[TimelineItem]:
    rows = await db.fetch(
        f"SELECT k.id, k.sent_at, k.channel, k.response, c.title FROM {CONTACT} k"
        f" JOIN {CAMPAIGN} c ON c.id = k.campaign"
        " WHERE k.customer = $1 AND k.status = 'sent' AND k.sent_at < $2"
        " ORDER BY k.sent_at DESC LIMIT $3",
        customer_id,
        before,
        limit,
    )
    items = []
    for r in rows:
        zh, en = CHANNEL_LABELS.get(r["channel"], (r["channel"], r["channel"]))
        items.append(
            TimelineItem(
                r["sent_at"],
                PLUGIN,
                "marketing.contact",
                f"营销活动「{r['title']}」：{zh}",
                f"Campaign {r['title']}: {en}",
                CONTACT,
                str(r["id"]),
            )
        )
    return items
