"""The domain logic other plugins may import (with :mod:`.events`).

Every function runs under the caller's bound scope. Row-level security shows and changes
only rows of the branches in that scope, and the owner rules only the rows of the caller
and of everyone under them; another's row is absent (404), never forbidden.
"""

from __future__ import annotations

from bankcrm_sales.activities import ActivityIn, ActivityOut, list_activities, record_activity
from bankcrm_sales.leads import (
    LeadIn,
    LeadOut,
    LeadPatch,
    create_lead,
    get_lead,
    list_leads,
    receive_lead,
    update_lead,
)
from bankcrm_sales.opportunities import (
    ConversionIn,
    ConversionOut,
    OpportunityIn,
    OpportunityOut,
    ProductLine,
    StageMove,
    convert_lead,
    create_opportunity,
    get_opportunity,
    list_opportunities,
    move_stage,
)
from bankcrm_sales.scoring import LeadScore, Reason, rule_score
from bankcrm_sales.settings import SalesSettings, StageSpec

__all__ = [
    "ActivityIn",
    "ActivityOut",
    "ConversionIn",
    "ConversionOut",
    "LeadIn",
    "LeadOut",
    "LeadPatch",
    "LeadScore",
    "OpportunityIn",
    "OpportunityOut",
    "ProductLine",
    "Reason",
    "SalesSettings",
    "StageMove",
    "StageSpec",
    "convert_lead",
    "create_lead",
    "create_opportunity",
    "get_lead",
    "get_opportunity",
    "list_activities",
    "list_leads",
    "list_opportunities",
    "move_stage",
    "receive_lead",
    "record_activity",
    "rule_score",
    "update_lead",
]
