"""REST for customers, their addresses, contacts and holdings (under
``/api/v1/customer_archive``): thin handlers over :mod:`.services`.

The kernel's central guards check the actor, the plugin's enablement and the permission
each handler names in ``opt``; row-level security decides which rows exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.plugin_api import plugin_hooks
from bankcrm.web.pagination import Page, check_limit
from bankcrm_customer_archive.access import (
    CUSTOMER_READ,
    CUSTOMER_WRITE,
    HOLDING_READ,
    HOLDING_WRITE,
    PII_REVEAL,
)
from bankcrm_customer_archive.customers import services
from bankcrm_customer_archive.schemas import (
    AddressIn,
    AddressOut,
    AddressPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    Customer360,
    CustomerDetail,
    CustomerIn,
    CustomerPatch,
    HoldingIn,
    HoldingOut,
    HoldingPatch,
    RevealedPii,
    RevealIn,
)
from bankcrm_customer_archive.search.api import CustomerSearchMixin
from bankcrm_customer_archive.timeline import TimelineItem, customer_timeline
from bankcrm_customer_archive.view_360.services import customer_360

BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description=("Only this branch and its sub-branches")),
]
PathId = FromPath[int]


class CustomerController(CustomerSearchMixin, Controller):
    path = "/customers"
    tags = ("customer_archive: customers",)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def create(self, data: JSONBody[CustomerIn]) -> CustomerDetail:
        """Create a customer (with addresses, contacts and tags of its branch)."""
        return await services.create_customer(data)

    @get("/{customer_id:int}", opt={"permission": CUSTOMER_READ})
    async def detail(self, customer_id: PathId) -> CustomerDetail:
        """One customer with addresses, contacts and tags (masked); the view is audited."""
        return await services.get_customer(customer_id)

    @patch("/{customer_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(self, customer_id: PathId, data: JSONBody[CustomerPatch]) -> CustomerDetail:
        """Change the given fields only."""
        return await services.update_customer(customer_id, data)

    @delete("/{customer_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId) -> None:
        """Soft-delete a customer whose accounts are all closed."""
        await services.delete_customer(customer_id)

    @get("/{customer_id:int}/timeline", opt={"permission": CUSTOMER_READ})
    async def timeline(
        self,
        customer_id: PathId,
        limit: Annotated[int, QueryParameter(description="1 to 200")] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> Page[TimelineItem]:
        """The customer's timeline: dated items of every module enabled for the customer's
        branch (accounts opened, ratings, contracts, and what other modules add), newest
        first, in keyset pages."""
        check_limit(limit)
        return await customer_timeline(customer_id, plugin_hooks(), limit, cursor)

    @get("/{customer_id:int}/360", opt={"permission": CUSTOMER_READ})
    async def view_360(self, customer_id: PathId) -> Customer360:
        """The 360 view: sections of every plugin enabled for the customer's branch."""
        return await customer_360(customer_id, plugin_hooks())

    @post("/{customer_id:int}/reveal", opt={"permission": PII_REVEAL}, status_code=200)
    async def reveal(self, customer_id: PathId, data: JSONBody[RevealIn]) -> RevealedPii:
        """Personal data in clear, for a stated reason; audited as ``reveal``."""
        return await services.reveal_customer(customer_id, data.reason, data.fields)


class AddressController(Controller):
    path = "/customers/{customer_id:int}/addresses"
    tags = ("customer_archive: customers",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_addresses(self, customer_id: PathId) -> list[AddressOut]:
        return await services.list_addresses(customer_id)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def add(self, customer_id: PathId, data: JSONBody[AddressIn]) -> AddressOut:
        return await services.add_address(customer_id, data)

    @patch("/{address_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(
        self, customer_id: PathId, address_id: FromPath[int], data: JSONBody[AddressPatch]
    ) -> AddressOut:
        return await services.update_address(customer_id, address_id, data)

    @delete("/{address_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId, address_id: FromPath[int]) -> None:
        await services.delete_address(customer_id, address_id)


class ContactController(Controller):
    path = "/customers/{customer_id:int}/contacts"
    tags = ("customer_archive: customers",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_contacts(self, customer_id: PathId) -> list[ContactOut]:
        return await services.list_contacts(customer_id)

    @post("/", opt={"permission": CUSTOMER_WRITE})
    async def add(self, customer_id: PathId, data: JSONBody[ContactIn]) -> ContactOut:
        return await services.add_contact(customer_id, data)

    @patch("/{contact_id:int}", opt={"permission": CUSTOMER_WRITE})
    async def update(
        self, customer_id: PathId, contact_id: FromPath[int], data: JSONBody[ContactPatch]
    ) -> ContactOut:
        return await services.update_contact(customer_id, contact_id, data)

    @delete("/{contact_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId, contact_id: FromPath[int]) -> None:
        await services.delete_contact(customer_id, contact_id)


class HoldingController(Controller):
    path = "/customers/{customer_id:int}/holdings"
    tags = ("customer_archive: holdings",)

    @get("/", opt={"permission": HOLDING_READ})
    async def list_holdings(self, customer_id: PathId) -> list[HoldingOut]:
        return await services.list_holdings(customer_id)

    @post("/", opt={"permission": HOLDING_WRITE})
    async def add(self, customer_id: PathId, data: JSONBody[HoldingIn]) -> HoldingOut:
        return await services.add_holding(customer_id, data)

    @patch("/{holding_id:int}", opt={"permission": HOLDING_WRITE})
    async def update(
        self, customer_id: PathId, holding_id: FromPath[int], data: JSONBody[HoldingPatch]
    ) -> HoldingOut:
        return await services.update_holding(customer_id, holding_id, data)

    @delete("/{holding_id:int}", opt={"permission": HOLDING_WRITE}, status_code=204)
    async def remove(self, customer_id: PathId, holding_id: FromPath[int]) -> None:
        await services.delete_holding(customer_id, holding_id)


CUSTOMER_ROUTES: list[Any] = [
    CustomerController,
    AddressController,
    ContactController,
    HoldingController,
]
