"""Lead scoring: the rule score's reasons, and the hook another plugin replaces it with."""

from __future__ import annotations

from typing import Any

import pytest

from bankcrm_sales import scoring
from bankcrm_sales.scoring import LeadScore, Reason


def test_the_rule_score_explains_every_point() -> None:
    score = scoring.rule_score(
        {
            "channel": "referral",
            "customer": 7,
            "product_interest": "WM-1",
            "estimated_amount": "2000000",
            "need": "孩子留学需要换汇和资产配置",
            "phone": "1",
            "email": "a@b.cn",
        }
    )
    assert score.score == 100  # capped
    assert sum(r.points for r in score.reasons) == 25 + 25 + 15 + 20 + 10 + 5
    bare = scoring.rule_score({"channel": "import"})
    assert bare.score == 0
    assert [r.code for r in bare.reasons] == ["none"]


async def test_hook_sales_score_lead_replaces_the_rules(
    kernel: Any, make_plugin: Any, kernel_with: Any
) -> None:
    model = LeadScore(87, (Reason("model", 87, "模型：近期理财到期", "Model: maturing deposit"),),
                      "mining.lead_model@3")  # fmt: skip
    plugin = make_plugin(
        "scorer", requires=["sales"], hooks={"sales_score_lead": lambda lead: model}
    )
    registry = kernel_with([plugin]).registry
    assert await scoring.score_lead({"channel": "web"}, registry) == model
    silent = make_plugin("quiet", requires=["sales"], hooks={"sales_score_lead": lambda lead: None})
    fallback = await scoring.score_lead({"channel": "web"}, kernel_with([silent]).registry)
    assert fallback.source == "rules"
    assert fallback.reasons[0].code == "channel"
    mute = make_plugin(
        "mute", requires=["sales"], hooks={"sales_score_lead": lambda lead: LeadScore(50, ())}
    )
    with pytest.raises(RuntimeError, match="with reasons"):
        await scoring.score_lead({"channel": "web"}, kernel_with([mute]).registry)
