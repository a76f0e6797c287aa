"""REST routes of mining, mounted under ``/api/v1/mining``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_mining import access, registry

READ = {"permission": access.MODEL_READ}

NameQuery = Annotated[str | None, QueryParameter(max_length=100, description="Only this model")]
TaskQuery = Annotated[registry.Task | None, QueryParameter(description="Only this task")]
StatusQuery = Annotated[registry.Status | None, QueryParameter(description="Only this status")]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class ModelController(Controller):
    path = "/models"
    tags = ("mining: models",)

    @get("/", opt=READ)
    async def list_models(
        self,
        name: NameQuery = None,
        task: TaskQuery = None,
        status: StatusQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[registry.ModelOut]:
        """Model versions, newest first; pass ``next_cursor`` back as ``cursor``."""
        check_limit(limit)
        return await registry.list_models(
            name=name, task=task, status=status, limit=limit, cursor=cursor
        )

    @post(
        "/",
        opt={"permission": access.MODEL_WRITE, "location": "/api/v1/mining/models/{id}"},
    )
    async def register(self, data: JSONBody[registry.ModelIn]) -> registry.ModelOut:
        """Register the next version of a model as a draft (stored as data, not pickled)."""
        return await registry.register_model(data)

    @get("/{model_id:int}", opt=READ)
    async def detail(self, model_id: FromPath[int]) -> registry.ModelOut:
        return await registry.get_model(model_id)

    @post("/{model_id:int}/approve", opt={"permission": access.MODEL_APPROVE}, status_code=200)
    async def approve(self, model_id: FromPath[int]) -> registry.ModelOut:
        """Approve a draft for production scoring; never the person who registered it."""
        return await registry.approve_model(model_id)

    @post("/{model_id:int}/retire", opt={"permission": access.MODEL_WRITE}, status_code=200)
    async def retire(self, model_id: FromPath[int]) -> registry.ModelOut:
        """Take a version out of use (rollback: the previous approved version scores)."""
        return await registry.retire_model(model_id)


ROUTES: list[Any] = [ModelController]
