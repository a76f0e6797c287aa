"""Surveys (市场调查, and satisfaction surveys): questionnaires with versions, a public link,
personal invitations to customers of a target (the archive's customer filter) sent
through the message gateway, responses (from the link, an invitation or staff) checked
against the questionnaire and its skip logic, and the analysis per question.

A version with responses is frozen: saving the questionnaire again makes the next
version. Staff functions run under the caller's scope (row-level security: another
branch's survey is a 404); the public functions bind a system scope over the branches
where marketing is enabled and find the survey by its unguessable code.
"""

from __future__ import annotations

import inspect
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, branches, business_calendar, db
from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.jobs import enqueue
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_customer_archive import services as archive
from bankcrm_marketing import contacts
from bankcrm_marketing.common import (
    DNC_ALL,
    DO_NOT_CONTACT,
    Id,
    LongText,
    Title,
    blank_checked,
    branch_for_new,
    check_staff,
)
from bankcrm_marketing.messages import OutgoingMessage
from bankcrm_marketing.questionnaire import Question, check_questions, checked_answers
from bankcrm_marketing.targeting import address_rule

SURVEY = "marketing_survey"
QUESTION = "marketing_survey_question"
INVITATION = "marketing_survey_invitation"
RESPONSE = "marketing_survey_response"
ENTITY_SURVEY = "marketing.survey"
ENTITY_INVITATION = "marketing.survey_invitation"
ENTITY_RESPONSE = "marketing.survey_response"
SEND_JOB = "marketing.send_survey_invitations"
PUBLIC_PATH = "/api/v1/marketing/public/surveys/"
MAX_ATTEMPTS = 5
RECENT_TEXTS = 20
"""How many of the latest free-text answers the analysis shows per question."""

Purpose = Literal["research", "satisfaction"]
MessageChannel = Literal["sms", "email", "wechat"]
SourceRef = Annotated[str, Meta(min_length=1, max_length=64)]


def public_url(code: str) -> str:
    """The link a respondent opens: ``BANKCRM_MARKETING_SURVEY_URL`` (the bank's public
    address of the survey page, e.g. ``https://survey.bank.example/s/``) followed by the
    code; by default the API's public path."""
    return f"{os.environ.get('BANKCRM_MARKETING_SURVEY_URL', PUBLIC_PATH)}{code}"


def new_code() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: not guessable, not enumerable


