"""Labels shared by the plugin's admin screens (the main, profile and dedupe screens)."""

from __future__ import annotations

from bankcrm.plugin_api import Label

GROUP = Label("客户档案", "Customer archive")

COMMON = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "customer": Label("客户", "Customer"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}


def labels(names: tuple[str, ...], **own: tuple[str, str]) -> dict[str, Label]:
    """The common labels of ``names`` and the plugin's own ``field=(zh, en)`` labels."""
    chosen = {name: COMMON[name] for name in names}
    chosen.update({name: Label(zh, en) for name, (zh, en) in own.items()})
    return chosen
