"""What staff read for the plugin's stored codes (``register_enumerations``)."""

from __future__ import annotations

from enum import StrEnum

from bankcrm.labels import enumeration
from bankcrm_sales import tables as t


class Status(StrEnum):
    """Leads', opportunities' and contracts' statuses share the ``status`` field."""

    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    converted = "converted"
    open = "open"
    won = "won"
    lost = "lost"
    active = "active"
    terminated = "terminated"


ENUMERATIONS = [
    enumeration(
        "sales.channel",
        t.Channel,
        ("channel",),
        web=("网站表单", "Web form"),
        call_centre=("电话中心", "Call centre"),
        branch=("网点到访", "Branch walk-in"),
        referral=("转介绍", "Referral"),
        campaign=("营销活动", "Campaign"),
        partner=("合作渠道", "Partner"),
        event=("线下活动", "Event"),
        import_=("批量导入", "Import"),
    ),
    enumeration(
        "sales.status",
        Status,
        ("status",),
        new=("新线索", "New"),
        contacted=("已联系", "Contacted"),
        qualified=("已确认", "Qualified"),
        converted=("已转化", "Converted"),
        open=("跟进中", "Open"),
        won=("赢单", "Won"),
        lost=("已流失", "Lost"),
        active=("履约中", "Active"),
        terminated=("已终止", "Terminated"),
    ),
    enumeration(
        "sales.contract_kind",
        t.ContractKind,
        ("contract_kind",),
        loan=("贷款合同", "Loan"),
        deposit=("存款合同", "Deposit"),
        wealth=("理财合同", "Wealth management"),
        custody=("托管合同", "Custody"),
        service=("服务合同", "Service"),
        guarantee=("担保合同", "Guarantee"),
    ),
    enumeration(
        "sales.sales_method",
        t.SalesMethod,
        ("sales_method",),
        relationship=("客户经理营销", "Relationship"),
        telephone=("电话营销", "Telephone"),
        visit=("上门拜访", "Visit"),
        seminar=("沙龙讲座", "Seminar"),
        online=("线上营销", "Online"),
        cross_sell=("交叉销售", "Cross-sell"),
    ),
    enumeration(
        "sales.activity_kind",
        t.ActivityKind,
        ("kind",),
        call=("电话", "Call"),
        visit=("拜访", "Visit"),
        meeting=("会谈", "Meeting"),
        message=("消息", "Message"),
    ),
    enumeration(
        "sales.intent",
        t.Intent,
        ("intent",),
        strong=("意向强", "Strong"),
        moderate=("意向一般", "Moderate"),
        weak=("意向弱", "Weak"),
        none=("无意向", "None"),
    ),
]
