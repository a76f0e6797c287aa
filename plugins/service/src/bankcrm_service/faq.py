"""The FAQ knowledge base (常见问题): categories, articles with versions, suggested answers
for a ticket and the public self-service.

* An article is a question, its standard answer, other wordings (``keywords``), a
  category, a status (``draft`` or ``published``) and whether the public may see it.
  Every change that touches its content, category, status or audience makes a new
  version, kept whole in ``service_faq_version`` with who and when.
* A ticket's suggested answers come from the published articles of its branch and its
  parent branches that the reader's scope reaches (row-level security as everywhere:
  a sub-branch's staff do not read their parent branch's rows), matched by text
  similarity (:mod:`.faq_match`).
* The public self-service (no staff login) answers a question from the published public
  articles of the configured branch's chain with a confidence; below the threshold it
  hands the question to a person by opening a ticket in that branch, when the asker left a
  name and a valid phone number or e-mail address. Its answers carry no personal data:
  the article and the ticket's number, never the contact details it was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, branches, db
from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.web.problems import Problem, invalid, not_found
from bankcrm_service import services
from bankcrm_service.faq_match import Entry, FaqIndex, Match
from bankcrm_service.settings import root_settings

CATEGORY = "service_faq_category"
ARTICLE = "service_faq_article"
VERSION = "service_faq_version"
ARTICLE_ENTITY = "service.faq_article"
CATEGORY_ENTITY = "service.faq_category"
SUGGESTIONS = 3
SELF_SERVICE_ACTOR = "system:self-service"

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
NameEn = Annotated[str, Meta(max_length=100)]
Position = Annotated[int, Meta(ge=0, le=10_000)]
Question = Annotated[str, Meta(min_length=1, max_length=300)]
Answer = Annotated[str, Meta(min_length=1, max_length=8000)]
Keywords = Annotated[str, Meta(max_length=500)]
ArticleStatus = Literal["draft", "published"]
ARTICLE_COLUMNS = (
    "id, branch_id, category, question, answer, keywords, status, public, version,"
    " published_at, updated_by, created_at, updated_at"
)
VERSIONED = ("category", "question", "answer", "keywords", "status", "public")


# --- categories ----------------------------------------------------------------------------


class FaqCategoryIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    name_en: NameEn = ""
    position: Position = 0
    branch_id: Id | None = None
    """Default: your home branch."""


class FaqCategoryPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    name_en: NameEn | UnsetType = UNSET
    position: Position | UnsetType = UNSET


class FaqCategoryOut(Struct):
    id: int
    branch_id: int
    name: str
    name_en: str
    position: int


def _branch_for_new(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise invalid("/body/branch_id", "required: you have no home branch")
    if chosen not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    return chosen


def _text(value: str, field_name: str) -> str:
    text = value.strip()
    if not text:
        raise invalid(f"/body/{field_name}", "must not be blank")
    return text


async def list_categories(branch_id: int | None = None) -> list[FaqCategoryOut]:
    rows = await db.fetch(
        f"SELECT id, branch_id, name, name_en, position FROM {CATEGORY}"
        " WHERE ($1::bigint IS NULL OR branch_id = $1) ORDER BY branch_id, position, id",
        branch_id,
    )
    return [FaqCategoryOut(**dict(r)) for r in rows]


async def get_category(category_id: int) -> FaqCategoryOut:
    row = await db.fetchrow(
        f"SELECT id, branch_id, name, name_en, position FROM {CATEGORY} WHERE id = $1",
        category_id,
    )
    if row is None:
        raise not_found(f"FAQ category {category_id}")
    return FaqCategoryOut(**dict(row))


async def create_category(data: FaqCategoryIn) -> FaqCategoryOut:
    branch_id = _branch_for_new(data.branch_id)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {CATEGORY} (branch_id, name, name_en, position)"
            " VALUES ($1, $2, $3, $4) RETURNING id, branch_id, name, name_en, position",
            branch_id, _text(data.name, "name"), data.name_en.strip(), data.position,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, CATEGORY_ENTITY, row["id"], branch_id=branch_id,
            after={"name": row["name"]},
        )  # fmt: skip
    return FaqCategoryOut(**dict(row))


async def update_category(category_id: int, data: FaqCategoryPatch) -> FaqCategoryOut:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "name" in values:
        values["name"] = _text(values["name"], "name")
    async with db.transaction():
        before = await get_category(category_id)
        changed = {k: v for k, v in values.items() if getattr(before, k) != v}
        if not changed:
            return before
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 2))
        row = await db.fetchrow(
            f"UPDATE {CATEGORY} SET {assignments} WHERE id = $1"
            " RETURNING id, branch_id, name, name_en, position",
            category_id, *changed.values(),
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, CATEGORY_ENTITY, category_id, branch_id=row["branch_id"],
            before={k: getattr(before, k) for k in changed}, after=changed,
        )  # fmt: skip
    return FaqCategoryOut(**dict(row))


async def delete_category(category_id: int) -> None:
    async with db.transaction():
        before = await get_category(category_id)
        used = await db.fetchval(f"SELECT count(*) FROM {ARTICLE} WHERE category = $1", category_id)
        if used:
            raise Problem(
                409, f"{used} article(s) are filed under the category: move them first",
                code="in_use",
            )  # fmt: skip
        await db.fetch(f"DELETE FROM {CATEGORY} WHERE id = $1", category_id)
        await audit.record(
            audit.Action.DELETE, CATEGORY_ENTITY, category_id, branch_id=before.branch_id,
            before={"name": before.name},
        )  # fmt: skip


# --- articles ------------------------------------------------------------------------------


class FaqArticleIn(Struct, forbid_unknown_fields=True, kw_only=True):
    question: Question
    answer: Answer
    keywords: Keywords = ""
    """Other wordings customers use, matched like the question."""
    category_id: Id | None = None
    status: ArticleStatus = "draft"
    public: bool = True
    """Whether the public self-service may answer with it."""
    branch_id: Id | None = None
    """Default: your home branch; the article serves the branch and those below it."""


class FaqArticlePatch(Struct, forbid_unknown_fields=True, kw_only=True):
    question: Question | UnsetType = UNSET
    answer: Answer | UnsetType = UNSET
    keywords: Keywords | UnsetType = UNSET
    category_id: Id | UnsetType | None = UNSET
    status: ArticleStatus | UnsetType = UNSET
    public: bool | UnsetType = UNSET


class FaqArticleOut(Struct):
    id: int
    branch_id: int
    category: int | None
    question: str
    answer: str
    keywords: str
    status: str
    public: bool
    version: int
    published_at: datetime | None
    updated_by: str
    created_at: datetime
    updated_at: datetime


class FaqVersionOut(Struct):
    version: int
    category: int | None
    question: str
    answer: str
    keywords: str
    status: str
    public: bool
    actor: str
    at: datetime


def _article(row: Any) -> FaqArticleOut:
    return FaqArticleOut(**dict(row))


async def _check_category(category_id: int | None, branch_id: int) -> None:
    """A category you see, of the article's branch or one above it."""
    if category_id is None:
        return
    chain = (await branches.snapshot()).ancestors(branch_id)
    found = await db.fetchval(
        f"SELECT branch_id FROM {CATEGORY} WHERE id = $1 AND branch_id = ANY($2::bigint[])",
        category_id, chain,
    )  # fmt: skip
    if found is None:
        raise invalid("/body/category_id", f"no FAQ category {category_id} for the branch")