class SurveyIn(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    description: LongText = ""
    purpose: Purpose = "research"
    questions: list[Question] = []
    """The first version's questions (may be given later: ``PUT …/questionnaire``)."""
    owner_id: Id | None = None
    branch_id: Id | None = None


class SurveyPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    status: Literal["active", "closed"] | UnsetType = UNSET
    """``active``: taking responses (needs questions); ``closed``: no more responses."""
    public_link: bool | UnsetType = UNSET
    """True: give the survey a public link (a new code if it has none); False: remove it
    (the old link stops working)."""


class QuestionnaireIn(Struct, forbid_unknown_fields=True, kw_only=True):
    questions: list[Question]


class SurveyOut(Struct):
    id: int
    branch_id: int
    title: str
    description: str
    purpose: str
    status: str
    version: int
    owner_id: int | None
    public_url: str | None
    responses: int
    """Responses to the current version."""
    questions: list[Question]
    """The current version's questions, in order."""
    created_at: datetime
    updated_at: datetime


class PublicSurvey(Struct):
    """What a respondent sees: the questions, no staff data."""

    title: str
    description: str
    version: int
    questions: list[Question]


class DistributionIn(Struct, forbid_unknown_fields=True, kw_only=True):
    criteria: archive.CustomerFilter
    """The customers to invite: the archive's filter (``segment_id`` for a segment), within
    the survey's branch and its sub-branches."""
    channel: MessageChannel = "sms"


class DistributionOut(Struct):
    survey_id: int
    invited: int
    excluded: dict[str, int]
    """Not invited: ``do_not_contact``, ``no_address``, ``already_invited``."""


class InvitationOut(Struct):
    id: int
    branch_id: int
    survey_id: int
    customer_id: int
    channel: str | None
    status: str
    source_ref: str
    reason: str
    url: str
    sent_at: datetime | None
    responded_at: datetime | None
    created_at: datetime


class AnswersIn(Struct, forbid_unknown_fields=True, kw_only=True):
    answers: dict[Annotated[str, Meta(max_length=32)], Any]
    """Question key → answer: an option's value (single), a list of values (multiple), a
    whole number (scale) or text."""


class StaffResponseIn(Struct, forbid_unknown_fields=True, kw_only=True):
    answers: dict[Annotated[str, Meta(max_length=32)], Any]
    customer_id: Id | None = None


class ResponseOut(Struct):
    id: int
    branch_id: int
    survey_id: int
    version: int
    customer_id: int | None
    invitation_id: int | None
    via: str
    answers: dict[str, Any]
    submitted_at: datetime


class Submitted(Struct):
    """What a respondent gets back."""

    version: int
    submitted_at: datetime


class ChoiceCount(Struct):
    value: str
    label: str
    count: int
    percent: float | None
    """Of the respondents who answered the question (multiple choice: may add up to
    more than 100)."""


class ScaleCount(Struct):
    value: int
    count: int


class TextAnswer(Struct):
    text: str
    submitted_at: datetime


class QuestionAnalysis(Struct):
    key: str
    prompt: str
    question_kind: str
    shown_to: int
    """Responses where skip logic showed the question and it was answered (or skipped
    as optional)."""
    answered: int
    choices: list[ChoiceCount] | None = None
    mean: float | None = None
    distribution: list[ScaleCount] | None = None
    recent: list[TextAnswer] | None = None


class SurveyAnalysis(Struct):
    survey_id: int
    version: int
    responses: int
    questions: list[QuestionAnalysis]


SURVEY_COLUMNS = (
    "id, branch_id, title, description, purpose, status, version, owner, link_code,"
    " created_at, updated_at"
)
INVITATION_COLUMNS = (
    "id, branch_id, survey AS survey_id, customer AS customer_id, code, channel, status,"
    " source_ref, reason, sent_at, responded_at, created_at"
)
RESPONSE_COLUMNS = (
    "id, branch_id, survey AS survey_id, version, customer AS customer_id,"
    " invitation AS invitation_id, via, answers, submitted_at"
)


def _question(row: Any) -> Question:
    return msgspec.convert(
        {
            "key": row["key"],
            "question_kind": row["question_kind"],
            "prompt": row["prompt"],
            "options": _json(row["options"]) or [],
            "scale_min": row["scale_min"],
            "scale_max": row["scale_max"],
            "required": row["required"],
            "show_if": _json(row["show_if"]),
        },
        Question,
    )


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def questions_of(survey_id: int, version: int) -> list[Question]:
    rows = await db.fetch(
        "SELECT key, question_kind, prompt, options, scale_min, scale_max, required, show_if"
        f" FROM {QUESTION} WHERE survey = $1 AND version = $2 ORDER BY position",
        survey_id,
        version,
    )
    return [_question(r) for r in rows]


async def _survey_row(survey_id: int, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"SELECT {SURVEY_COLUMNS} FROM {SURVEY} WHERE id = $1{' FOR UPDATE' if lock else ''}",
        survey_id,
    )
    if row is None:
        raise not_found(f"survey {survey_id}")
    return row


async def _out(row: Any) -> SurveyOut:
    count = await db.fetchval(
        f"SELECT count(*) FROM {RESPONSE} WHERE survey = $1 AND version = $2",
        row["id"],
        row["version"],
    )
    return SurveyOut(
        row["id"],
        row["branch_id"],
        row["title"],
        row["description"],
        row["purpose"],
        row["status"],
        row["version"],
        row["owner"],
        public_url(row["link_code"]) if row["link_code"] else None,
        int(count),
        await questions_of(row["id"], row["version"]),
        row["created_at"],
        row["updated_at"],
    )


async def _write_questions(
    branch_id: int, survey_id: int, version: int, questions: Sequence[Question]
) -> None:
    await db.fetch(f"DELETE FROM {QUESTION} WHERE survey = $1 AND version = $2", survey_id, version)
    for position, q in enumerate(questions):
        await db.fetch(
            f"INSERT INTO {QUESTION} (branch_id, survey, version, position, key, question_kind,"
            " prompt, options, scale_min, scale_max, required, show_if) VALUES ($1, $2, $3,"
            " $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12::jsonb)",
            branch_id,
            survey_id,
            version,
            position,
            q.key,
            q.question_kind,
            q.prompt.strip(),
            msgspec.json.encode(q.options).decode(),
            q.scale_min,
            q.scale_max,
            q.required,
            None if q.show_if is None else msgspec.json.encode(q.show_if).decode(),
        )


def _audited(questions: Sequence[Question]) -> list[Any]:
    return list(msgspec.to_builtins(questions))


# --- staff: surveys and their questionnaires -------------------------------------------------


async def create_survey(data: SurveyIn) -> SurveyOut:
    branch_id = branch_for_new(data.branch_id)
    title = blank_checked(data.title, "body.title")
    if data.questions:
        check_questions(data.questions)
    owner = data.owner_id if data.owner_id is not None else require_scope().user_id
    await check_staff(owner, branch_id, "body.owner_id")
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {SURVEY} (branch_id, title, description, purpose, status, version,"
            " owner, created_at, updated_at) VALUES ($1, $2, $3, $4, 'draft', 1, $5, now(),"
            f" now()) RETURNING {SURVEY_COLUMNS}",
            branch_id,
            title,
            data.description,
            data.purpose,
            owner,
        )
        assert row is not None
        await _write_questions(branch_id, row["id"], 1, data.questions)
        await audit.record(
            "create",
            ENTITY_SURVEY,
            row["id"],
            branch_id=branch_id,
            after={"title": title, "purpose": data.purpose,
                   "questions": _audited(data.questions)},
        )  # fmt: skip
        return await _out(row)


async def get_survey(survey_id: int) -> SurveyOut:
    return await _out(await _survey_row(survey_id))


async def list_surveys(
    *,
    status: str | None = None,
    purpose: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[SurveyOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {SURVEY_COLUMNS} FROM {SURVEY} WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR purpose = $2) AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        status,
        purpose,
        after[0] if after else None,
        limit + 1,
    )
    items = [await _out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def update_survey(survey_id: int, data: SurveyPatch) -> SurveyOut:
    async with db.transaction():
        before = await _survey_row(survey_id, lock=True)
        changes: dict[str, Any] = {}
        if data.title is not UNSET:
            changes["title"] = blank_checked(data.title, "body.title")
        if data.description is not UNSET:
            changes["description"] = data.description
        if data.status is not UNSET and data.status != before["status"]:
            if before["status"] == "closed":
                raise Problem(409, "body.status: a closed survey stays closed",
                              code="survey_closed")  # fmt: skip
            if data.status == "active" and not await questions_of(survey_id, before["version"]):
                raise invalid("body.status", "a survey without questions cannot be active")
            changes["status"] = data.status
        if data.public_link is not UNSET:
            if data.public_link and before["link_code"] is None:
                changes["link_code"] = new_code()
            elif not data.public_link and before["link_code"] is not None:
                changes["link_code"] = None
        if changes:
            sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
            row = await db.fetchrow(
                f"UPDATE {SURVEY} SET {sets}, updated_at = now() WHERE id = $1"
                f" RETURNING {SURVEY_COLUMNS}",
                survey_id,
                *changes.values(),
            )
            after = {k: ("(link)" if k == "link_code" and v else v) for k, v in changes.items()}
            await audit.record(
                "update",
                ENTITY_SURVEY,
                survey_id,
                branch_id=before["branch_id"],
                before={k: ("(link)" if k == "link_code" and before[k] else before[k])
                        for k in changes},
                after=after,
            )  # fmt: skip
        else:
            row = before
        return await _out(row)


async def save_questionnaire(survey_id: int, data: QuestionnaireIn) -> SurveyOut:
    """Replace the questions of the current version; when that version has responses it
    is frozen, and the questions become the next version."""
    check_questions(data.questions)
    async with db.transaction():
        survey = await _survey_row(survey_id, lock=True)
        if survey["status"] == "closed":
            raise Problem(409, "the survey is closed", code="survey_closed")
        version = survey["version"]
        answered = await db.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {RESPONSE} WHERE survey = $1 AND version = $2)",
            survey_id,
            version,
        )
        if answered:
            version += 1
        await _write_questions(survey["branch_id"], survey_id, version, data.questions)
        row = await db.fetchrow(
            f"UPDATE {SURVEY} SET version = $2, updated_at = now() WHERE id = $1"
            f" RETURNING {SURVEY_COLUMNS}",
            survey_id,
            version,
        )
        await audit.record(
            "update",
            ENTITY_SURVEY,
            survey_id,
            branch_id=survey["branch_id"],
            before={"version": survey["version"]},
            after={"version": version, "questions": _audited(data.questions)},
        )
        return await _out(row)


