"""A panel of the customer 360 view, as the archive and every other plugin contribute it
(``customer_360_sections``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bankcrm.plugin_api import Label, WorkbenchLink

__all__ = ["Section"]


@dataclass(frozen=True)
class Section:
    """One panel of the customer 360 view, contributed through ``customer_360_sections``.

    ``key`` is unique across plugins (prefix it with the plugin name); ``data`` must be
    encodable by msgspec (builtins, dates, Decimals, msgspec Structs).
    """

    key: str
    title: str
    title_en: str
    data: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    """Labels of the data's keys (``name`` or ``parent.name``) that the 360 page shows;
    keys without one fall back to the admin's column labels, then to the key itself."""
    actions: list[WorkbenchLink] = field(default_factory=list)
    """Links the page offers with the section (new lead, log a visit …), ``{customer_id}``
    filled in; each shown only to holders of its permission."""