async def list_articles(
    *,
    status: str | None = None,
    category_id: int | None = None,
    branch_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[FaqArticleOut]:
    rows = await db.fetch(
        f"SELECT {ARTICLE_COLUMNS} FROM {ARTICLE} WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::bigint IS NULL OR category = $2) AND ($3::bigint IS NULL OR branch_id = $3)"
        " ORDER BY id LIMIT $4 OFFSET $5",
        status, category_id, branch_id, limit, offset,
    )  # fmt: skip
    return [_article(r) for r in rows]


async def get_article(article_id: int) -> FaqArticleOut:
    row = await db.fetchrow(f"SELECT {ARTICLE_COLUMNS} FROM {ARTICLE} WHERE id = $1", article_id)
    if row is None:
        raise not_found(f"FAQ article {article_id}")
    return _article(row)


async def _version(row: Any) -> None:
    await db.fetch(
        f"INSERT INTO {VERSION} (branch_id, article, version, category, question, answer,"
        " keywords, status, public, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, now())",
        row["branch_id"], row["id"], row["version"], row["category"], row["question"],
        row["answer"], row["keywords"], row["status"], row["public"], require_scope().actor,
    )  # fmt: skip


async def create_article(data: FaqArticleIn) -> FaqArticleOut:
    branch_id = _branch_for_new(data.branch_id)
    await _check_category(data.category_id, branch_id)
    async with db.transaction():
        row = await db.fetchrow(
            f"INSERT INTO {ARTICLE} (branch_id, category, question, answer, keywords, status,"
            " public, version, published_at, updated_by, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6::varchar, $7, 1,"
            " CASE WHEN $6::varchar = 'published' THEN now() END, $8, now(), now())"
            f" RETURNING {ARTICLE_COLUMNS}",
            branch_id, data.category_id, _text(data.question, "question"),
            _text(data.answer, "answer"), data.keywords.strip(), data.status, data.public,
            require_scope().actor,
        )  # fmt: skip
        assert row is not None
        await _version(row)
        await audit.record(
            audit.Action.CREATE, ARTICLE_ENTITY, row["id"], branch_id=branch_id,
            after={"question": row["question"], "status": row["status"]},
        )  # fmt: skip
    return _article(row)


async def update_article(article_id: int, data: FaqArticlePatch) -> FaqArticleOut:
    """Change an article: a new version with the whole article as it now is."""
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "category_id" in values:
        values["category"] = values.pop("category_id")
    for name in ("question", "answer"):
        if name in values:
            values[name] = _text(values[name], name)
    if "keywords" in values:
        values["keywords"] = values["keywords"].strip()
    async with db.transaction():
        before = await db.fetchrow(
            f"SELECT {ARTICLE_COLUMNS} FROM {ARTICLE} WHERE id = $1 FOR UPDATE", article_id
        )
        if before is None:
            raise not_found(f"FAQ article {article_id}")
        changed = {k: v for k, v in values.items() if before[k] != v}
        if not changed:
            return _article(before)
        if "category" in changed:
            await _check_category(changed["category"], before["branch_id"])
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changed, 3))
        published = ""
        if changed.get("status") == "published":
            published = ", published_at = now()"
        row = await db.fetchrow(
            f"UPDATE {ARTICLE} SET {assignments}{published}, version = version + 1,"
            f" updated_by = $2, updated_at = now() WHERE id = $1 RETURNING {ARTICLE_COLUMNS}",
            article_id, require_scope().actor, *changed.values(),
        )  # fmt: skip
        assert row is not None
        await _version(row)
        await audit.record(
            audit.Action.UPDATE, ARTICLE_ENTITY, article_id, branch_id=row["branch_id"],
            before={k: before[k] for k in changed}, after=changed,
        )  # fmt: skip
    return _article(row)