# --- distribution: invitations ------------------------------------------------------------


def _invitation_out(row: Any) -> InvitationOut:
    values = dict(row)
    values["url"] = public_url(values.pop("code"))
    return InvitationOut(**values)


async def distribute(survey_id: int, data: DistributionIn) -> DistributionOut:
    """Invite the customers the criteria select (in the survey's branch and below), except
    those who asked not to be contacted on the channel, those without an address on it and
    those invited already; the invitations are sent by the job after commit."""
    problems = archive.Problems()
    archive.filter_from_json(problems, msgspec.to_builtins(data.criteria), "body.criteria")
    problems.raise_if_any()
    async with db.transaction():
        survey = await _survey_row(survey_id, lock=True)
        if survey["status"] != "active":
            raise Problem(409, "only an active survey is distributed", code="survey_not_active")
        where, args = await archive.filter_conditions(data.criteria)
        subtree = sorted((await branches.snapshot()).subtree(survey["branch_id"]))
        n = len(args)
        # One statement: the invitations are made where the customers are, each with a
        # code of 244 random bits (two random UUIDs, the server's strong generator).
        counted = await db.fetchrow(
            "WITH target AS (SELECT c.id,"
            f" EXISTS (SELECT 1 FROM {INVITATION} i WHERE i.survey = ${n + 3}"
            "  AND i.customer = c.id) AS invited,"
            f" EXISTS (SELECT 1 FROM {DO_NOT_CONTACT} d WHERE d.customer = c.id"
            f"  AND d.channel IN ('{DNC_ALL}', ${n + 2})) AS refused,"
            f" ({address_rule(data.channel)}) AS unreachable"
            f" FROM customer_archive_customer c WHERE ({where})"
            f" AND c.branch_id = ANY(${n + 1}::bigint[])),"
            f" made AS (INSERT INTO {INVITATION} (branch_id, survey, customer, code, channel,"
            " status, source_ref, reason, attempts, scheduled_at, created_at)"
            f" SELECT ${n + 4}, ${n + 3}, id,"
            " replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),"
            f" ${n + 2}, 'queued', '', '', 0, now(), now() FROM target"
            " WHERE NOT invited AND NOT refused AND NOT unreachable RETURNING 1)"
            " SELECT (SELECT count(*) FROM made) AS invited,"
            " count(*) FILTER (WHERE invited) AS already_invited,"
            " count(*) FILTER (WHERE NOT invited AND refused) AS do_not_contact,"
            " count(*) FILTER (WHERE NOT invited AND NOT refused AND unreachable) AS no_address"
            " FROM target",
            *args,
            subtree,
            data.channel,
            survey_id,
            survey["branch_id"],
        )
        assert counted is not None
        invited = int(counted["invited"])
        excluded = {
            key: int(counted[key]) for key in ("do_not_contact", "no_address", "already_invited")
        }
        await audit.record(
            "update",
            ENTITY_SURVEY,
            survey_id,
            branch_id=survey["branch_id"],
            after={"distributed": invited, "channel": data.channel, "excluded": excluded,
                   "criteria": msgspec.to_builtins(data.criteria)},
        )  # fmt: skip
        if invited:
            await enqueue(SEND_JOB, survey_id)
    return DistributionOut(survey_id, invited, excluded)


