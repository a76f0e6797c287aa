"""Urgency and priority of a ticket from its text and its customer, with the reasons shown
to staff.

Each signal adds points and a reason in Chinese and English: words of urgency, negative
words, a threat to complain to the regulator or the press, a repeated complaint and the
customer's value tier. The points map to a priority: 5 or more urgent, 2 or more high, else normal
(low is left to staff). Rules,
not a model: staff see exactly why a ticket was raised, and a bank can read and change
the word lists. Negativity from the sentiment model (:mod:`.triage`, trained on Chinese
bank reviews) can be passed in as ``negative_probability``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Priority = Literal["low", "normal", "high", "urgent"]

URGENT_WORDS = (
    "紧急", "马上", "立即", "立刻", "尽快", "急需", "十万火急", "盗刷", "被盗", "诈骗",
    "冻结", "今天必须", "urgent", "immediately", "asap", "right now", "fraud", "stolen",
    "emergency",
)  # fmt: skip
NEGATIVE_WORDS = (
    "不满", "愤怒", "气愤", "投诉", "欺骗", "恶劣", "太差", "垃圾", "态度差", "无理",
    "乱收费", "失望", "忍无可忍", "angry", "unacceptable", "terrible", "disgusted",
    "outrageous", "worst", "furious",
)  # fmt: skip
REGULATOR_WORDS = (
    "银保监", "金融监管", "监管局", "人民银行", "12378", "12363", "消费者协会", "消协",
    "媒体", "曝光", "记者", "报社", "电视台", "微博", "起诉", "律师", "法院",
    "regulator", "cfpb", "ombudsman", "press", "journalist", "newspaper", "lawyer", "sue",
)  # fmt: skip
TIER_POINTS = {"private": 2, "wealth": 1, "affluent": 0, "mass": 0}
TIER_TITLES = {"private": "私行", "wealth": "财富", "affluent": "富裕", "mass": "大众"}
NEGATIVE_THRESHOLD = 0.6


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    points: int


@dataclass(frozen=True)
class Urgency:
    priority: Priority
    points: int
    reasons: list[Reason] = field(default_factory=list)


def _found(text: str, words: tuple[str, ...]) -> list[str]:
    """The words in ``text``; a Latin word only as a whole word (sue is not in issue)."""
    lowered = text.lower()
    return [
        w
        for w in words
        if (re.search(rf"\b{re.escape(w)}\b", lowered) if w.isascii() else w in lowered)
    ]


def assess(
    text: str,
    *,
    value_tier: str | None = None,
    repeat: bool = False,
    negative_probability: float | None = None,
) -> Urgency:
    """The priority of a ticket with ``text`` and the reasons for it."""
    reasons: list[Reason] = []
    if words := _found(text, REGULATOR_WORDS):
        shown = "、".join(words[:3])
        reasons.append(
            Reason("regulator_or_press", f"扬言向监管或媒体投诉（{shown}）",
                   f"threatens the regulator or the press ({', '.join(words[:3])})", 3)
        )  # fmt: skip
    if words := _found(text, URGENT_WORDS):
        reasons.append(
            Reason("urgent_words", f"紧急用语（{'、'.join(words[:3])}）",
                   f"words of urgency ({', '.join(words[:3])})", 2)
        )  # fmt: skip
    negative = _found(text, NEGATIVE_WORDS)
    if negative:
        reasons.append(
            Reason("negative_words", f"负面情绪用语（{'、'.join(negative[:3])}）",
                   f"negative words ({', '.join(negative[:3])})", 1)
        )  # fmt: skip
    elif negative_probability is not None and negative_probability >= NEGATIVE_THRESHOLD:
        reasons.append(
            Reason("negative_sentiment", f"负面情绪（模型概率 {negative_probability:.2f}）",
                   f"negative sentiment (model probability {negative_probability:.2f})", 1)
        )  # fmt: skip
    if repeat:
        reasons.append(Reason("repeat", "重复投诉", "repeated complaint", 2))
    tier_points = TIER_POINTS.get(value_tier or "", 0)
    if tier_points and value_tier:
        reasons.append(
            Reason("value_tier", f"{TIER_TITLES[value_tier]}客户", f"{value_tier} tier customer",
                   tier_points)
        )  # fmt: skip
    points = sum(r.points for r in reasons)
    priority: Priority
    if points >= 5:
        priority = "urgent"
    elif points >= 2:
        priority = "high"
    else:
        priority = "normal"
    return Urgency(priority, points, reasons)
