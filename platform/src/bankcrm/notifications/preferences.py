"""Per-user preferences (channels per category or template) and quiet hours.

Every channel a template declares is on until the recipient turns it off, for a whole
category or for one template (the template's own choice wins). In-app cannot be turned
off for a mandatory template. Preferences are read when a delivery is sent, not when the
notification is written: a channel turned off meanwhile skips the delivery, with the
reason on the delivery row. In-app is the exception, decided when :func:`notify` writes
the row: a muted in-app notification is filed as read (it stays in the list, never in
the badge).

Quiet hours hold every channel but in-app until they end, in the user's time zone; an
overnight range (22:00 to 08:00) ends the next morning. Urgent templates and channels
that declare ``deferred_in_quiet_hours=False`` are not held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bankcrm import db
from bankcrm.notifications.channels import IN_APP, ChannelCatalogue
from bankcrm.notifications.templates import NotificationTemplate, TemplateCatalogue
from bankcrm.web.problems import invalid

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_PREFERENCES = 1000
"""More rows than any catalogue of templates and channels can need."""


@dataclass(frozen=True)
class ChannelPreference:
    category: str
    template: str
    """Empty: the whole category."""
    channel: str
    enabled: bool


@dataclass(frozen=True)
class QuietPeriod:
    starts: time
    ends: time
    timezone: str = DEFAULT_TIMEZONE

    def until(self, now: datetime) -> datetime | None:
        """When the quiet period ``now`` falls in ends (UTC), or None outside it."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        day = local.date()
        if self.starts < self.ends:
            if not self.starts <= clock < self.ends:
                return None
            end_day = day
        elif clock >= self.starts:
            end_day = day + timedelta(days=1)
        elif clock < self.ends:
            end_day = day
        else:
            return None
        return datetime.combine(end_day, self.ends, zone).astimezone(UTC)


def parse_clock(value: str, field_name: str) -> time:
    """``HH:MM`` (24 hours) as a time, else a 422 naming ``field_name``."""
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(value)
        return time(int(hours), int(minutes))
    except ValueError:
        raise invalid(field_name, "a time of day as HH:MM, e.g. 22:00") from None


def check_timezone(name: str, field_name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(field_name, f"unknown time zone {name!r}") from None
    return name


def check_preferences(
    preferences: Sequence[ChannelPreference],
    templates: TemplateCatalogue,
    channels: ChannelCatalogue,
    where: str = "body.preferences",
) -> None:
    """Refuse unknown categories, templates and channels, repeats, and in-app turned off
    for a mandatory template, with a 422 naming the entry's field."""
    if len(preferences) > MAX_PREFERENCES:
        raise invalid(where, f"at most {MAX_PREFERENCES} entries")
    categories = templates.categories()
    seen: set[tuple[str, str, str]] = set()
    for index, preference in enumerate(preferences):
        field_name = f"{where}[{index}]"
        members = categories.get(preference.category)
        if members is None:
            known = ", ".join(categories) or "none"
            raise invalid(
                f"{field_name}.category",
                f"no notification category {preference.category!r} (known: {known})",
            )
        if channels.get(preference.channel) is None:
            known = ", ".join(sorted(channels.channels))
            raise invalid(
                f"{field_name}.channel",
                f"no notification channel {preference.channel!r} (known: {known})",
            )
        if preference.template:
            template = next((t for t in members if t.key == preference.template), None)
            if template is None:
                raise invalid(
                    f"{field_name}.template",
                    f"no template {preference.template!r} in category {preference.category!r}",
                )
            if template.mandatory and preference.channel == IN_APP and not preference.enabled:
                raise invalid(
                    f"{field_name}.enabled",
                    f"{template.key!r} is mandatory: its in-app notification cannot be off",
                )
        key = (preference.category, preference.template, preference.channel)
        if key in seen:
            raise invalid(field_name, "the same category, template and channel twice")
        seen.add(key)


def channel_enabled(
    preferences: Sequence[ChannelPreference], template: NotificationTemplate, channel: str
) -> bool:
    """Whether ``channel`` reaches the user for ``template`` (the delivery job decides the
    same in SQL, see :data:`bankcrm.notifications.delivery.GATE_SQL`)."""
    if channel not in template.channels:
        return False
    if template.mandatory and channel == IN_APP:
        return True
    own = [
        p
        for p in preferences
        if p.category == template.category
        and p.channel == channel
        and p.template in ("", template.key)
    ]
    if not own:
        return True
    return max(own, key=lambda p: p.template != "").enabled


# --- storage ------------------------------------------------------------------------------


async def preferences_of(user_id: int) -> list[ChannelPreference]:
    rows = await db.fetch(
        "SELECT category, template, channel, enabled FROM bankcrm_notification_preference"
        ' WHERE "user" = $1 ORDER BY category, template, channel',
        user_id,
    )
    return [
        ChannelPreference(r["category"], r["template"], r["channel"], r["enabled"]) for r in rows
    ]


async def quiet_hours_of(user_id: int) -> QuietPeriod | None:
    row = await db.fetchrow(
        'SELECT starts, ends, timezone FROM bankcrm_notification_quiet_hours WHERE "user" = $1',
        user_id,
    )
    return None if row is None else QuietPeriod(row["starts"], row["ends"], row["timezone"])


async def replace_settings(
    user_id: int, preferences: Sequence[ChannelPreference], quiet: QuietPeriod | None
) -> None:
    """Replace the user's preferences and quiet hours (checked by the caller)."""
    async with db.transaction():
        await db.fetch('DELETE FROM bankcrm_notification_preference WHERE "user" = $1', user_id)
        if preferences:
            await db.execute_many(
                'INSERT INTO bankcrm_notification_preference ("user", category, template,'
                " channel, enabled) VALUES ($1, $2, $3, $4, $5)",
                [(user_id, p.category, p.template, p.channel, p.enabled) for p in preferences],
            )
        await db.fetch('DELETE FROM bankcrm_notification_quiet_hours WHERE "user" = $1', user_id)
        if quiet is not None:
            await db.fetch(
                'INSERT INTO bankcrm_notification_quiet_hours ("user", starts, ends, timezone)'
                " VALUES ($1, $2, $3, $4)",
                user_id,
                quiet.starts,
                quiet.ends,
                quiet.timezone,
            )


async def muted_in_app(users: Sequence[int], template: NotificationTemplate) -> set[int]:
    """Recipients who turned in-app off for ``template`` (never for a mandatory one)."""
    if template.mandatory or IN_APP not in template.channels:
        return set()
    rows = await db.fetch(
        'SELECT DISTINCT ON ("user") "user", enabled FROM bankcrm_notification_preference'
        ' WHERE "user" = ANY($1::int[]) AND category = $2 AND channel = $3'
        " AND template IN ('', $4)"
        ' ORDER BY "user", template DESC',
        list(users),
        template.category,
        IN_APP,
        template.key,
    )
    return {row["user"] for row in rows if not row["enabled"]}
