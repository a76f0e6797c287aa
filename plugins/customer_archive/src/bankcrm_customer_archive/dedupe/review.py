"""The review queue: candidate pairs, most probable first, compared side by side (masked)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import Problem, not_found
from bankcrm_customer_archive import records

CUSTOMER = "customer_archive_customer"
CANDIDATE = "customer_archive_duplicate_candidate"
ENTITY_CANDIDATE = "customer_archive.duplicate_candidate"


class ReasonOut(msgspec.Struct):
    comparison: str
    level: str
    weight: float


class CandidateOut(msgspec.Struct, kw_only=True):
    id: int
    branch_id: int
    customer_ids: tuple[int, int]
    names: tuple[str, str]
    probability: float
    match_weight: float
    reasons: list[ReasonOut]
    blocked_by: str
    model_version: str
    status: str
    detected_by: str
    detected_at: datetime
    decided_by: int | None
    decided_at: datetime | None


class SideOut(msgspec.Struct, kw_only=True):
    """One customer of a pair, masked as everywhere else."""

    id: int
    branch_id: int
    kind: str
    name: str
    name_pinyin: str
    gender: str | None
    birth_date: date | None
    id_type: str
    id_number: str
    phone: str | None
    email: str | None
    address: str | None
    created_at: datetime
    updated_at: datetime
    addresses: int
    contacts: int
    holdings: int
    tags: list[str]


class ComparisonOut(msgspec.Struct, kw_only=True):
    candidate: CandidateOut
    left: SideOut
    right: SideOut
    same: list[str]
    """Fields equal on both sides (compared in clear, shown masked)."""


_SELECT = f"""SELECT d.*, l.name AS low_name, h.name AS high_name FROM {CANDIDATE} d
JOIN {CUSTOMER} l ON l.id = d.customer_low JOIN {CUSTOMER} h ON h.id = d.customer_high"""


def _candidate(row: Mapping[str, Any]) -> CandidateOut:
    reasons = json.loads(row["reasons"]) if isinstance(row["reasons"], str) else row["reasons"]
    return CandidateOut(
        id=row["id"], branch_id=row["branch_id"],
        customer_ids=(row["customer_low"], row["customer_high"]),
        names=(row["low_name"], row["high_name"]), probability=row["probability"],
        match_weight=row["match_weight"],
        reasons=[ReasonOut(r["comparison"], r["level"], r["weight"]) for r in reasons],
        blocked_by=row["blocked_by"], model_version=row["model_version"], status=row["status"],
        detected_by=row["detected_by"], detected_at=row["detected_at"],
        decided_by=row["decided_by"], decided_at=row["decided_at"],
    )  # fmt: skip


async def list_candidates(
    status: str, min_probability: float, limit: int, cursor: str | None
) -> Page[CandidateOut]:
    """Candidates of ``status``, most probable first (keyset on probability and id).

    Pairs whose customer was deleted or merged since are left out of the open queue.
    """
    after = decode_cursor(cursor, (float, int))
    live = " AND l.deleted_at IS NULL AND h.deleted_at IS NULL" if status == "open" else ""
    rows = await db.fetch(
        f"{_SELECT} WHERE d.status = $1 AND d.probability >= $2{live}"
        " AND ($3::float8 IS NULL OR (d.probability, d.id) < ($3, $4))"
        " ORDER BY d.probability DESC, d.id DESC LIMIT $5",
        status, min_probability, after[0] if after else None, after[1] if after else None,
        limit + 1,
    )  # fmt: skip
    items = [_candidate(r) for r in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].probability, items[-1].id]) if len(rows) > limit else None
    )
    return Page(items, next_cursor)


async def _fetch(candidate_id: int) -> Mapping[str, Any]:
    row = await db.fetchrow(f"{_SELECT} WHERE d.id = $1", candidate_id)
    if row is None:
        raise not_found(f"duplicate candidate {candidate_id}")
    return row


_SIDE_SQL = f"""SELECT c.*,
  (SELECT concat_ws('', a.province, nullif(a.city, a.province), a.district, a.street)
     FROM customer_archive_customer_address a WHERE a.customer = c.id
     ORDER BY a.is_primary DESC, a.id LIMIT 1) AS address,
  (SELECT count(*) FROM customer_archive_customer_address a WHERE a.customer = c.id) AS n_addr,
  (SELECT count(*) FROM customer_archive_customer_contact k WHERE k.customer = c.id) AS n_contact,
  (SELECT count(*) FROM customer_archive_holding h WHERE h.customer = c.id) AS n_holding,
  ARRAY(SELECT t.name FROM customer_archive_customer_tag ct JOIN customer_archive_tag t
        ON t.id = ct.tag WHERE ct.customer = c.id ORDER BY t.name) AS tag_names
