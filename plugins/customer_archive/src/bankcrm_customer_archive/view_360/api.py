"""REST for the customer portrait (under ``/api/v1/customer_archive``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import FromPath

from bankcrm_customer_archive.access import CUSTOMER_READ
from bankcrm_customer_archive.view_360 import portrait


class PortraitController(Controller):
    path = "/customers/{customer_id:int}"
    tags = ("customer_archive: customers",)

    @get("/portrait", opt={"permission": CUSTOMER_READ})
    async def get_portrait(self, customer_id: FromPath[int]) -> portrait.Portrait:
        """The customer portrait (画像): tier, AUM and trend, product mix, tags, ratings,
        tenure, activity and derived traits; personal data masked; the view is audited."""
        return await portrait.portrait(customer_id)


PORTRAIT_ROUTES: list[Any] = [PortraitController]
