"""REST for the duplicate review queue and merges (``/api/v1/customer_archive``)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm import db
from bankcrm.jobs import enqueue
from bankcrm.plugin_api import plugin_hooks
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid
from bankcrm_customer_archive.access import DUPLICATE_READ, DUPLICATE_REVIEW, MERGE_APPROVE
from bankcrm_customer_archive.dedupe import merging, review
from bankcrm_customer_archive.dedupe.actors import dedupe_archive
from bankcrm_customer_archive.dedupe.merging import MergeOut
from bankcrm_customer_archive.dedupe.review import CandidateOut, ComparisonOut

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Note = Annotated[str, msgspec.Meta(max_length=500)]
Limit = Annotated[int, QueryParameter(description="1 to 200")]
Cursor = Annotated[str | None, QueryParameter(max_length=512)]


class DismissIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Note = ""


class MergeRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    survivor_id: Id | None = None
    """Which customer survives; default: the older one (smaller id)."""
    note: Note = ""


class DirectMergeIn(msgspec.Struct, forbid_unknown_fields=True):
    survivor_id: Id
    merged_id: Id
    note: Note = ""


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Note = ""


class RunOut(msgspec.Struct):
    message_id: str


class DuplicateController(Controller):
    path = "/duplicates"
    tags = ("customer_archive: duplicates",)

    @get("/", opt={"permission": DUPLICATE_READ})
    async def list_candidates(
        self,
        status: Annotated[Literal["open", "merged", "dismissed"], QueryParameter()] = "open",
        min_probability: Annotated[float, QueryParameter(ge=0, le=1)] = 0.0,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[CandidateOut]:
        """Candidate pairs, most probable first (keyset pages), with their reasons."""
        check_limit(limit)
        return await review.list_candidates(status, min_probability, limit, cursor)

    @get("/{candidate_id:int}", opt={"permission": DUPLICATE_READ})
    async def compare(self, candidate_id: FromPath[int]) -> ComparisonOut:
        """The two customers side by side (masked); the view is audited."""
        return await review.compare(candidate_id)

    @post("/{candidate_id:int}/dismiss", opt={"permission": DUPLICATE_REVIEW}, status_code=200)
    async def dismiss(self, candidate_id: FromPath[int], data: JSONBody[DismissIn]) -> CandidateOut:
        """Not duplicates: never proposed again."""
        return await review.dismiss(candidate_id, data.note)

    @post("/{candidate_id:int}/merge", opt={"permission": DUPLICATE_REVIEW})
    async def request_merge(
        self, candidate_id: FromPath[int], data: JSONBody[MergeRequestIn]
    ) -> MergeOut:
        """Request the merge of the pair; a second person approves it."""
        low, high = await review.candidate_pair(candidate_id)
        survivor = data.survivor_id or low
        if survivor not in (low, high):
            raise invalid("body.survivor_id", "must be one of the pair's customers")
        merged = high if survivor == low else low
        return await merging.request_merge(
            survivor, merged, note=data.note, candidate_id=candidate_id
        )

    @post("/runs", opt={"permission": DUPLICATE_REVIEW}, status_code=202)
    async def start_run(self) -> RunOut:
        """Queue a detection run over every customer in your scope."""
        async with db.transaction():
            return RunOut(await enqueue(dedupe_archive))


class MergeController(Controller):
    path = "/merges"
    tags = ("customer_archive: duplicates",)

    @get("/", opt={"permission": DUPLICATE_READ})
    async def list_merges(
        self,
        status: Annotated[
            Literal["requested", "merged", "rejected", "unmerged"] | None, QueryParameter()
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[MergeOut]:
        """Merge requests and merges, newest first."""
        check_limit(limit)
        after = decode_cursor(cursor, (int,))
        items = await merging.list_merges(status, limit + 1, after[0] if after else None)
        next_cursor = encode_cursor([items[limit - 1].id]) if len(items) > limit else None
        return Page(items[:limit], next_cursor)

    @post("/", opt={"permission": DUPLICATE_REVIEW})
    async def request_merge(self, data: JSONBody[DirectMergeIn]) -> MergeOut:
        """Request a merge of two customers found by hand (a second person approves)."""
        return await merging.request_merge(data.survivor_id, data.merged_id, note=data.note)

    @get("/{merge_id:int}", opt={"permission": DUPLICATE_READ})
    async def detail(self, merge_id: FromPath[int]) -> MergeOut:
        return await merging.get_merge(merge_id)

    @post("/{merge_id:int}/approve", opt={"permission": MERGE_APPROVE}, status_code=200)
    async def approve(self, merge_id: FromPath[int], data: JSONBody[DecisionIn]) -> MergeOut:
        """Carry the merge out (never by its requester)."""
        return await merging.approve_merge(merge_id, plugin_hooks())

    @post("/{merge_id:int}/reject", opt={"permission": MERGE_APPROVE}, status_code=200)
    async def reject(self, merge_id: FromPath[int], data: JSONBody[DecisionIn]) -> MergeOut:
        return await merging.reject_merge(merge_id, data.note)

    @post("/{merge_id:int}/unmerge", opt={"permission": MERGE_APPROVE}, status_code=200)
    async def unmerge(self, merge_id: FromPath[int], data: JSONBody[DecisionIn]) -> MergeOut:
        """Restore both customers exactly as before the merge."""
        return await merging.unmerge(merge_id, plugin_hooks(), data.note)


DEDUPE_ROUTES = [DuplicateController, MergeController]