async def delete_article(article_id: int) -> None:
    async with db.transaction():
        row = await db.fetchrow(
            f"DELETE FROM {ARTICLE} WHERE id = $1 RETURNING {ARTICLE_COLUMNS}", article_id
        )
        if row is None:
            raise not_found(f"FAQ article {article_id}")
        await db.fetch(f"DELETE FROM {VERSION} WHERE article = $1", article_id)
        await audit.record(
            audit.Action.DELETE, ARTICLE_ENTITY, article_id, branch_id=row["branch_id"],
            before={"question": row["question"], "answer": row["answer"]},
        )  # fmt: skip


async def article_versions(article_id: int) -> list[FaqVersionOut]:
    """Every version of an article, newest first."""
    await get_article(article_id)
    rows = await db.fetch(
        f"SELECT version, category, question, answer, keywords, status, public, actor, at"
        f" FROM {VERSION} WHERE article = $1 ORDER BY version DESC",
        article_id,
    )
    return [FaqVersionOut(**dict(r)) for r in rows]


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knowledge:
    signature: tuple[Any, ...]
    index: FaqIndex
    articles: dict[int, Any]


_indexes: dict[tuple[tuple[int, ...], bool], Knowledge] = {}
MAX_INDEXES = 64


async def knowledge(branch_id: int, *, public_only: bool) -> Knowledge:
    """The matching index over the published articles of ``branch_id`` and the branches
    above it that the caller's scope reaches (only the public ones for the self-service),
    rebuilt when they change."""
    scope = require_scope()
    chain = [b for b in (await branches.snapshot()).ancestors(branch_id) if b in scope.branch_ids]
    where = "a.status = 'published' AND a.branch_id = ANY($1::bigint[])"
    if public_only:
        where += " AND a.public"
    stamp = await db.fetchrow(
        "SELECT count(*) AS n, max(a.updated_at) AS at, coalesce(sum(a.version), 0) AS v,"
        f" coalesce(sum(a.id), 0) AS ids FROM {ARTICLE} a WHERE {where}",
        chain,
    )
    assert stamp is not None
    signature = (stamp["n"], stamp["at"], stamp["v"], stamp["ids"])
    key = (tuple(chain), public_only)
    cached = _indexes.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    rows = await db.fetch(
        "SELECT a.id, a.question, a.answer, a.keywords, c.name AS category"
        f" FROM {ARTICLE} a LEFT JOIN {CATEGORY} c ON c.id = a.category"
        f" WHERE {where} ORDER BY a.id",
        chain,
    )
    entries = [Entry(r["id"], r["question"], r["keywords"], r["answer"]) for r in rows]
    # Fitting takes about a second per thousand articles: off the event loop.
    index = await anyio.to_thread.run_sync(FaqIndex, entries)
    built = Knowledge(signature, index, {r["id"]: r for r in rows})
    if len(_indexes) >= MAX_INDEXES:
        _indexes.clear()
    _indexes[key] = built
    return built


