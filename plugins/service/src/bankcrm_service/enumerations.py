"""What staff read for the plugin's stored codes (``register_enumerations``): the admin
labels a column's values by the enumeration declared for its field with exactly its
choices, so staff read 投诉, not ``complaint``."""

from __future__ import annotations

from bankcrm.labels import enumeration
from bankcrm_service import tables as t

ENUMERATIONS = [
    enumeration(
        "service.ticket_kind",
        t.TicketKind,
        ("kind", "predicted_kind", "registered_kind", "final_kind"),
        complaint=("投诉", "Complaint"),
        inquiry=("咨询", "Inquiry"),
        suggestion=("建议", "Suggestion"),
        report=("申告", "Report"),
        care=("关怀", "Care"),
        bill=("账单", "Bill"),
    ),
    enumeration(
        "service.ticket_channel",
        t.TicketChannel,
        ("channel",),
        counter=("柜面", "Counter"),
        phone=("电话", "Phone"),
        web=("网站", "Web"),
        app=("手机银行", "App"),
        wechat=("微信", "WeChat"),
        email=("邮件", "E-mail"),
    ),
    enumeration(
        "service.ticket_priority",
        t.TicketPriority,
        ("priority", "final_priority"),
        low=("低", "Low"),
        normal=("普通", "Normal"),
        high=("高", "High"),
        urgent=("紧急", "Urgent"),
    ),
    enumeration(
        "service.ticket_status",
        t.TicketStatus,
        ("status",),
        new=("新建", "New"),
        in_progress=("处理中", "In progress"),
        waiting_customer=("待客户回复", "Waiting on the customer"),
        resolved=("已解决", "Resolved"),
        closed=("已关闭", "Closed"),
    ),
    enumeration(
        "service.article_status",
        t.ArticleStatus,
        ("faq_article.status", "faq_version.status"),
        draft=("草稿", "Draft"),
        published=("已发布", "Published"),
    ),
    enumeration(
        "service.customer_tier",
        t.CustomerTier,
        ("value_tier",),
        private=("私行", "Private banking"),
        wealth=("财富", "Wealth"),
        affluent=("富裕", "Affluent"),
        mass=("大众", "Mass"),
    ),
    enumeration(
        "service.triage_state",
        t.TriageState,
        ("state",),
        auto=("自动", "Automatic"),
        queued=("待人工分拣", "Waiting for review"),
        confirmed=("已确认", "Confirmed"),
        corrected=("已更正", "Corrected"),
    ),
]
