"""Urgency from words, repeats and the customer's tier, with reasons in Chinese and English."""

from __future__ import annotations

from bankcrm_service import urgency


def test_a_plain_inquiry_is_normal_without_reasons() -> None:
    result = urgency.assess("请问网点周末几点开门")
    assert result.priority == "normal"
    assert result.reasons == []


def test_a_threat_to_go_to_the_regulator_with_urgency_is_urgent() -> None:
    result = urgency.assess("信用卡被盗刷，请马上处理，否则我就向银保监投诉并找媒体曝光")
    assert result.priority == "urgent"
    codes = [r.code for r in result.reasons]
    assert codes[:2] == ["regulator_or_press", "urgent_words"]
    assert "银保监" in result.reasons[0].zh
    assert "盗刷" in result.reasons[1].zh


def test_english_words_are_read_case_blind() -> None:
    result = urgency.assess("This is UNACCEPTABLE, I will contact the CFPB")
    assert result.priority == "high"
    assert {r.code for r in result.reasons} == {"regulator_or_press", "negative_words"}
    assert urgency.assess("An issue with my express transfer").reasons == []


def test_repeat_and_private_banking_tier_raise_the_priority() -> None:
    assert urgency.assess("年费问题", repeat=True).priority == "high"
    result = urgency.assess("年费问题", repeat=True, value_tier="private")
    assert result.priority == "high"
    assert result.points == 4
    assert [r.zh for r in result.reasons] == ["重复投诉", "私行客户"]
    assert urgency.assess("年费问题", value_tier="mass").reasons == []


def test_the_sentiment_model_counts_only_without_negative_words() -> None:
    result = urgency.assess("年费问题", negative_probability=0.8)
    assert [r.code for r in result.reasons] == ["negative_sentiment"]
    assert result.priority == "normal"
    assert urgency.assess("年费问题", negative_probability=0.3).reasons == []
    both = urgency.assess("服务态度差", negative_probability=0.9)
    assert [r.code for r in both.reasons] == ["negative_words"]