async def list_invitations(
    survey_id: int, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[InvitationOut]:
    await _survey_row(survey_id)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {INVITATION_COLUMNS} FROM {INVITATION} WHERE survey = $1"
        " AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id > $3)"
        " ORDER BY id LIMIT $4",
        survey_id,
        status,
        after[0] if after else None,
        limit + 1,
    )
    items = [_invitation_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_invitation(invitation_id: int) -> InvitationOut:
    row = await db.fetchrow(
        f"SELECT {INVITATION_COLUMNS} FROM {INVITATION} WHERE id = $1", invitation_id
    )
    if row is None:
        raise not_found(f"survey invitation {invitation_id}")
    return _invitation_out(row)


async def invite(
    survey_id: int,
    customer_id: int,
    *,
    source_ref: str,
    channel: str | None = None,
) -> InvitationOut:
    """An invitation of one customer to a survey, once per ``source_ref`` (a retried call
    with the same reference answers the same invitation). With a ``channel`` (``sms``,
    ``email``, ``wechat``) the sending job sends it (do-not-contact and quiet hours
    respected); without one the caller hands its ``url`` to the customer itself."""
    if channel not in (None, "sms", "email", "wechat"):
        raise invalid("channel", "sms, email, wechat or none")
    if not 1 <= len(source_ref) <= 64:
        raise invalid("source_ref", "1 to 64 characters")
    async with db.transaction():
        survey = await _survey_row(survey_id, lock=True)
        existing = await db.fetchrow(
            f"SELECT {INVITATION_COLUMNS} FROM {INVITATION} WHERE survey = $1 AND source_ref = $2",
            survey_id,
            source_ref,
        )
        if existing is not None:
            return _invitation_out(existing)
        if survey["status"] != "active":
            raise Problem(409, "the survey is not taking responses", code="survey_not_active")
        visible = await db.fetchval(
            "SELECT count(*) FROM customer_archive_customer c WHERE c.id = $1", customer_id
        )
        if not visible:
            raise invalid("customer_id", f"no customer {customer_id} is visible to you")
        row = await db.fetchrow(
            f"INSERT INTO {INVITATION} (branch_id, survey, customer, code, channel, status,"
            " source_ref, reason, attempts, scheduled_at, sent_at, created_at) VALUES ($1, $2,"
            " $3, $4, $5::text, CASE WHEN $5::text IS NULL THEN 'sent' ELSE 'queued' END, $6,"
            " '', 0, now(), CASE WHEN $5::text IS NULL THEN now() END, now())"
            f" RETURNING {INVITATION_COLUMNS}",
            survey["branch_id"],
            survey_id,
            customer_id,
            new_code(),
            channel,
            source_ref,
        )
        assert row is not None
        await audit.record(
            "create",
            ENTITY_INVITATION,
            row["id"],
            branch_id=row["branch_id"],
            after={"survey": survey_id, "customer": customer_id, "channel": channel,
                   "source_ref": source_ref},
        )  # fmt: skip
        if channel is not None:
            await enqueue(SEND_JOB, survey_id)
        return _invitation_out(row)


async def send_satisfaction_survey(
    customer_id: int,
    *,
    source_ref: str,
    channel: str | None = None,
    survey_id: int | None = None,
) -> InvitationOut | None:
    """Invite a customer to a satisfaction survey (for the service plugin, after a ticket
    is resolved): ``survey_id``, or the newest active survey of purpose ``satisfaction`` of
    the customer's branch or the nearest branch above it that the caller sees (row-level
    security: a sub-branch's staff see their own branch's surveys); None when there is
    none.
    Idempotent per ``source_ref`` (``service.ticket:42``). Runs under the caller's scope,
    in its transaction if one is open."""
    if survey_id is None:
        branch_id = await db.fetchval(
            "SELECT c.branch_id FROM customer_archive_customer c WHERE c.id = $1", customer_id
        )
        if branch_id is None:
            raise invalid("customer_id", f"no customer {customer_id} is visible to you")
        line = (await branches.snapshot()).ancestors(branch_id)
        survey_id = await db.fetchval(
            f"SELECT id FROM {SURVEY} WHERE purpose = 'satisfaction' AND status = 'active'"
            " AND branch_id = ANY($1::bigint[])"
            " ORDER BY array_position($1::bigint[], branch_id), id DESC LIMIT 1",
            line,
        )
        if survey_id is None:
            return None
    return await invite(survey_id, customer_id, source_ref=source_ref, channel=channel)


async def _gateway(message: OutgoingMessage, registry: PluginHooks) -> str | None:
    for _plugin, answer in registry.call_each("marketing_send_message", message=message):
        found = await answer if inspect.isawaitable(answer) else answer
        if found is not None:
            return str(found)
    return None


async def send_invitations(
    survey_id: int | None = None,
    registry: PluginHooks | None = None,
    now: datetime | None = None,
) -> int:
    """Send the due invitations (of one survey, or of every active survey in scope)
    through the ``marketing_send_message`` gateway, each under a row lock, while the
    branch is open by its business calendar (else they wait for it to open); answers how
    many were sent. Safe to run twice."""
    now = now or datetime.now(UTC)
    ids = [
        r["id"]
        for r in await db.fetch(
            f"SELECT i.id FROM {INVITATION} i JOIN {SURVEY} s ON s.id = i.survey"
            " WHERE i.status = 'queued' AND i.channel IS NOT NULL AND i.scheduled_at <= $1"
            " AND s.status = 'active' AND ($2::bigint IS NULL OR i.survey = $2)"
            " ORDER BY i.id LIMIT 5000",
            now,
            survey_id,
        )
    ]
    sent = 0
    for invitation_id in ids:
        async with db.transaction():
            row = await db.fetchrow(
                f"SELECT i.id, i.branch_id, i.survey, i.customer, i.code, i.channel,"
                f" i.attempts, s.title FROM {INVITATION} i JOIN {SURVEY} s ON s.id = i.survey"
                " WHERE i.id = $1 AND i.status = 'queued' FOR UPDATE OF i SKIP LOCKED",
                invitation_id,
            )
            if row is None:
                continue
            if await _send_one(row, now, registry):
                sent += 1
    return sent


async def _send_one(row: Any, now: datetime, registry: PluginHooks | None) -> bool:
    calendar = await business_calendar.calendar_for(row["branch_id"])
    opening = contacts.next_opening(calendar, now)
    if opening is not None:
        await db.fetch(
            f"UPDATE {INVITATION} SET scheduled_at = $2, reason = 'quiet_hours' WHERE id = $1",
            row["id"],
            opening,
        )
        return False
    refused = await db.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM {DO_NOT_CONTACT} WHERE customer = $1"
        f" AND channel IN ('{DNC_ALL}', $2))",
        row["customer"],
        row["channel"],
    )
    address = await db.fetchval(
        "SELECT CASE WHEN $2 = 'email' THEN c.email ELSE c.phone END"
        " FROM customer_archive_customer c WHERE c.id = $1",
        row["customer"],
        row["channel"],
    )
    if refused or not address:
        await db.fetch(
            f"UPDATE {INVITATION} SET status = 'skipped', reason = $2 WHERE id = $1",
            row["id"],
            "do_not_contact" if refused else "no_address",
        )
        return False
    message = OutgoingMessage(
        idempotency_key=f"{ENTITY_INVITATION}.{row['id']}",
        contact_id=0,
        campaign_id=0,
        branch_id=row["branch_id"],
        customer_id=row["customer"],
        channel=row["channel"],
        address=address,
        title=row["title"],
        body=f"邀请您参加问卷调查「{row['title']}」：{public_url(row['code'])}",
        survey_invitation_id=row["id"],
    )
    try:
        reference = await _gateway(message, registry or plugin_hooks())
    except Exception as exc:
        attempts = row["attempts"] + 1
        await db.fetch(
            f"UPDATE {INVITATION} SET attempts = $2, reason = $3,"
            " status = CASE WHEN $2 >= $4 THEN 'failed' ELSE status END WHERE id = $1",
            row["id"],
            attempts,
            f"gateway: {exc}"[:1000],
            MAX_ATTEMPTS,
        )
        return False
    if reference is None:
        await db.fetch(
            f"UPDATE {INVITATION} SET status = 'failed', reason = $2 WHERE id = $1",
            row["id"],
            f"no gateway for the channel {row['channel']}",
        )
        return False
    await db.fetch(
        f"UPDATE {INVITATION} SET status = 'sent', sent_at = $2, provider_ref = $3,"
        " attempts = attempts + 1, reason = '' WHERE id = $1",
        row["id"],
        now,
        reference[:200],
    )
    return True


