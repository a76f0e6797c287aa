"""Per-branch settings of sales (``register_settings``): the pipeline and the follow-up
discipline. Stored with the plugin's enablement of a branch and inherited by its
sub-branches; changed through ``PUT /api/v1/branches/{id}/plugins/sales/settings`` and
read with :func:`bankcrm.branches.plugin_settings`. A bad pipeline is refused when saved
(422 naming the problem), so the services can trust what they read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from bankcrm import branches

StageCode = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Criterion = Literal["products", "expected_close", "competitor", "amount", "activity"]
"""What an opportunity must have before it may enter a stage."""
Hours = Annotated[float, Meta(ge=0, le=24 * 365)]


class StageSpec(Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    code: StageCode
    name: Annotated[str, Meta(min_length=1, max_length=40)]
    name_en: Annotated[str, Meta(min_length=1, max_length=40)]
    probability: Annotated[int, Meta(ge=0, le=100)]
    """Default win probability (%) of an opportunity entering the stage."""
    outcome: Literal["open", "won", "lost"] = "open"
    entry_criteria: tuple[Criterion, ...] = ()


DEFAULT_STAGES: tuple[StageSpec, ...] = (
    StageSpec(code="discovery", name="需求挖掘", name_en="Discovery", probability=10),
    StageSpec(
        code="qualified", name="商机确认", name_en="Qualified", probability=30,
        entry_criteria=("expected_close",),
    ),
    StageSpec(
        code="proposal", name="方案报价", name_en="Proposal", probability=60,
        entry_criteria=("products", "expected_close"),
    ),
    StageSpec(
        code="negotiation", name="谈判审批", name_en="Negotiation", probability=80,
        entry_criteria=("products", "activity"),
    ),
    StageSpec(
        code="won", name="赢单", name_en="Won", probability=100, outcome="won",
        entry_criteria=("products",),
    ),
    StageSpec(code="lost", name="输单", name_en="Lost", probability=0, outcome="lost"),
)  # fmt: skip


class SalesSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    stages: tuple[StageSpec, ...] = field(default_factory=lambda: DEFAULT_STAGES)
    """The pipeline in order: open stages first, then exactly one ``won`` and one ``lost``."""
    first_follow_up_hours: Hours = 8
    """A new lead or opportunity is due for its first follow-up this many business hours
    after it is created (or assigned)."""
    remind_before_hours: Hours = 2
    """The owner is reminded this many business hours before a follow-up is due."""
    escalate_after_hours: Hours = 8
    """Overdue by this many business hours: the owner's manager is told, the item flagged."""
    reassign_after_hours: Hours = 16
    """Still idle this many business hours after the escalation: reassigned by the rules."""

    def __post_init__(self) -> None:
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise ValueError("stages: each stage code must be unique")
        outcomes = [s.outcome for s in self.stages]
        if outcomes.count("won") != 1 or outcomes.count("lost") != 1:
            raise ValueError("stages: exactly one won and one lost stage are required")
        if (
            "open" not in outcomes
            or outcomes.index("won") < len(outcomes) - 2
            or any(o != "open" for o in outcomes[:-2])
        ):
            raise ValueError("stages: open stages first, then the won and the lost stage")
        if self.reassign_after_hours <= 0 or self.escalate_after_hours <= 0:
            raise ValueError("escalate_after_hours and reassign_after_hours must be positive")

    def stage(self, code: str) -> StageSpec | None:
        return next((s for s in self.stages if s.code == code), None)

    def position(self, code: str) -> int:
        return [s.code for s in self.stages].index(code)

    @property
    def open_stages(self) -> tuple[StageSpec, ...]:
        return tuple(s for s in self.stages if s.outcome == "open")


async def for_branch(branch_id: int) -> SalesSettings:
    return await branches.plugin_settings("sales", branch_id, SalesSettings)
