"""Background work: making the campaigns' contacts, and closing campaigns left aside.

``marketing.send_contacts`` runs after a launch commits (through the outbox) and every ten
minutes for what waited for the branch to open; ``marketing.close_stale_campaigns`` once a
day. Both are safe to run twice: only queued contacts and open rows are selected, each
under a row lock.
"""

from __future__ import annotations

from bankcrm import jobs
from bankcrm.plugin_api import ScheduleSpec
from bankcrm_marketing import campaigns, competitors, contacts, surveys

CLOSE_STALE = "marketing.close_stale_campaigns"
SEND_DUE = "marketing.send_due_contacts"
SYNC_DEALS = "marketing.sync_competitor_deals"
SEND_INVITATIONS_DUE = "marketing.send_due_survey_invitations"
DAY = 24 * 3600


@jobs.actor(CLOSE_STALE)
async def close_stale_campaigns(days: int = campaigns.STALE_AFTER_DAYS) -> None:
    """Close the campaigns in scope left as drafts, or ended, ``days`` days ago."""
    await campaigns.close_stale(days)


@jobs.actor(contacts.SEND_JOB)
async def send_contacts(campaign_id: int) -> None:
    """Make the due contacts of a launched campaign."""
    await contacts.send_due(campaign_id)


@jobs.actor(SEND_DUE)
async def send_due_contacts() -> None:
    """Make the due contacts of every active campaign in scope (those held for quiet
    hours, and those a gateway failed to take)."""
    await contacts.send_due()


@jobs.actor(SYNC_DEALS)
async def sync_competitor_deals() -> None:
    """Record the deals won or lost against competitors that plugins report (sales),
    closed in the last 35 days; each deal once, however often the job runs."""
    await competitors.sync_deals()


@jobs.actor(surveys.SEND_JOB)
async def send_survey_invitations(survey_id: int) -> None:
    """Send the due invitations of a survey just distributed."""
    await surveys.send_invitations(survey_id)


@jobs.actor(SEND_INVITATIONS_DUE)
async def send_due_survey_invitations() -> None:
    """Send the due invitations of every active survey in scope (those held for quiet
    hours, and those a gateway failed to take)."""
    await surveys.send_invitations()


ACTORS = [
    close_stale_campaigns,
    send_contacts,
    send_due_contacts,
    sync_competitor_deals,
    send_survey_invitations,
    send_due_survey_invitations,
]
SCHEDULES = [
    ScheduleSpec(
        name=CLOSE_STALE,
        actor_name=CLOSE_STALE,
        every_seconds=DAY,
        description="Close campaigns left as drafts or ended 90 days ago (idempotent).",
    ),
    ScheduleSpec(
        name=SEND_DUE,
        actor_name=SEND_DUE,
        every_seconds=600,
        description="Send the campaign contacts that are due (idempotent).",
    ),
    ScheduleSpec(
        name=SYNC_DEALS,
        actor_name=SYNC_DEALS,
        every_seconds=DAY,
        description="Take the deals won or lost against competitors from sales (idempotent).",
    ),
    ScheduleSpec(
        name=SEND_INVITATIONS_DUE,
        actor_name=SEND_INVITATIONS_DUE,
        every_seconds=600,
        description="Send the survey invitations that are due (idempotent).",
    ),
]
