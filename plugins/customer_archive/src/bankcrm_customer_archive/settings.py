"""Per-branch settings of the customer archive (one msgspec Struct, ``register_settings``).

Stored with the plugin's enablement of a branch and inherited by its sub-branches; changed
through ``PUT /api/v1/branches/{id}/plugins/customer_archive/settings`` (the whole struct,
validated against these types) and read with :func:`bankcrm.branches.plugin_settings`.
Every field has a default, so a branch that stored nothing gets the bank's defaults.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

Yuan = Annotated[int, Meta(ge=0, le=10**15)]
CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
FxRate = Annotated[float, Meta(gt=0, le=100_000)]
DEFAULT_FX_RATES: dict[str, float] = {
    "USD": 7.10, "EUR": 7.70, "HKD": 0.91, "JPY": 0.048, "GBP": 9.00,
}  # fmt: skip
"""Indicative rates; each bank sets its own per branch (a rates feed may write them)."""


class ValueTierSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Thresholds of the value tiers (客户价值分层), in whole CNY of assets under management.

    A customer is ``private`` (私行) from ``private_min_aum``, ``wealth`` (财富) from
    ``wealth_min_aum``, ``affluent`` (富裕) from ``affluent_min_aum``, else ``mass`` (大众).
    See :mod:`bankcrm_customer_archive.tiers.services` for how AUM and dormancy are measured.
    """

    private_min_aum: Yuan = 6_000_000
    wealth_min_aum: Yuan = 600_000
    affluent_min_aum: Yuan = 50_000
    aum_basis: Literal["average", "current"] = "average"
    """``average``: the mean of the daily AUM snapshots of the last ``average_days`` days
    when the customer has any, else the current balance; ``current``: always the current
    balance of the open asset holdings."""
    average_days: Annotated[int, Meta(ge=1, le=366)] = 90
    dormant_after_days: Annotated[int, Meta(ge=0, le=3650)] = 365
    """A customer with no activity for this many days (or with status ``dormant``) is
    placed one tier lower (mass stays mass); 0 switches the rule off."""

    def __post_init__(self) -> None:
        if not self.private_min_aum > self.wealth_min_aum > self.affluent_min_aum:
            raise ValueError(
                "value tier thresholds must descend: private_min_aum > wealth_min_aum"
                " > affluent_min_aum"
            )


class CustomerArchiveSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    export_max_rows: Annotated[int, Meta(ge=1, le=10_000_000)] = 1_000_000
    """Most rows one customer export may hold (exports stream, so memory does not bound
    it); a larger result is refused with a request to narrow the filter."""
    import_requires_approval: bool = False
    """Maker-checker for imports: a commit waits until a second person with
    ``customer_archive.import.approve`` (never the uploader) approves it."""
    import_unknown_manager: Literal["unassigned", "error"] = "unassigned"
    """What an import does with a row whose relationship manager names nobody known (no
    employee or user with that name, employee number or username): ``unassigned`` imports
    the customer without a manager and warns; ``error`` refuses the row. A manager who is
    ambiguous, has left or works elsewhere is always a row error."""
    value_tiers: ValueTierSettings = msgspec.field(default_factory=ValueTierSettings)
    aum_fx_rates: dict[CurrencyCode, FxRate] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_FX_RATES)
    )
    """CNY per unit of each foreign currency, for the daily AUM snapshots (holdings in a
    currency without a rate are left out of AUM and logged). CNY is always 1."""
