"""The kernel's welcome notification: the first entry of every new demo user's centre."""

from __future__ import annotations

from bankcrm import db
from bankcrm.notifications.service import NotificationSource, notify
from bankcrm.notifications.templates import NotificationTemplate
from bankcrm.plugin_api import DemoContext

WELCOME = NotificationTemplate(
    key="bankcrm.welcome",
    category="bankcrm",
    title_zh="欢迎使用银行客户关系管理系统",
    body_zh="您的账户已在机构 $branch 开通。系统通知会出现在这里。",
    title_en="Welcome to the bank CRM",
    body_en="Your account is open at branch $branch. System notifications appear here.",
)


async def welcome_demo_users(demo: DemoContext) -> None:
    """One welcome per demo user, about their home branch (so every branch has some)."""
    homes = await db.fetch(
        'SELECT DISTINCT ON (m."user") m."user", m.branch, b.code FROM bankcrm_membership m'
        ' JOIN bankcrm_branch b ON b.id = m.branch WHERE m."user" = ANY($1::int[])'
        ' ORDER BY m."user", m.id',
        list(demo.users.values()),
    )
    async with db.transaction():
        for home in homes:
            await notify(
                [home["user"]],
                WELCOME.key,
                {"branch": home["code"]},
                NotificationSource("bankcrm", "bankcrm_branch", home["branch"], home["branch"]),
            )
