"""The plugin's public facade: with :mod:`.events`, the only module other plugins import
(``from bankcrm_marketing import services as marketing``). It only re-exports; nothing
inside the plugin imports it.
"""

from __future__ import annotations

from bankcrm_marketing.campaigns import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CostIn,
    CostOut,
    StaffIn,
    StaffOut,
    add_cost,
    add_staff,
    create_campaign,
    get_campaign,
    list_campaigns,
    list_costs,
    update_campaign,
)
from bankcrm_marketing.contacts import (
    ContactOut,
    DoNotContactIn,
    DoNotContactOut,
    MemberOut,
    ResponseIn,
    add_do_not_contact,
    get_contact,
    launch,
    list_contacts,
    list_do_not_contact,
    list_members,
    record_response,
    send_due,
)
from bankcrm_marketing.messages import OutgoingMessage, Recommendation
from bankcrm_marketing.outcomes import (
    CampaignResults,
    OutcomeIn,
    OutcomeOut,
    list_outcomes,
    recommendations_for,
    record_outcome,
    results,
)
from bankcrm_marketing.targeting import TargetingOut, target, targeting

__all__ = [
    "CampaignIn",
    "CampaignOut",
    "CampaignPatch",
    "CampaignResults",
    "ContactOut",
    "CostIn",
    "CostOut",
    "DoNotContactIn",
    "DoNotContactOut",
    "MemberOut",
    "OutcomeIn",
    "OutcomeOut",
    "OutgoingMessage",
    "Recommendation",
    "ResponseIn",
    "StaffIn",
    "StaffOut",
    "TargetingOut",
    "add_cost",
    "add_do_not_contact",
    "add_staff",
    "create_campaign",
    "get_campaign",
    "get_contact",
    "launch",
    "list_campaigns",
    "list_contacts",
    "list_costs",
    "list_do_not_contact",
    "list_members",
    "list_outcomes",
    "recommendations_for",
    "record_outcome",
    "record_response",
    "results",
    "send_due",
    "target",
    "targeting",
    "update_campaign",
]
