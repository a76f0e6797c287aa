"""What the customer's 360 view and timeline show of mining: the newest score of each
model with its band and reasons, and each change of band."""

from __future__ import annotations

from datetime import datetime

from bankcrm.context import Scope
from bankcrm.plugin_api import Label
from bankcrm_customer_archive.services import Section, TimelineItem
from bankcrm_mining import scoring
from bankcrm_mining.access import SCORE_READ

SECTION_LABELS = {
    "scores": Label("模型评分", "Model scores"),
    "scores.model_name": Label("模型", "Model"),
    "scores.model_version": Label("版本", "Version"),
    "scores.score": Label("评分", "Score"),
    "scores.probability": Label("事件概率", "Event probability"),
    "scores.band_title": Label("等级", "Band"),
    "scores.reasons": Label("主要原因", "Top reasons"),
    "scores.scored_at": Label("评分时间", "Scored at"),
}


async def score_section(customer_id: int, scope: Scope) -> Section | None:
    if not scope.has(SCORE_READ):
        return None
    # The archive answered 404 for a customer out of reach before calling this hook.
    scores = await scoring.customer_scores(customer_id, checked=True)
    if not scores:
        return None
    return Section(
        key="mining.scores",
        title="模型评分",
        title_en="Model scores",
        data={"scores": scores},
        labels=SECTION_LABELS,
    )


async def score_timeline(
    customer_id: int, scope: Scope, before: datetime, limit: int
) -> list[TimelineItem]:
    if not scope.has(SCORE_READ):
        return []
    changes = await scoring.band_changes(customer_id, before, limit)
    return [
        TimelineItem(
            at=change["scored_at"],
            plugin="mining",
            kind="mining.score_band",
            title=(
                f"{change['model_name']}客群：{change['band']}（{change['band_title']}）"
                if change["kind"] == "kmeans"
                else f"{change['model_name']}评分等级：{change['band_title']}"
                f"（{change['score']}分）"
            ),
            title_en=(
                f"{change['model_name']} segment {change['band']}"
                if change["kind"] == "kmeans"
                else f"{change['model_name']} band {change['band']} ({change['score']} points)"
            ),
            source_table=scoring.SCORE,
            source_id=str(change["run"]),
            detail={
                "band": change["band"],
                "previous": change["previous"],
                "reasons": change["reasons"],
            },
        )
        for change in changes
    ]
