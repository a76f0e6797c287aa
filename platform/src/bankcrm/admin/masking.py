"""What of a row leaves for the browser: masked columns masked, hidden ones and secrets
dropped, titles of masked rows masked wherever they appear (another screen's reference,
a key picker), keys of rows that row-level security hid blanked.
"""

from __future__ import annotations

from typing import Any

from bankcrm import pii
from bankcrm.admin.screens import ScreenIndex, ScreenSpec


class Masking:
    def __init__(self, index: ScreenIndex) -> None:
        self.index = index

    def row(self, spec: ScreenSpec, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` of ``spec`` as piccolo-admin answered it, made fit to send."""
        masked = spec.screen.masked_columns
        unsent = spec.unsent_columns
        for key in list(row):
            value = row[key]
            if key in unsent:
                del row[key]
            elif value is None:
                continue
            elif key in masked or (
                key.endswith("_readable") and self.masked_title(spec, key.removesuffix("_readable"))
            ):
                row[key] = pii.mask(str(value))
        for column in spec.scoped_references:
            readable = f"{column}_readable"
            if row.get(column) is not None and readable in row and not row[readable]:
                # Row-level security hid the referenced row (another branch's): its key
                # is not shown either.
                row[column] = None
                row[readable] = None
        return row

    def masked_title(self, spec: ScreenSpec, column: str) -> bool:
        """Whether ``column`` of ``spec`` refers to a table whose row titles are masked."""
        try:
            target = spec.table._meta.get_column_by_name(column)
        except ValueError:
            return False
        references = getattr(target, "_foreign_key_meta", None)
        if references is None:
            return False
        return references.resolved_references._meta.tablename in self.index.masked_readables

    def ids(self, name: str, ids: dict[str, Any]) -> dict[str, Any]:
        """A key picker's titles, masked where ``name``'s titles are."""
        if name in self.index.masked_readables:
            return {key: pii.mask(str(value)) for key, value in ids.items()}
        return ids
