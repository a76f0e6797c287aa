"""The plugin is found by its entry point and passes the SDK's conformance check (one
name everywhere, dependencies declared alike, permissions and routes in its namespace,
only the kernel's public modules imported)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from bankcrm_sdk.conformance import check_plugin

NAME = "service"


def test_the_entry_point_names_the_plugin_module() -> None:
    found = [ep.value for ep in entry_points(group="bankcrm.plugins") if ep.name == NAME]
    assert found == ["bankcrm_service.plugin"]


async def test_the_plugin_conforms(kernel: Any) -> None:
    assert NAME in kernel.registry.order
    assert check_plugin(kernel.registry, NAME) == []
