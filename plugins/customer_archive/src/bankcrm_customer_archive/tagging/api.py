"""REST for tags: each branch's tag vocabulary, a customer's manual tags and rule tags (under
``/api/v1/customer_archive``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm_customer_archive.access import CUSTOMER_READ, CUSTOMER_WRITE, TAG_READ, TAG_WRITE
from bankcrm_customer_archive.schemas import CustomerTagIn, TagIn, TagOut, TagPatch
from bankcrm_customer_archive.tagging import services as tagging

TagBranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description=("Only this branch and its sub-branches")),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's rules"),
]


class TagRuleController(Controller):
    path = "/tag-rules"
    tags = ("customer_archive: tags",)

    @get("/", opt={"permission": TAG_READ})
    async def list_rules(self, branch_id: BranchQuery = None) -> list[tagging.RuleOut]:
        """Rule tags of the branches in your scope, with their last evaluation."""
        return await tagging.list_rules(branch_id)

    @post("/", opt={"permission": TAG_WRITE})
    async def create(self, data: JSONBody[tagging.RuleIn]) -> tagging.RuleOut:
        """Create a rule tag: a tag of kind ``rule`` and the customer filter that assigns
        it (422 with ``body.criteria.<field>`` errors for a filter that cannot be used)."""
        return await tagging.create_rule(data)

    @post("/preview", opt={"permission": TAG_WRITE}, status_code=200)
    async def preview(self, data: JSONBody[tagging.PreviewIn]) -> tagging.PreviewOut:
        """How many of the branch's customers the criteria select now; nothing is saved."""
        return await tagging.preview(data)

    @get("/{rule_id:int}", opt={"permission": TAG_READ})
    async def detail(self, rule_id: FromPath[int]) -> tagging.RuleOut:
        return await tagging.get_rule(rule_id)

    @patch("/{rule_id:int}", opt={"permission": TAG_WRITE})
    async def update(
        self, rule_id: FromPath[int], data: JSONBody[tagging.RulePatch]
    ) -> tagging.RuleOut:
        """Change the criteria, description or activity (links follow at the next
        evaluation)."""
        return await tagging.update_rule(rule_id, data)

    @delete("/{rule_id:int}", opt={"permission": TAG_WRITE}, status_code=204)
    async def remove(self, rule_id: FromPath[int]) -> None:
        """Delete the rule, its tag and every link of the tag."""
        await tagging.delete_rule(rule_id)

    @post("/{rule_id:int}/evaluate", opt={"permission": TAG_WRITE}, status_code=202)
    async def evaluate(self, rule_id: FromPath[int]) -> tagging.EvaluationQueued:
        """Queue an evaluation of the rule now; the rule shows its counts when done."""
        return await tagging.enqueue_evaluation(rule_id)


class CustomerTagController(Controller):
    path = "/customers/{customer_id:int}/tags"
    tags = ("customer_archive: tags",)

    @get("/", opt={"permission": CUSTOMER_READ})
    async def list_customer_tags(self, customer_id: FromPath[int]) -> list[TagOut]:
        return await tagging.list_customer_tags(customer_id)

    @post("/", opt={"permission": CUSTOMER_WRITE}, status_code=200)
    async def add(self, customer_id: FromPath[int], data: JSONBody[CustomerTagIn]) -> list[TagOut]:
        """Tag the customer (idempotent); answers the customer's tags."""
        return await tagging.tag_customer(customer_id, data)

    @delete("/{tag_id:int}", opt={"permission": CUSTOMER_WRITE}, status_code=204)
    async def remove(self, customer_id: FromPath[int], tag_id: FromPath[int]) -> None:
        await tagging.untag_customer(customer_id, tag_id)


class TagController(Controller):
    path = "/tags"
    tags = ("customer_archive: tags",)

    @get("/", opt={"permission": TAG_READ})
    async def list_tags(self, branch_id: TagBranchQuery = None) -> list[TagOut]:
        """Tags of the branches in your scope (each branch has its own)."""
        return await tagging.list_tags(branch_id)

    @post("/", opt={"permission": TAG_WRITE})
    async def create(self, data: JSONBody[TagIn]) -> TagOut:
        return await tagging.create_tag(data)

    @patch("/{tag_id:int}", opt={"permission": TAG_WRITE})
    async def update(self, tag_id: FromPath[int], data: JSONBody[TagPatch]) -> TagOut:
        return await tagging.update_tag(tag_id, data)

    @delete("/{tag_id:int}", opt={"permission": TAG_WRITE}, status_code=204)
    async def remove(self, tag_id: FromPath[int]) -> None:
        """Delete the tag and remove it from its customers."""
        await tagging.delete_tag(tag_id)


TAGGING_ROUTES: list[Any] = [TagRuleController, CustomerTagController, TagController]
