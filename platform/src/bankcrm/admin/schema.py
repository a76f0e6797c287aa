"""A table's schema as the admin UI is told it: the screen's column labels in the UI
language, read-only columns marked, hidden columns left out, the screen's title as help.

piccolo-admin titles columns by their names; the labels come from each screen's
declaration.
"""

from __future__ import annotations

from typing import Any

from bankcrm.admin.language import text
from bankcrm.admin.screens import ScreenSpec

READ_ONLY_SUFFIX = {"zh": "（只读）", "en": " (read-only)"}


def table_schema(spec: ScreenSpec, schema: dict[str, Any], language: str) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties", {})
    for column in list(properties):
        if column in spec.hidden_columns:
            del properties[column]
            continue
        label = spec.label(column, language)
        if label is not None:
            properties[column]["title"] = label
        if column in spec.screen.read_only_columns:
            properties[column]["title"] += READ_ONLY_SUFFIX[language]
    extra = schema.setdefault("extra", {})
    for key in ("visible_column_names", "visible_filter_names"):
        if key in extra:
            extra[key] = [c for c in extra[key] if c not in spec.hidden_columns]
    extra["help_text"] = text(spec.screen.title, language)
    return schema
