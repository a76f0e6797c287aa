"""Surveys: questionnaires with skip logic, versions frozen by responses, the public link
(no login, rate-limited, answers checked naming the question), invitations to a target and
for the service plugin, staff-entered answers and the analysis per question."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bankcrm.web.problems import Problem
from bankcrm_marketing import survey_api, surveys
from bankcrm_marketing.messages import OutgoingMessage
from bankcrm_marketing.questionnaire import Question, check_questions, checked_answers
from bankcrm_sdk.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1/marketing/surveys"
PUBLIC = "/api/v1/marketing/public/surveys"

QUESTIONS: list[dict[str, Any]] = [
    {"key": "bank", "question_kind": "single", "prompt": "主要在哪家银行理财？",
     "options": [{"value": "ours", "label": "本行"}, {"value": "cmb", "label": "招商银行"}]},
    {"key": "why", "question_kind": "single", "prompt": "为什么选择他行？",
     "options": [{"value": "rate", "label": "利率"}, {"value": "app", "label": "手机银行"}],
     "show_if": {"question": "bank", "any_of": ["cmb"]}},
    {"key": "values", "question_kind": "multiple", "prompt": "看重哪些方面？",
     "options": [{"value": "yield", "label": "收益"}, {"value": "safety", "label": "安全"},
                 {"value": "service", "label": "服务"}]},
    {"key": "score", "question_kind": "scale", "prompt": "满意度", "scale_min": 1,
     "scale_max": 5},
    {"key": "improve", "question_kind": "text", "prompt": "改进建议", "required": False,
     "show_if": {"question": "score", "at_most": 2}},
]  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    survey_api.READS.clear()
    survey_api.WRITES.clear()


async def active_survey(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    made = await client.post(API, json={"title": "理财需求调查", "questions": QUESTIONS, **extra})
    assert made.status_code == 201, made.text
    opened = await client.patch(f"{API}/{made.json()['id']}",
                                json={"status": "active", "public_link": True})  # fmt: skip
    assert opened.status_code == 200, opened.text
    survey: dict[str, Any] = opened.json()
    return survey


def code_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_questionnaires_and_answers_are_checked() -> None:
    questions: list[Question] = []
    with pytest.raises(Problem, match="at least one"):
        check_questions(questions)
    import msgspec

    parsed = msgspec.convert(QUESTIONS, list[Question])
    check_questions(parsed)
    bad_rule = msgspec.convert(
        [QUESTIONS[1], QUESTIONS[0]], list[Question]
    )  # skip logic over a later question
    with pytest.raises(Problem, match="earlier question") as caught:
        check_questions(bad_rule)
    assert caught.value.errors[0].field == "body.questions[0].show_if.question"
    kept = checked_answers(parsed, {"bank": "cmb", "why": "rate", "values": ["service", "yield"],
                                    "score": 2, "improve": "  更快  "})  # fmt: skip
    assert kept == {"bank": "cmb", "why": "rate", "values": ["yield", "service"], "score": 2,
                    "improve": "更快"}  # fmt: skip
    for answers, field in (
        ({"bank": "ours", "why": "rate", "values": ["yield"], "score": 3}, "body.answers.why"),
        ({"bank": "cmb", "values": ["yield"], "score": 3}, "body.answers.why"),
        ({"bank": "ours", "values": [], "score": 3}, "body.answers.values"),
        ({"bank": "ours", "values": ["gold"], "score": 3}, "body.answers.values"),
        ({"bank": "ours", "values": ["yield"], "score": 6}, "body.answers.score"),
        ({"bank": "ours", "values": ["yield"], "score": True}, "body.answers.score"),
        ({"bank": "ours", "values": ["yield"], "score": 4, "improve": "x"}, "body.answers.improve"),
        ({"bank": "ours", "values": ["yield"], "score": 4, "extra": 1}, "body.answers.extra"),
    ):
        with pytest.raises(Problem, match=field.rsplit(".", 1)[-1]) as refused:
            checked_answers(parsed, answers)
        assert refused.value.errors[0].field == field, answers


async def test_the_public_link_takes_answers_without_login(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    survey = await active_survey(manager)
    assert survey["public_url"].startswith(PUBLIC)
    code = code_of(survey["public_url"])
    anonymous = world.anonymous_client()
    opened = await anonymous.get(f"{PUBLIC}/{code}")
    assert opened.status_code == 200, opened.text
    assert [q["key"] for q in opened.json()["questions"]] == [q["key"] for q in QUESTIONS]
    assert "branch_id" not in opened.text

    skipped_why = {"answers": {"bank": "cmb", "values": ["yield"], "score": 4}}
    bad = await anonymous.post(f"{PUBLIC}/{code}/responses", json=skipped_why)
    assert kit.refused(bad, 422)
    assert bad.json()["errors"][0]["field"] == "/body/answers/why"
    full = {"bank": "cmb", "why": "app", "values": ["yield"], "score": 1, "improve": "太慢"}
    good = await anonymous.post(f"{PUBLIC}/{code}/responses", json={"answers": full})
    assert good.status_code == 200, good.text
    stored = await kit.owner_fetch(
        "SELECT customer, via, version, branch_id FROM marketing_survey_response"
    )
    assert [tuple(r) for r in stored] == [(None, "link", 1, world.branch("BJ"))]

    assert (await anonymous.get(f"{PUBLIC}/{'x' * 32}")).status_code == 404
    closed = await manager.patch(f"{API}/{survey['id']}", json={"public_link": False})
    assert closed.json()["public_url"] is None
    assert (await anonymous.get(f"{PUBLIC}/{code}")).status_code == 404


async def test_public_requests_are_rate_limited(
    world: World, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = await world.client("demo.bj.manager")
    code = code_of((await active_survey(manager))["public_url"])
    monkeypatch.setattr(survey_api.WRITES, "limit", 2)
    anonymous = world.anonymous_client()
    answers = {"answers": {"bank": "ours", "values": ["safety"], "score": 5}}
    statuses = [
        (await anonymous.post(f"{PUBLIC}/{code}/responses", json=answers)).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = await anonymous.post(f"{PUBLIC}/{code}/responses", json=answers)
    assert kit.refused(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


async def test_a_version_with_responses_is_frozen(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    survey = await active_survey(manager)
    edited = await manager.put(f"{API}/{survey['id']}/questionnaire",
                               json={"questions": QUESTIONS[:4]})  # fmt: skip
    assert edited.json()["version"] == 1  # no responses yet: changed in place
    plain = {"answers": {"bank": "ours", "values": ["yield"], "score": 3}}
    answered = await manager.post(f"{API}/{survey['id']}/responses", json=plain)
    assert answered.status_code == 201, answered.text
    assert answered.headers["location"].endswith(f"/survey-responses/{answered.json()['id']}")
    second = await manager.put(f"{API}/{survey['id']}/questionnaire",
                               json={"questions": QUESTIONS})  # fmt: skip
    assert second.json()["version"] == 2
    assert second.json()["responses"] == 0
    old = await kit.owner_fetch(
        "SELECT count(*) AS n FROM marketing_survey_question WHERE survey = $1 AND version = 1",
        survey["id"],
    )
    assert old[0]["n"] == 4
    first = (await manager.get(f"{API}/{survey['id']}/analysis", params={"version": 1})).json()
    assert (first["version"], first["responses"]) == (1, 1)
    upside_down = {"key": "a", "question_kind": "scale", "prompt": "x", "scale_min": 5,
                   "scale_max": 1}  # fmt: skip
    bad = await manager.put(f"{API}/{survey['id']}/questionnaire",
                            json={"questions": [upside_down]})  # fmt: skip
    assert kit.refused(bad, 422)
    assert bad.json()["errors"][0]["field"] == "/body/questions/0/scale_max"


async def test_analysis_per_question(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    survey = await active_survey(manager)
    customers = await kit.customers("BJ-HD", 2)
    rows = (
        ({"bank": "ours", "values": ["safety", "service"], "score": 5}, customers[0]),
        ({"bank": "cmb", "why": "rate", "values": ["yield"], "score": 2, "improve": "利率低"},
         customers[1]),
        ({"bank": "cmb", "why": "app", "values": ["yield", "safety"], "score": 1}, None),
    )  # fmt: skip
    for answers, customer in rows:
        made = await manager.post(f"{API}/{survey['id']}/responses",
                                  json={"answers": answers, "customer_id": customer})  # fmt: skip
        assert made.status_code == 201, made.text
    result = (await manager.get(f"{API}/{survey['id']}/analysis")).json()
    assert result["responses"] == 3
    by_key = {q["key"]: q for q in result["questions"]}
    assert [(c["value"], c["count"], c["percent"]) for c in by_key["bank"]["choices"]] == [
        ("ours", 1, 33.3), ("cmb", 2, 66.7)
    ]  # fmt: skip
    assert (by_key["why"]["shown_to"], by_key["why"]["answered"]) == (2, 2)
    assert [c["count"] for c in by_key["values"]["choices"]] == [2, 2, 1]
    assert by_key["score"]["mean"] == 2.67
    assert [d["count"] for d in by_key["score"]["distribution"]] == [1, 1, 0, 0, 1]
    assert [t["text"] for t in by_key["improve"]["recent"]] == ["利率低"]
    assert by_key["improve"]["shown_to"] == 2

    sh = await world.client("demo.sh.manager")
    assert (await sh.get(f"{API}/{survey['id']}/analysis")).status_code == 404
    assert (await sh.get(API)).json()["items"] == []
    listed = (await manager.get(f"{API}/{survey['id']}/responses")).json()["items"]
    assert {r["customer_id"] for r in listed} == {customers[0], customers[1], None}
    foreign = await sh.post(f"{API}/{survey['id']}/responses", json={"answers": {}})
    assert foreign.status_code == 404


async def test_distribution_invites_a_target_once_and_sends_through_the_gateway(
    world: World, kit: Any, make_plugin: Any, kernel_with: Any
) -> None:
    manager = await world.client("demo.bj.manager")
    survey = await active_survey(manager)
    customers = await kit.customers("BJ-HD", 4)
    await kit.customers("BJ-HD", 1, phone=False)
    flag = await manager.post("/api/v1/marketing/do-not-contact",
                              json={"customer_id": customers[0], "channel": "all"})  # fmt: skip
    assert flag.status_code == 201, flag.text
    body = {"criteria": {"branch_id": world.branch("BJ-HD")}, "channel": "sms"}
    first = await manager.post(f"{API}/{survey['id']}/distributions", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["invited"] == 3
    assert first.json()["excluded"] == {"do_not_contact": 1, "no_address": 1,
                                        "already_invited": 0}  # fmt: skip
    again = await manager.post(f"{API}/{survey['id']}/distributions", json=body)
    assert again.json()["invited"] == 0
    assert again.json()["excluded"]["already_invited"] == 3

    sent: list[OutgoingMessage] = []

    def gateway(message: OutgoingMessage) -> str:
        sent.append(message)
        return f"gw-{len(sent)}"

    plugin = make_plugin("sms_gw", requires=["marketing"],
                         hooks={"marketing_send_message": gateway})  # fmt: skip
    registry = kernel_with([plugin]).registry
    night = datetime(2026, 12, 9, 23, 0, tzinfo=SHANGHAI)  # a Wednesday, closed
    morning = datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)
    with world.bind(await world.scope_of("BJ")):
        assert await surveys.send_invitations(survey["id"], registry, night) == 0
        held = await kit.owner_fetch("SELECT status, reason FROM marketing_survey_invitation")
        assert {(r["status"], r["reason"]) for r in held} == {("queued", "quiet_hours")}
        count = await surveys.send_invitations(survey["id"], registry, morning)
        count_again = await surveys.send_invitations(survey["id"], registry, morning)
    assert count == 3
    assert count_again == 0
    assert len({m.idempotency_key for m in sent}) == 3
    assert all(PUBLIC in m.body and m.survey_invitation_id for m in sent)

    invitation = (await manager.get(f"{API}/{survey['id']}/invitations")).json()["items"][0]
    anonymous = world.anonymous_client()
    answers = {"answers": {"bank": "ours", "values": ["yield"], "score": 4}}
    code = code_of(invitation["url"])
    assert (await anonymous.post(f"{PUBLIC}/{code}/responses", json=answers)).status_code == 200
    twice = await anonymous.post(f"{PUBLIC}/{code}/responses", json=answers)
    assert kit.refused(twice, 409)
    stored = await kit.owner_fetch("SELECT customer, via FROM marketing_survey_response")
    assert [tuple(r) for r in stored] == [(invitation["customer_id"], "invitation")]


async def test_service_sends_satisfaction_surveys(world: World, kit: Any) -> None:
    manager = await world.client("demo.bj.manager")
    made = await manager.post(API, json={"title": "服务满意度", "purpose": "satisfaction",
                                         "questions": [QUESTIONS[3]]})  # fmt: skip
    await manager.patch(f"{API}/{made.json()['id']}", json={"status": "active"})
    customer = (await kit.customers("BJ-HD", 1))[0]
    from bankcrm_marketing import services as marketing

    with world.bind(await world.scope_of("BJ-HD")):  # the survey is BJ's: not seen here
        assert await marketing.send_satisfaction_survey(customer, source_ref="t:1") is None
    with world.bind(await world.scope_of("BJ")):
        first = await marketing.send_satisfaction_survey(customer, source_ref="service.ticket:7")
        again = await marketing.send_satisfaction_survey(customer, source_ref="service.ticket:7")
    assert first is not None
    assert again is not None
    assert first.id == again.id
    assert (first.status, first.survey_id) == ("sent", made.json()["id"])  # handed to service
    with world.bind(await world.scope_of("SH")):
        other = (await kit.customers("SH-PD", 1))[0]
        assert await marketing.send_satisfaction_survey(other, source_ref="t:8") is None