# --- responses ------------------------------------------------------------------------------


def _response_out(row: Any) -> ResponseOut:
    values = dict(row)
    values["answers"] = _json(values["answers"]) or {}
    return ResponseOut(**values)


async def _store_response(
    survey: Any,
    answers: Mapping[str, Any],
    *,
    via: str,
    customer_id: int | None,
    invitation_id: int | None,
) -> Any:
    questions = await questions_of(survey["id"], survey["version"])
    kept = checked_answers(questions, answers)
    row = await db.fetchrow(
        f"INSERT INTO {RESPONSE} (branch_id, survey, version, customer, invitation, answers,"
        f" via, submitted_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, now())"
        f" RETURNING {RESPONSE_COLUMNS}",
        survey["branch_id"],
        survey["id"],
        survey["version"],
        customer_id,
        invitation_id,
        msgspec.json.encode(kept).decode(),
        via,
    )
    assert row is not None
    await audit.record(
        "create",
        ENTITY_RESPONSE,
        row["id"],
        branch_id=row["branch_id"],
        after={"survey": survey["id"], "version": survey["version"], "via": via,
               "customer": customer_id},
    )  # fmt: skip
    return row


async def record_staff_response(survey_id: int, data: StaffResponseIn) -> ResponseOut:
    """Answers taken by staff (by telephone, at the counter), for a customer or not."""
    async with db.transaction():
        survey = await _survey_row(survey_id, lock=True)
        if survey["status"] != "active":
            raise Problem(409, "the survey is not taking responses", code="survey_not_active")
        if data.customer_id is not None and not await db.fetchval(
            "SELECT count(*) FROM customer_archive_customer c WHERE c.id = $1", data.customer_id
        ):
            raise invalid("body.customer_id", f"no customer {data.customer_id} is visible to you")
        row = await _store_response(
            survey, data.answers, via="staff", customer_id=data.customer_id, invitation_id=None
        )
    return _response_out(row)


