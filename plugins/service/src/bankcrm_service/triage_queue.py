"""The kind model applied to new tickets, and the manual triage queue (人工分拣).

Every ticket created through the API is read by the kind classifier
(:class:`bankcrm_service.triage.TextClassifier`, trained in process at first use from the
seed set shipped in ``data/ticket_kinds_seed.csv``; see ``data/SOURCES.md``). Its reading
— kind and confidence — is kept in ``service_triage``; below :data:`THRESHOLD` the ticket
waits in the queue (``queued``), else the reading stands (``auto``) as a suggestion: the
model never overrides the kind staff registered.

Staff review a ticket (``POST /tickets/{id}/triage``): they give its kind (and, if it
changes, its priority); the ticket takes them (its SLA follows the new kind and priority),
and the record keeps what the model said and what staff decided — ``confirmed`` when
they agree, ``corrected`` otherwise. These labelled rows are what a retraining job reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from msgspec import Meta, Struct

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.web.problems import not_found
from bankcrm_service import sla
from bankcrm_service.triage import DATA, TextClassifier, read_rows

TABLE = "service_triage"
TICKET = "service_ticket"
SEED = DATA / "ticket_kinds_seed.csv"
MODEL = "kind-seed-v1"
"""The model's name in the records: the seed set and the triage pipeline it was fit with."""
THRESHOLD = 0.5
"""A reading less sure than this goes to the manual queue."""
COLUMNS = (
    "r.ticket, r.branch_id, r.predicted_kind, r.confidence, r.model, r.state,"
    " r.registered_kind, r.final_kind, r.final_priority, r.note, r.reviewed_by,"
    " r.reviewed_at, r.created_at, t.title, t.kind, t.priority, t.status"
)
Kind = Literal["complaint", "inquiry", "suggestion", "report", "care", "bill"]
Priority = Literal["low", "normal", "high", "urgent"]
State = Literal["auto", "queued", "confirmed", "corrected"]

_model: TextClassifier | None = None
_training = anyio.Lock()


def _train() -> TextClassifier:
    texts, labels = read_rows(SEED, "text", "kind")
    return TextClassifier.train(texts, labels)


async def model() -> TextClassifier:
    """The kind classifier, trained once per process (off the event loop)."""
    global _model
    if _model is None:
        async with _training:
            if _model is None:
                _model = await anyio.to_thread.run_sync(_train)
    return _model


async def assess(ticket_id: int, branch_id: int, text: str, kind: str) -> None:
    """Record the model's reading of a new ticket (in the caller's transaction)."""
    reading = (await model()).predict(text)
    state = "auto" if reading.confidence >= THRESHOLD else "queued"
    await db.fetch(
        f"INSERT INTO {TABLE} (branch_id, ticket, predicted_kind, confidence, model, state,"
        " registered_kind, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', now())"
        " ON CONFLICT (ticket) DO NOTHING",
        branch_id, ticket_id, reading.label, round(reading.confidence, 4), MODEL, state, kind,
    )  # fmt: skip


class TriageOut(Struct):
    ticket: int
    branch_id: int
    title: str
    kind: str
    """The ticket's kind now."""
    priority: str
    status: str
    predicted_kind: str
    confidence: float
    model: str
    state: str
    registered_kind: str
    final_kind: str | None
    final_priority: str | None
    note: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    created_at: datetime


def _out(row: Any) -> TriageOut:
    return TriageOut(
        ticket=row["ticket"], branch_id=row["branch_id"], title=row["title"],
        kind=row["kind"], priority=row["priority"], status=row["status"],
        predicted_kind=row["predicted_kind"], confidence=row["confidence"],
        model=row["model"], state=row["state"], registered_kind=row["registered_kind"],
        final_kind=row["final_kind"], final_priority=row["final_priority"], note=row["note"],
        reviewed_by=row["reviewed_by"], reviewed_at=row["reviewed_at"],
        created_at=row["created_at"],
    )  # fmt: skip


async def queue(
    *, state: str = "queued", branch_id: int | None = None, limit: int = 50
) -> list[TriageOut]:
    """The tickets in scope in a triage state, oldest first (the queue: ``queued``)."""
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TABLE} r JOIN {TICKET} t ON t.id = r.ticket"
        " WHERE r.state = $1 AND ($2::bigint IS NULL OR r.branch_id = $2)"
        " ORDER BY r.created_at, r.ticket LIMIT $3",
        state, branch_id, limit,
    )  # fmt: skip
    return [_out(r) for r in rows]


async def get(ticket_id: int) -> TriageOut:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {TABLE} r JOIN {TICKET} t ON t.id = r.ticket WHERE r.ticket = $1",
        ticket_id,
    )
    if row is None:
        raise not_found(f"triage of ticket {ticket_id}")
    return _out(row)


class ReviewIn(Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Kind
    """The ticket's kind as staff read it."""
    priority: Priority | None = None
    """A new priority, if it changes (its SLA follows)."""
    note: Annotated[str, Meta(max_length=1000)] = ""


async def review(ticket_id: int, data: ReviewIn) -> TriageOut:
    """Staff confirm or correct the reading: the ticket takes the kind (and priority), the
    record keeps both, audited."""
    async with db.transaction():
        record = await db.fetchrow(
            f"SELECT predicted_kind FROM {TABLE} WHERE ticket = $1 FOR UPDATE", ticket_id
        )
        ticket = await db.fetchrow(f"SELECT * FROM {TICKET} WHERE id = $1 FOR UPDATE", ticket_id)
        if record is None or ticket is None:
            raise not_found(f"triage of ticket {ticket_id}")
        state = "confirmed" if data.kind == record["predicted_kind"] else "corrected"
        await db.fetch(
            f"UPDATE {TABLE} SET state = $2, final_kind = $3, final_priority = $4, note = $5,"
            " reviewed_by = $6, reviewed_at = now() WHERE ticket = $1",
            ticket_id, state, data.kind, data.priority, data.note, require_scope().actor,
        )  # fmt: skip
        changed: dict[str, Any] = {}
        if data.kind != ticket["kind"]:
            changed["kind"] = data.kind
        if data.priority is not None and data.priority != ticket["priority"]:
            changed["priority"] = data.priority
        if changed:
            clock = await sla.on_change(
                ticket, None, data.priority or ticket["priority"], sla.utcnow(),
                kind=data.kind,
            )  # fmt: skip
            columns = changed | clock
            assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, 2))
            await db.fetch(
                f"UPDATE {TICKET} SET {assignments}, updated_at = now() WHERE id = $1",
                ticket_id, *columns.values(),
            )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, "service.ticket", ticket_id, branch_id=ticket["branch_id"],
            before={"kind": ticket["kind"], "priority": ticket["priority"]},
            after={"kind": data.kind, "priority": data.priority or ticket["priority"],
                   "triage": state},
            reason=data.note or "人工分拣",
        )  # fmt: skip
    return await get(ticket_id)
