"""REST for the product catalogue (under ``/api/v1/customer_archive``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm_customer_archive.access import PRODUCT_READ, PRODUCT_WRITE
from bankcrm_customer_archive.products import services as products
from bankcrm_customer_archive.schemas import ProductIn, ProductOut, ProductPatch


class ProductController(Controller):
    path = "/products"
    tags = ("customer_archive: products",)

    @get("/", opt={"permission": PRODUCT_READ})
    async def list_products(
        self,
        category: Annotated[
            Literal["deposit", "loan", "card", "wealth"] | None, QueryParameter()
        ] = None,
        segment: Annotated[Literal["individual", "corporate"] | None, QueryParameter()] = None,
        active: Annotated[bool | None, QueryParameter()] = None,
    ) -> list[ProductOut]:
        return await products.list_products(category, segment, active)

    @get("/{product_id:int}", opt={"permission": PRODUCT_READ})
    async def detail(self, product_id: FromPath[int]) -> ProductOut:
        return await products.get_product(product_id)

    @post("/", opt={"permission": PRODUCT_WRITE})
    async def create(self, data: JSONBody[ProductIn]) -> ProductOut:
        return await products.create_product(data)

    @patch("/{product_id:int}", opt={"permission": PRODUCT_WRITE})
    async def update(self, product_id: FromPath[int], data: JSONBody[ProductPatch]) -> ProductOut:
        return await products.update_product(product_id, data)


PRODUCT_ROUTES: list[Any] = [ProductController]
