"""What staff read for the plugin's stored codes (``register_enumerations``)."""

from __future__ import annotations

from enum import StrEnum

from bankcrm.labels import enumeration
from bankcrm_marketing import tables as t


class Status(StrEnum):
    """Campaigns' and contacts' statuses share the ``status`` field."""

    draft = "draft"
    open = "open"
    active = "active"
    closed = "closed"
    queued = "queued"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class ChannelOrAll(StrEnum):
    """A campaign's channel, or ``all`` on a do-not-contact flag."""

    all = "all"
    sms = "sms"
    email = "email"
    wechat = "wechat"
    call = "call"
    visit = "visit"


CHANNEL_LABELS = {
    "sms": ("短信", "SMS"),
    "email": ("电子邮件", "E-mail"),
    "wechat": ("微信", "WeChat"),
    "call": ("电话外呼", "Call"),
    "visit": ("网点面谈", "Branch visit"),
}

ENUMERATIONS = [
    enumeration(
        "marketing.status",
        Status,
        ("status",),
        draft=("筹备中", "Draft"),
        open=("筹备中", "Draft"),
        active=("进行中", "Active"),
        closed=("已结束", "Closed"),
        queued=("待联系", "Queued"),
        sent=("已联系", "Contacted"),
        skipped=("按规则跳过", "Skipped by a rule"),
        failed=("发送失败", "Failed"),
    ),
    enumeration(
        "marketing.group",
        t.MemberGroup,
        ("group",),
        target=("目标组", "Target"),
        control=("对照组", "Control"),
    ),
    enumeration(
        "marketing.exclusion",
        t.Exclusion,
        ("excluded",),
        do_not_contact=("免打扰", "Do not contact"),
        frequency_cap=("超过频次上限", "Frequency cap"),
        no_address=("无联系方式", "No address"),
    ),
    enumeration(
        "marketing.response",
        t.Response,
        ("response",),
        interested=("有意向", "Interested"),
        accepted=("接受", "Accepted"),
        declined=("拒绝", "Declined"),
        no_answer=("未接通", "No answer"),
        opt_out=("要求不再联系", "Opted out"),
    ),
    enumeration(
        "marketing.outcome",
        t.OutcomeKind,
        ("kind",),
        shown=("已展示", "Shown"),
        offered=("已推荐", "Offered"),
        accepted=("已接受", "Accepted"),
        declined=("已拒绝", "Declined"),
        product_opened=("已开通产品", "Product opened"),
        revenue=("产生收入", "Revenue"),
        complaint=("投诉", "Complaint"),
    ),
    enumeration(
        "marketing.cost_category",
        t.CostCategory,
        ("category",),
        channel=("渠道费用", "Channel"),
        material=("物料", "Material"),
        staff=("人工", "Staff"),
        gift=("礼品", "Gifts"),
        other=("其他", "Other"),
    ),
    enumeration(
        "marketing.channel",
        ChannelOrAll,
        ("channel",),
        all=("全部渠道", "All channels"),
        **CHANNEL_LABELS,
    ),
    enumeration(
        "marketing.institution_type",
        t.InstitutionType,
        ("institution_type",),
        bank=("银行", "Bank"),
        securities=("证券公司", "Securities firm"),
        insurance=("保险公司", "Insurer"),
        fintech=("互联网金融平台", "Fintech platform"),
        other=("其他", "Other"),
    ),
    enumeration(
        "marketing.product_category",
        t.RateCategory,
        ("product_category",),
        deposit=("存款", "Deposit"),
        loan=("贷款", "Loan"),
        card=("银行卡", "Card"),
        wealth=("理财", "Wealth"),
    ),
    enumeration(
        "marketing.deal_outcome",
        t.DealOutcome,
        ("outcome",),
        won=("赢单", "Won"),
        lost=("丢单", "Lost"),
    ),
    enumeration(
        "marketing.survey_purpose",
        t.SurveyPurpose,
        ("purpose",),
        research=("市场调查", "Market research"),
        satisfaction=("满意度调查", "Satisfaction survey"),
    ),
    enumeration(
        "marketing.question_kind",
        t.QuestionKind,
        ("question_kind",),
        single=("单选", "Single choice"),
        multiple=("多选", "Multiple choice"),
        scale=("量表评分", "Scale"),
        text=("自由填写", "Free text"),
    ),
    enumeration(
        "marketing.response_via",
        t.ResponseVia,
        ("via",),
        link=("公开链接（匿名）", "Public link"),
        invitation=("个人邀请", "Personal invitation"),
        staff=("员工代录", "Entered by staff"),
    ),
    # The ``status`` columns list fewer choices than ``Status``: the admin labels a column
    # by the enumeration with exactly its choices (campaigns and surveys; contacts and
    # survey invitations).
    enumeration(
        "marketing.campaign_status",
        t.CampaignStatus,
        ("campaign.status",),
        draft=("筹备中", "Draft"),
        open=("筹备中", "Draft"),
        active=("进行中", "Active"),
        closed=("已结束", "Closed"),
    ),
    enumeration(
        "marketing.contact_status",
        t.ContactStatus,
        ("contact.status",),
        queued=("待发送", "Queued"),
        sent=("已发送", "Sent"),
        skipped=("按规则跳过", "Skipped by a rule"),
        failed=("发送失败", "Failed"),
    ),
]
