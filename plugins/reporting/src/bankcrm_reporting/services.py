"""The public facade of reporting (with :mod:`.events`, what other plugins may import).

Every function runs under the caller's bound scope: figures are computed by each
plugin's own query with row-level security and access rules in force.
"""

from __future__ import annotations

from bankcrm_reporting.dashboard import (
    PERIODS,
    DashboardOut,
    KpiOut,
    bank_today,
    dashboard,
    list_kpis,
)
from bankcrm_reporting.figures import compute
from bankcrm_reporting.registry import Kpi, registered
from bankcrm_reporting.snapshots import take as take_snapshots

__all__ = [
    "PERIODS",
    "DashboardOut",
    "Kpi",
    "KpiOut",
    "bank_today",
    "compute",
    "dashboard",
    "list_kpis",
    "registered",
    "take_snapshots",
]
