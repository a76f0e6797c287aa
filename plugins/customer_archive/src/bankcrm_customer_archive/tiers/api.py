"""REST for value tiers (under ``/api/v1/customer_archive``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from bankcrm_customer_archive.access import TIER_MANAGE
from bankcrm_customer_archive.schemas import Id
from bankcrm_customer_archive.tiers import services as tiers


class RecomputeIn(Struct, forbid_unknown_fields=True, kw_only=True):
    branch_id: Id | None = None
    """This branch and its sub-branches (within your scope); default: your whole scope."""


class RecomputeQueued(Struct):
    message_id: str
    branch_ids: list[int]


class TierController(Controller):
    path = "/value-tiers"
    tags = ("customer_archive: value tiers",)

    @post("/recompute", opt={"permission": TIER_MANAGE}, status_code=202)
    async def recompute(self, data: JSONBody[RecomputeIn]) -> RecomputeQueued:
        """Queue a recomputation of value tiers with each branch's thresholds (set them in
        the plugin settings, ``value_tiers``)."""
        message_id, branch_ids = await tiers.enqueue_recompute(data.branch_id)
        return RecomputeQueued(message_id, branch_ids)


class CustomerTierOut(Struct):
    customer_id: int
    value_tier: str | None


class CustomerTierController(Controller):
    path = "/customers/{customer_id:int}"
    tags = ("customer_archive: customers",)

    @post("/value-tier", opt={"permission": TIER_MANAGE}, status_code=200)
    async def recompute_tier(self, customer_id: FromPath[int]) -> CustomerTierOut:
        """Recompute this customer's value tier now (a change is kept in the rating
        history)."""
        return CustomerTierOut(customer_id, await tiers.recompute_customer_tier(customer_id))


TIER_ROUTES: list[Any] = [TierController, CustomerTierController]
