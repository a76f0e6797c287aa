"""REST API of the customer profile (:mod:`.profile`) under ``/api/v1/customer_archive``.

Contract documents are uploaded as ``multipart/form-data`` (field ``file``) and served only
by the download route below, which runs under the caller's scope (404 outside it) and
audits each download as a view.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid
from bankcrm_customer_archive.access import (
    CONTRACT_READ,
    CONTRACT_WRITE,
    CUSTOMER_READ,
    CUSTOMER_WRITE,
    HOLDING_READ,
    RATING_WRITE,
)
from bankcrm_customer_archive.profile import services as profile
from bankcrm_customer_archive.profile.schemas import (
    AumHistory,
    BalancePoint,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    ContractIn,
    ContractOut,
    ContractPatch,
    DocumentOut,
    HouseholdIn,
    HouseholdMemberIn,
    HouseholdOut,
    HouseholdPatch,
    RatingIn,
    RatingOut,
    RelationIn,
    RelationOut,
    RelationPatch,
)

PathId = FromPath[int]
DateFrom = Annotated[date | None, QueryParameter(description="First day (default: 90 days ago)")]
DateTo = Annotated[date | None, QueryParameter(description="Last day (default: today)")]
Cursor = Annotated[str | None, QueryParameter(max_length=512)]
Limit = Annotated[int, QueryParameter(description="1 to 200")]
RatingKindQuery = Annotated[
    Literal["credit_grade", "risk_tolerance", "value_tier"] | None, QueryParameter()
]
UPLOAD_LIMIT = profile.MAX_DOCUMENT_BYTES + 64 * 1024
"""The body limit of the upload route: the largest document plus the multipart framing
(a larger body is refused with 413 before it is read into memory)."""


class ChannelController(Controller):
    path = "/customers/{customer_id:int}/channels"
    tags = ("customer_archive: profile",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_channels(self, customer_id: PathId) -> list[ChannelOut]:
        """Contact channels (mobile, phone, e-mail, WeChat, fax); numbers masked."""
        return await profile.list_channels(customer_id)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def add(self, customer_id: PathId, data: JSONBody[ChannelIn]) -> ChannelOut:
        return await profile.add_channel(customer_id, data)

    @patch("/{channel_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(
        self, customer_id: PathId, channel_id: FromPath[int], data: JSONBody[ChannelPatch]
    ) -> ChannelOut:
        return await profile.update_channel(customer_id, channel_id, data)

    @delete("/{channel_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId, channel_id: FromPath[int]) -> None:
        await profile.delete_channel(customer_id, channel_id)


class RelationController(Controller):
    path = "/customers/{customer_id:int}/relations"
    tags = ("customer_archive: profile",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_relations(self, customer_id: PathId) -> list[RelationOut]:
        """The customer's relations, and one-way relations that name it (``incoming``)."""
        return await profile.list_relations(customer_id)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def add(self, customer_id: PathId, data: JSONBody[RelationIn]) -> RelationOut:
        """Relate to another customer you can see; family kinds are mirrored."""
        return await profile.add_relation(customer_id, data)

    @patch("/{relation_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(
        self, customer_id: PathId, relation_id: FromPath[int], data: JSONBody[RelationPatch]
    ) -> RelationOut:
        return await profile.update_relation(customer_id, relation_id, data)

    @delete("/{relation_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId, relation_id: FromPath[int]) -> None:
        await profile.delete_relation(customer_id, relation_id)


class HouseholdController(Controller):
    path = "/households"
    tags = ("customer_archive: profile",)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def create(self, data: JSONBody[HouseholdIn]) -> HouseholdOut:
        """A household in the head's branch (each customer in one household at most)."""
        return await profile.create_household(data)

    @get("/{household_id:int}", opt={"permission": CUSTOMER_READ})
    async def detail(self, household_id: FromPath[int]) -> HouseholdOut:
        return await profile.get_household(household_id)

    @patch("/{household_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(
        self, household_id: FromPath[int], data: JSONBody[HouseholdPatch]
    ) -> HouseholdOut:
        return await profile.update_household(household_id, data)

    @delete("/{household_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, household_id: FromPath[int]) -> None:
        await profile.delete_household(household_id)

    @post("/{household_id:int}/members", opt={"permission": CUSTOMER_WRITE})
    async def add_member(
        self, household_id: FromPath[int], data: JSONBody[HouseholdMemberIn]
    ) -> HouseholdOut:
        return await profile.add_household_member(household_id, data.customer_id)

    @delete(
        "/{household_id:int}/members/{customer_id:int}",
        opt={"permission": CUSTOMER_WRITE},
        status_code=204,
    )
    async def remove_member(self, household_id: FromPath[int], customer_id: PathId) -> None:
        await profile.remove_household_member(household_id, customer_id)


class CustomerHouseholdController(Controller):
    path = "/customers/{customer_id:int}/household"
    tags = ("customer_archive: profile",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def household(self, customer_id: PathId) -> HouseholdOut | None:
        """The customer's household, or null."""
        return await profile.household_of(customer_id)


class SnapshotController(Controller):
    path = "/customers/{customer_id:int}/aum"
    tags = ("customer_archive: holdings",)

    @get("/", opt={"permission": HOLDING_READ})
    async def aum(
        self, customer_id: PathId, date_from: DateFrom = None, date_to: DateTo = None
    ) -> AumHistory:
        """Daily assets under management in CNY (asset holdings only), oldest first."""
        return await profile.aum_history(customer_id, date_from, date_to)


class BalanceController(Controller):
    path = "/holdings/{holding_id:int}/balances"
    tags = ("customer_archive: holdings",)

    @get("/", opt={"permission": HOLDING_READ})
    async def balances(
        self, holding_id: FromPath[int], date_from: DateFrom = None, date_to: DateTo = None
    ) -> list[BalancePoint]:
        """Daily balance snapshots of one holding, oldest first."""
        return await profile.balance_history(holding_id, date_from, date_to)


class CustomerContractController(Controller):
    path = "/customers/{customer_id:int}/contracts"
    tags = ("customer_archive: contracts",)

    @get("/", opt={"permission": CONTRACT_READ})
    async def list_contracts(self, customer_id: PathId) -> list[ContractOut]:
        return await profile.list_contracts(customer_id)

    @post("/", opt={"permission": CONTRACT_WRITE})
    async def create(self, customer_id: PathId, data: JSONBody[ContractIn]) -> ContractOut:
        """A contract; its number is unique within the customer's branch."""
        return await profile.create_contract(customer_id, data)


class ContractController(Controller):
    path = "/contracts/{contract_id:int}"
    tags = ("customer_archive: contracts",)

    @get("/", opt={"permission": CONTRACT_READ})
    async def detail(self, contract_id: FromPath[int]) -> ContractOut:
        return await profile.get_contract(contract_id)

    @patch("/", opt={"permission": CONTRACT_WRITE})
    async def update(
        self, contract_id: FromPath[int], data: JSONBody[ContractPatch]
    ) -> ContractOut:
        return await profile.update_contract(contract_id, data)

    @delete("/", opt={"permission": CONTRACT_WRITE}, status_code=204)
    async def remove(self, contract_id: FromPath[int]) -> None:
        """Delete a draft contract (and its documents); others are terminated instead."""
        await profile.delete_contract(contract_id)

    @get("/documents", opt={"permission": CONTRACT_READ})
    async def list_documents(self, contract_id: FromPath[int]) -> list[DocumentOut]:
        return await profile.list_documents(contract_id)

    @post(
        "/documents",
        opt={"permission": CONTRACT_WRITE, "body": "multipart"},
        request_max_body_size=UPLOAD_LIMIT,
        description="Body: ``multipart/form-data`` with the document in the file part ``file``.",
    )
    async def upload(
        self, contract_id: FromPath[int], request: Request[Any, Any, Any]
    ) -> DocumentOut:
        """Attach a PDF, PNG, JPEG, DOCX or XLSX document (field ``file``, at most 20 MiB)."""
        try:
            form = await request.form()
        except HTTPException:
            raise
        except Exception as exc:  # the parser fails on, e.g., fields that are not UTF-8
            raise Problem(
                400,
                "the body is not readable multipart/form-data",
                [FieldError("body", "send multipart/form-data with a file part named file")],
                "invalid",
            ) from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            await profile.list_documents(contract_id)  # 404 first for a contract not visible
            raise invalid("body.file", "send the document as a multipart file part named file")
        content = await upload.read(profile.MAX_DOCUMENT_BYTES + 1)
        return await profile.upload_document(
            contract_id, upload.filename, upload.content_type, content
        )


class DocumentController(Controller):
    path = "/contract-documents/{document_id:int}"
    tags = ("customer_archive: contracts",)

    @get("/", opt={"permission": CONTRACT_READ, "media_types": profile.ALLOWED_TYPES})
    async def download(self, document_id: FromPath[int]) -> Response[bytes]:
        """The document itself; each download is audited as a view."""
        document = await profile.read_document(document_id)
        return Response(
            document.content,
            media_type=document.content_type,
            headers={
                "Content-Disposition": "attachment; filename*=UTF-8''"
                + quote(document.filename, safe=""),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
                "ETag": f'"{document.sha256}"',
            },
        )

    @delete("/", opt={"permission": CONTRACT_WRITE}, status_code=204)
    async def remove(self, document_id: FromPath[int]) -> None:
        await profile.delete_document(document_id)


class RatingController(Controller):
    path = "/customers/{customer_id:int}/ratings"
    tags = ("customer_archive: profile",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def history(
        self,
        customer_id: PathId,
        kind: RatingKindQuery = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[RatingOut]:
        """Rating history with who rated and when, newest first (keyset pages)."""
        check_limit(limit)
        after = decode_cursor(cursor, (int,))
        rows = await profile.list_ratings(customer_id, kind, limit + 1, after[0] if after else None)
        items = rows[:limit]
        return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)

    # A rating has no address of its own: it is an entry of the customer's rating history.
    @post(
        "/",
        opt={
            "permission": RATING_WRITE,
            "location": "/api/v1/customer_archive/customers/{customer_id}/ratings",
        },
    )
    async def rate(self, customer_id: PathId, data: JSONBody[RatingIn]) -> RatingOut:
        """Rate the customer; the history keeps every rating, the customer the latest."""
        return await profile.rate(customer_id, data)


PROFILE_ROUTES = [
    ChannelController,
    RelationController,
    HouseholdController,
    CustomerHouseholdController,
    SnapshotController,
    BalanceController,
    CustomerContractController,
    ContractController,
    DocumentController,
    RatingController,
]