class SuggestionOut(Struct):
    article_id: int
    question: str
    answer: str
    category: str | None
    confidence: float
    """Cosine similarity of the texts, 0 to 1."""


def _suggestions(found: Knowledge, matches: list[Match]) -> list[SuggestionOut]:
    out = []
    for match in matches:
        row = found.articles[match.id]
        out.append(
            SuggestionOut(match.id, row["question"], row["answer"], row["category"],
                          match.confidence)
        )  # fmt: skip
    return out


async def ticket_suggestions(ticket_id: int, limit: int = SUGGESTIONS) -> list[SuggestionOut]:
    """The published articles most like the ticket's title and text, best first."""
    ticket = await services.get_ticket(ticket_id)
    found = await knowledge(ticket.branch_id, public_only=False)
    return _suggestions(found, found.index.search(f"{ticket.title}\n{ticket.body}", limit))


async def search(question: str, limit: int = SUGGESTIONS) -> list[SuggestionOut]:
    """Staff ask the knowledge base of their home branch (else their first branch)."""
    scope = require_scope()
    branch_id = scope.home_branch_id
    if branch_id is None or branch_id not in scope.branch_ids:
        branch_id = min(scope.branch_ids)
    found = await knowledge(branch_id, public_only=False)
    return _suggestions(found, found.index.search(question, limit))


# --- the public self-service ---------------------------------------------------------------

