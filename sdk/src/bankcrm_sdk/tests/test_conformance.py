from collections.abc import Callable

import pytest
from litestar import get

from bankcrm import kernel_plugin
from bankcrm.plugins import PluginCandidate, build_registry
from bankcrm.runtime import load_registry
from bankcrm.settings import get_settings
from bankcrm_sdk.conformance import check_plugin

INSTALLED = load_registry(get_settings())


@pytest.mark.parametrize("name", INSTALLED.order)
def test_installed_plugin_conforms(name: str) -> None:
    assert check_plugin(INSTALLED, name) == []


def test_route_without_permission_is_reported(
    make_plugin: Callable[..., PluginCandidate],
) -> None:
    @get("/open")
    async def open_route() -> None:
        return None

    @get("/foreign", opt={"permission": "sales.lead.read"})
    async def foreign() -> None:
        return None

    registry = build_registry(
        [make_plugin("leaky", routes=[open_route, foreign])], kernel_plugin=kernel_plugin
    )
    problems = check_plugin(registry, "leaky")
    assert "leaky: /open declares no permission" in problems
    assert "leaky: /foreign uses permission 'sales.lead.read'" in problems