FROM {CUSTOMER} c WHERE c.id = ANY($1::int[])"""

_COMPARED = ("name", "name_pinyin", "gender", "birth_date", "id_number_hash", "phone", "email",
             "address")  # fmt: skip


def _side(row: Mapping[str, Any]) -> SideOut:
    address = row["address"]
    return SideOut(
        id=row["id"], branch_id=row["branch_id"], kind=row["kind"], name=row["name"],
        name_pinyin=row["name_pinyin"], gender=row["gender"], birth_date=row["birth_date"],
        id_type=row["id_type"], id_number=row["id_number_masked"],
        phone=records.mask_phone(row["phone"]), email=records.mask_email(row["email"]),
        address=records.mask_street(address) if address else None,
        created_at=row["created_at"], updated_at=row["updated_at"], addresses=row["n_addr"],
        contacts=row["n_contact"], holdings=row["n_holding"], tags=list(row["tag_names"]),
    )  # fmt: skip


async def compare(candidate_id: int) -> ComparisonOut:
    """The pair side by side (masked); viewing both customers is audited."""
    async with db.transaction():
        row = await _fetch(candidate_id)
        ids = [row["customer_low"], row["customer_high"]]
        sides = {r["id"]: r for r in await db.fetch(_SIDE_SQL, ids)}
        if len(sides) != 2:
            raise not_found(f"duplicate candidate {candidate_id}")
        for customer_id in ids:
            await audit.record(
                audit.Action.VIEW, records.ENTITY_CUSTOMER, customer_id,
                branch_id=sides[customer_id]["branch_id"],
                after={"screen": "duplicate", "candidate_id": candidate_id},
            )  # fmt: skip
    left, right = sides[ids[0]], sides[ids[1]]
    same = [
        "id_number" if f == "id_number_hash" else f
        for f in _COMPARED
        if left[f] is not None and left[f] == right[f]
    ]
    return ComparisonOut(candidate=_candidate(row), left=_side(left), right=_side(right), same=same)


async def dismiss(candidate_id: int, note: str) -> CandidateOut:
    """Not duplicates: the pair leaves the queue and no later run proposes it again."""
    scope = require_scope()
    async with db.transaction():
        row = await db.fetchrow(f"SELECT * FROM {CANDIDATE} WHERE id = $1 FOR UPDATE", candidate_id)
        if row is None:
            raise not_found(f"duplicate candidate {candidate_id}")
        if row["status"] != "open":
            raise Problem(409, f"the pair is already {row['status']}", code="state")
        await db.fetch(
            f"UPDATE {CANDIDATE} SET status = 'dismissed', decided_by = $2, decided_at = now()"
            " WHERE id = $1",
            candidate_id, scope.user_id,
        )  # fmt: skip
        await audit.record(
            audit.Action.UPDATE, ENTITY_CANDIDATE, candidate_id, branch_id=row["branch_id"],
            before={"status": "open"}, after={"status": "dismissed"}, reason=note.strip(),
        )  # fmt: skip
        return _candidate(await _fetch(candidate_id))


async def candidate_pair(candidate_id: int) -> tuple[int, int]:
    row = await db.fetchrow(
        f"SELECT customer_low, customer_high, status FROM {CANDIDATE} WHERE id = $1",
        candidate_id,
    )
    if row is None:
        raise not_found(f"duplicate candidate {candidate_id}")
    if row["status"] != "open":
        raise Problem(409, f"the pair is already {row['status']}", code="state")
    return row["customer_low"], row["customer_high"]
