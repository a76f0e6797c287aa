"""Notification templates of the plugin."""

from __future__ import annotations

from bankcrm.notifications import NotificationTemplate
from bankcrm_marketing.contacts import CONTACT_TASKS

TEMPLATES: tuple[NotificationTemplate, ...] = (
    NotificationTemplate(
        key=CONTACT_TASKS,
        category="marketing",
        title_zh="营销活动「$title」：$count 位客户待$channel_zh",
        body_zh="营销活动「$title」分配给您 $count 位客户，请按活动话术进行$channel_zh，"
        "并登记客户反馈。",
        title_en="Campaign $title: $count customers to $channel_en",
        body_en="The campaign $title gives you $count customers: contact them "
        "($channel_en) with its script and record their responses.",
    ),
)
