"""Lead scoring: a transparent rule score with its reasons, replaceable through the
``sales_score_lead`` hook (the mining plugin's model), always with reasons."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from msgspec import Struct

from bankcrm.plugin_api import PluginHooks, plugin_hooks

CHANNEL_POINTS = {
    "referral": 25, "branch": 20, "call_centre": 15, "event": 15, "campaign": 10,
    "partner": 10, "web": 5, "import": 0,
}  # fmt: skip
CHANNEL_NAMES = {
    "referral": "转介绍", "branch": "网点到访", "call_centre": "电话中心", "event": "活动",
    "campaign": "营销活动", "partner": "合作渠道", "web": "网站表单", "import": "批量导入",
}  # fmt: skip


class Reason(Struct, frozen=True):
    code: str
    points: int
    text: str
    text_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "points": self.points,
            "text": self.text,
            "text_en": self.text_en,
        }


class LeadScore(Struct, frozen=True):
    score: int
    reasons: tuple[Reason, ...]
    source: str = "rules"
    """``rules`` or the model that scored (``mining.lead_model@3``)."""


def rule_score(lead: Mapping[str, Any]) -> LeadScore:
    """Points for what makes a lead likely to close, each with its reason."""
    reasons: list[Reason] = []
    channel = str(lead.get("channel", ""))
    if CHANNEL_POINTS.get(channel):
        points = CHANNEL_POINTS[channel]
        name = CHANNEL_NAMES[channel]
        reasons.append(Reason("channel", points, f"来源渠道：{name}", f"Channel: {channel}"))
    if lead.get("customer"):
        reasons.append(Reason("existing_customer", 25, "已是本行客户", "Existing customer"))
    if lead.get("product_interest"):
        reasons.append(Reason("product", 15, "有明确意向产品", "A product of interest"))
    amount = Decimal(str(lead.get("estimated_amount") or 0))
    if amount >= 1_000_000:
        reasons.append(Reason("amount_large", 20, "预计金额≥100万元", "Estimated ≥ CNY 1m"))
    elif amount >= 100_000:
        reasons.append(Reason("amount", 10, "预计金额≥10万元", "Estimated ≥ CNY 100k"))
    if len(str(lead.get("need", "")).strip()) >= 10:
        reasons.append(Reason("need", 10, "客户需求描述清楚", "Need described"))
    if lead.get("phone") and lead.get("email"):
        reasons.append(Reason("contact", 5, "电话与邮箱齐全", "Phone and e-mail given"))
    if not reasons:
        reasons.append(Reason("none", 0, "暂无加分项", "Nothing in favour yet"))
    return LeadScore(min(100, sum(r.points for r in reasons)), tuple(reasons))


async def score_lead(lead: Mapping[str, Any], registry: PluginHooks | None = None) -> LeadScore:
    """The hook's answer (mining's model when enabled), else the rule score."""
    hooks = registry or plugin_hooks()
    for _plugin, answer in hooks.call_each("sales_score_lead", lead=lead):
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            continue
        if not isinstance(answer, LeadScore) or not answer.reasons:
            raise RuntimeError(f"{_plugin}: sales_score_lead must answer a LeadScore with reasons")
        return LeadScore(max(0, min(100, answer.score)), answer.reasons, answer.source)
    return rule_score(lead)