async def list_responses(
    survey_id: int, *, version: int | None = None, limit: int = 50, cursor: str | None = None
) -> Page[ResponseOut]:
    await _survey_row(survey_id)
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {RESPONSE_COLUMNS} FROM {RESPONSE} WHERE survey = $1"
        " AND ($2::int IS NULL OR version = $2) AND ($3::bigint IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        survey_id,
        version,
        after[0] if after else None,
        limit + 1,
    )
    items = [_response_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def get_response(response_id: int) -> ResponseOut:
    row = await db.fetchrow(f"SELECT {RESPONSE_COLUMNS} FROM {RESPONSE} WHERE id = $1",
                            response_id)  # fmt: skip
    if row is None:
        raise not_found(f"survey response {response_id}")
    return _response_out(row)


async def analysis(survey_id: int, version: int | None = None) -> SurveyAnalysis:
    """Per question of a version (default: the current one), chart-ready: counts and
    percentages of each option, the mean and distribution of a scale, the latest
    free-text answers. Counted in the database (a handful of statements whatever the
    number of responses), skip logic included."""
    survey = await _survey_row(survey_id)
    chosen = survey["version"] if version is None else version
    if not 1 <= chosen <= survey["version"]:
        raise invalid("query.version", f"the survey has versions 1 to {survey['version']}")
    questions = await questions_of(survey_id, chosen)
    by_key = {q.key: q for q in questions}
    args: list[Any] = [survey_id, chosen]
    shown_sql = {q.key: _shown_sql(q, by_key, args) for q in questions}
    totals = await db.fetchrow(
        "SELECT count(*) AS responses"
        + "".join(
            f", count(*) FILTER (WHERE answers ? '{q.key}') AS \"a_{q.key}\""
            f', count(*) FILTER (WHERE {shown_sql[q.key]}) AS "s_{q.key}"'
            for q in questions
        )
        + f" FROM {RESPONSE} WHERE survey = $1 AND version = $2",
        *args,
    )
    assert totals is not None
    counted = [q.key for q in questions if q.question_kind != "text"]
    counts: dict[str, dict[str, int]] = {key: {} for key in counted}
    for r in await db.fetch(
        "SELECT e.key, coalesce(a.v, e.value #>> '{}') AS v, count(*) AS n"
        f" FROM {RESPONSE} r CROSS JOIN LATERAL jsonb_each(r.answers) e"
        " LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.value) ="
        " 'array' THEN e.value END) a(v) ON true"
        " WHERE r.survey = $1 AND r.version = $2 AND e.key = ANY($3::text[]) GROUP BY 1, 2",
        survey_id,
        chosen,
        counted,
    ):
        counts[r["key"]][r["v"]] = int(r["n"])
    result = []
    for q in questions:
        out = QuestionAnalysis(
            q.key, q.prompt, q.question_kind, int(totals[f"s_{q.key}"]),
            int(totals[f"a_{q.key}"]),
        )  # fmt: skip
        if q.question_kind in ("single", "multiple"):
            found = counts[q.key]
            out.choices = [
                ChoiceCount(o.value, o.label, found.get(o.value, 0),
                            round(100.0 * found.get(o.value, 0) / out.answered, 1)
                            if out.answered else None)
                for o in q.options
            ]  # fmt: skip
        elif q.question_kind == "scale":
            low, high = q.scale_min or 0, q.scale_max or 0
            found = counts[q.key]
            bars = [ScaleCount(n, found.get(str(n), 0)) for n in range(low, high + 1)]
            total = sum(b.count for b in bars)
            out.distribution = bars
            out.mean = round(sum(b.value * b.count for b in bars) / total, 2) if total else None
        else:
            out.recent = [
                TextAnswer(r["text"], r["submitted_at"])
                for r in await db.fetch(
                    f"SELECT answers ->> $3 AS text, submitted_at FROM {RESPONSE}"
                    " WHERE survey = $1 AND version = $2 AND answers ? $3"
                    " ORDER BY submitted_at DESC, id DESC LIMIT $4",
                    survey_id,
                    chosen,
                    q.key,
                    RECENT_TEXTS,
                )
            ]
        result.append(out)
    return SurveyAnalysis(survey_id, chosen, int(totals["responses"]), result)


def _shown_sql(question: Question, by_key: Mapping[str, Question], args: list[Any]) -> str:
    """SQL over ``answers`` true when skip logic showed ``question`` (its chain of
    conditions over earlier questions); values go to ``args`` as parameters."""
    rule = question.show_if
    if rule is None:
        return "true"
    target = by_key.get(rule.question)
    if target is None:
        return "false"
    args.append(rule.question)
    key = f"${len(args)}::text"
    if rule.any_of is not None:
        args.append(list(rule.any_of))
        values = f"${len(args)}::text[]"
        matched = (
            f"(jsonb_typeof(answers -> {key}) = 'array' AND answers -> {key} ?| {values})"
            f" OR (answers ->> {key}) = ANY({values})"
        )
    else:
        parts = [f"jsonb_typeof(answers -> {key}) = 'number'"]
        for bound, op in ((rule.at_least, ">="), (rule.at_most, "<=")):
            if bound is not None:
                args.append(bound)
                parts.append(
                    f"CASE WHEN jsonb_typeof(answers -> {key}) = 'number'"
                    f" THEN (answers ->> {key})::int {op} ${len(args)}::int END"
                )
        matched = " AND ".join(parts)
    return f"(({_shown_sql(target, by_key, args)}) AND ({matched}))"


# --- the public side: the link and personal invitations ------------------------------------


async def _public_scope() -> Scope:
    tree = await branches.snapshot()
    return Scope(actor="system:marketing.survey_link",
                 branch_ids=tree.enabled_branches("marketing"))  # fmt: skip


async def _find_by_code(code: str, *, lock: bool = False) -> tuple[Any, Any | None]:
    """The active survey the code opens and the invitation it is (None: the survey's
    public link). Unknown, removed, or for a survey not taking responses: 404."""
    gone = not_found("survey")
    if not 16 <= len(code) <= 64:
        raise gone
    invitation = await db.fetchrow(
        f"SELECT id, survey, customer, responded_at FROM {INVITATION} WHERE code = $1"
        f"{' FOR UPDATE' if lock else ''}",
        code,
    )
    if invitation is not None:
        survey = await db.fetchrow(
            f"SELECT {SURVEY_COLUMNS} FROM {SURVEY} WHERE id = $1", invitation["survey"]
        )
    else:
        survey = await db.fetchrow(
            f"SELECT {SURVEY_COLUMNS} FROM {SURVEY} WHERE link_code = $1", code
        )
    if survey is None or survey["status"] != "active":
        raise gone
    return survey, invitation


async def public_survey(code: str) -> PublicSurvey:
    """The questionnaire a link or an invitation opens (no login)."""
    with bind_scope(await _public_scope()):
        survey, _invitation = await _find_by_code(code)
        return PublicSurvey(
            survey["title"],
            survey["description"],
            survey["version"],
            await questions_of(survey["id"], survey["version"]),
        )


async def submit_public(code: str, data: AnswersIn) -> Submitted:
    """A respondent's answers through a link (anonymous) or an invitation (the customer's,
    once: a second answer is a 409)."""
    with bind_scope(await _public_scope()):
        async with db.transaction():
            survey, invitation = await _find_by_code(code, lock=True)
            if invitation is not None and invitation["responded_at"] is not None:
                raise Problem(409, "this invitation has been answered", code="already_answered")
            row = await _store_response(
                survey,
                data.answers,
                via="link" if invitation is None else "invitation",
                customer_id=None if invitation is None else invitation["customer"],
                invitation_id=None if invitation is None else invitation["id"],
            )
            if invitation is not None:
                await db.fetch(
                    f"UPDATE {INVITATION} SET responded_at = now() WHERE id = $1",
                    invitation["id"],
                )
    return Submitted(row["version"], row["submitted_at"])
