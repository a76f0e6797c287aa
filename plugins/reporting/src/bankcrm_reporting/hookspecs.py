"""Extension points this plugin publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api`. A plugin that does not
require reporting imports :mod:`bankcrm_reporting.services` inside its implementation:
reporting calls the hook only where it is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from bankcrm_reporting.sources import DataSource

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec
def reporting_data_sources() -> Sequence[DataSource] | None:
    """Data sources for saved reports (报表数据源): what staff may group and aggregate.

    Return :class:`~bankcrm_reporting.services.DataSource` objects (usually built with
    :func:`~bankcrm_reporting.services.sql_source`): a name prefixed with your plugin
    (``sales.opportunities``), a Chinese and an English title, the read ``permission`` of
    your plugin that a caller must hold, the ``dimensions`` a report may group and filter
    by (with the enumeration that labels their codes; ``mask`` for personal data, applied
    before a value leaves the query), the ``measures`` with the aggregations each allows,
    an optional ``time_dimension`` a report's period applies to, and the ``query``
    function. Called synchronously, often (every report saved or run): build the list
    once, do no I/O here.

    Reporting awaits ``query(report_query, scope)`` with the caller's scope narrowed to
    the branches where your plugin is enabled, only when the scope holds ``permission``;
    the function must read under that scope alone (``sql_source`` binds it), answer no
    row for a scope without branches (fail-closed) and at most ``report_query.limit``
    rows, as dicts keyed by the dimension names and ``<measure>_<aggregation>``. The
    report's definition has been checked against your declaration before it reaches you.
    """