PHONE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
PublicQuestion = Annotated[str, Meta(min_length=1, max_length=500)]
ContactName = Annotated[str, Meta(max_length=50)]
Phone = Annotated[str, Meta(max_length=20)]
Email = Annotated[str, Meta(max_length=254)]


class AskIn(Struct, forbid_unknown_fields=True, kw_only=True):
    question: PublicQuestion
    name: ContactName = ""
    """With a phone number or e-mail address: whom a person should call back when the
    FAQ cannot answer (only then are they kept, in the ticket)."""
    phone: Phone = ""
    email: Email = ""


class PublicArticle(Struct):
    id: int
    question: str
    answer: str
    category: str | None


class AskOut(Struct):
    answered: bool
    """An article answered with at least the configured confidence."""
    confidence: float
    article: PublicArticle | None
    """The best article (also below the threshold, for the asker to judge)."""
    handed_over: bool
    """A person will call back: a ticket was opened."""
    ticket_number: int | None
    message: str


def _contact(data: AskIn) -> tuple[str, str, str] | None:
    """The validated contact details, None when none were given."""
    name, phone, email = data.name.strip(), data.phone.strip(), data.email.strip()
    if not (name or phone or email):
        return None
    if not name:
        raise invalid("/body/name", "say whom to call back")
    if not (phone or email):
        raise invalid("/body/phone", "leave a phone number or an e-mail address")
    if phone and not PHONE.match(phone.replace(" ", "")):
        raise invalid("/body/phone", "not a mainland mobile (11 digits) or landline number")
    if email and not EMAIL.match(email):
        raise invalid("/body/email", "not an e-mail address")
    return name, phone.replace(" ", ""), email


async def self_service_branch() -> int:
    root, settings = await root_settings()
    tree = await branches.snapshot()
    code = settings.self_service_branch
    branch_id = tree.by_code.get(code) if code else root
    if branch_id is None or not tree.plugin_enabled(branch_id, "service"):
        raise Problem(503, "the self-service is not available", code="unavailable")
    return branch_id


async def ask(data: AskIn) -> AskOut:
    """Answer a question from the public FAQ, or hand it over (see the module's text)."""
    question = data.question.strip()
    if not question:
        raise invalid("/body/question", "must not be blank")
    contact = _contact(data)
    _, settings = await root_settings()
    branch_id = await self_service_branch()
    # The public reads the published public FAQ of the branch and those above it; the
    # handover ticket is written in the branch.
    chain = (await branches.snapshot()).ancestors(branch_id)
    with bind_scope(Scope(actor=SELF_SERVICE_ACTOR, branch_ids=frozenset(chain))):
        found = await knowledge(branch_id, public_only=True)
        matches = found.index.search(question, 1)
    with bind_scope(Scope(actor=SELF_SERVICE_ACTOR, branch_ids=frozenset({branch_id}))):
        best = matches[0] if matches else None
        article = None
        if best is not None:
            row = found.articles[best.id]
            article = PublicArticle(best.id, row["question"], row["answer"], row["category"])
        confidence = best.confidence if best else 0.0
        if confidence >= settings.self_service_threshold:
            return AskOut(True, confidence, article, False, None, "")
        if contact is None:
            return AskOut(
                False, confidence, article, False, None,
                "未找到可靠答案。请留下姓名和电话或邮箱，我们将安排专人联系您。",
            )  # fmt: skip
        name, phone, email = contact
        lines = [question, "", f"联系人：{name}"]
        lines += [f"电话：{phone}"] if phone else []
        lines += [f"邮箱：{email}"] if email else []
        title = f"自助服务转人工：{question[:60]}"
        ticket = await services.create_ticket(
            services.TicketIn(
                title=title[:200], body="\n".join(lines)[:4000], kind="inquiry",
                channel="web", branch_id=branch_id,
            )
        )  # fmt: skip
    return AskOut(
        False, confidence, article, True, ticket.id,
        f"已转人工处理（工单号 {ticket.id}），我们将尽快与您联系。",
    )  # fmt: skip
