import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import get

from bankcrm import hookdoc, kernel_plugin
from bankcrm.plugins import PluginCandidate, build_registry
from bankcrm.runtime import load_registry
from bankcrm.settings import get_settings
from bankcrm_sdk.conformance import (
    check_plugin,
    import_problems,
    internal_import_problems,
    plugin_import_problems,
    published_hook_problems,
)

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

    @get("/foreign", opt={"permission": "orders.lead.read"})
    async def foreign() -> None:
        return None

    registry = build_registry(
        [make_plugin("leaky", routes=[open_route, foreign])], kernel_plugin=kernel_plugin
    )
    problems = check_plugin(registry, "leaky")
    assert "leaky: /open declares no permission" in problems
    assert "leaky: /foreign uses permission 'orders.lead.read'" in problems


def test_imports_past_the_public_surface_are_reported(tmp_path: Path) -> None:
    package = tmp_path / "bankcrm_loyalty"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "services.py").write_text(
        "from bankcrm import db, piccolo_conf\n"
        "from bankcrm.plugin_api import plugin_hooks\n"
        "from bankcrm.webapp import current_kernel\n"
        "import bankcrm.runtime\n"
        "from bankcrm_loyalty._internal import helper\n"
        "from bankcrm_loyalty import _shared\n"
        "from bankcrm_treasury.services import CustomerReference\n"
        "from bankcrm_treasury._impl import secret\n"
        "from bankcrm_treasury.search import _fold\n"
        "from . import _relative\n"
        "from __future__ import annotations\n"
    )
    (package / "tests" / "test_it.py").write_text(
        "from bankcrm.runtime import Kernel\nfrom bankcrm.roles import _expand\n"
    )
    public = "which is not public: use bankcrm.plugin_api or a module in bankcrm.plugin_api"
    public += ".PUBLIC_MODULES"
    at = "bankcrm_loyalty/services.py"
    assert import_problems("bankcrm_loyalty", package) == [
        f"{at}:1 imports 'bankcrm.piccolo_conf', {public}",
        f"{at}:3 imports 'bankcrm.webapp', {public}",
        f"{at}:4 imports 'bankcrm.runtime', {public}",
        "bankcrm_loyalty/services.py:8 imports the private module 'bankcrm_treasury._impl'",
        "bankcrm_loyalty/services.py:9 imports the private name '_fold' from"
        " 'bankcrm_treasury.search'",
        "bankcrm_loyalty/tests/test_it.py:2 imports the private name '_expand' from"
        " 'bankcrm.roles'",
    ]


def test_cycles_and_private_names_between_a_plugins_modules_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "bankcrm_shapes"
    (package / "orders" / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders" / "__init__.py").write_text("")
    # services <-> orders.services, the way back hidden in a function.
    (package / "services.py").write_text(
        "from bankcrm_shapes.orders.services import place\n\n_RATE = 2\n\n\n"
        "def _helper() -> int:\n    return 1\n"
    )
    (package / "orders" / "services.py").write_text(
        "def place() -> int:\n"
        "    from bankcrm_shapes import services\n\n"
        "    return services._helper()\n"
    )
    (package / "orders" / "api.py").write_text(
        "from bankcrm_shapes.services import _RATE\n"
        "from . import services as orders\n"
        "from .services import place\n\n"
        "ANSWER = orders._private_of_orders + _RATE + place()\n"
    )
    # A module's own private names, a test's white-box look and a dunder are fine.
    (package / "orders" / "jobs.py").write_text(
        "from bankcrm_shapes import orders\n\n_LIMIT = 3\nLIMIT = _LIMIT + len(orders.__name__)\n"
    )
    (package / "orders" / "tests" / "test_orders.py").write_text(
        "from bankcrm_shapes.services import _helper\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert internal_import_problems("bankcrm_shapes", package) == [
        "import cycle among orders.services, services:"
        " orders.services:2 -> services; services:1 -> orders.services",
        "bankcrm_shapes/orders/api.py:1 imports the private name '_RATE' from"
        " 'bankcrm_shapes.services'",
        "bankcrm_shapes/orders/api.py:5 uses the private name '_private_of_orders' of"
        " 'bankcrm_shapes.orders.services'",
        "bankcrm_shapes/orders/services.py:4 uses the private name '_helper' of"
        " 'bankcrm_shapes.services'",
    ]
    # Broken the way the customer archive broke its own: the shared part is public.
    (package / "shared.py").write_text("def helper() -> int:\n    return 1\n")
    (package / "orders" / "services.py").write_text(
        "from bankcrm_shapes.shared import helper\n\n\ndef place() -> int:\n    return helper()\n"
    )
    (package / "services.py").write_text(
        "from bankcrm_shapes.orders.services import place\n\nRATE = 2\n"
    )
    (package / "orders" / "api.py").write_text(
        "from bankcrm_shapes.services import RATE\nfrom .services import place\n\n"
        "ANSWER = RATE + place()\n"
    )
    assert internal_import_problems("bankcrm_shapes", package) == []


HOOKSPECS = '''"""Extension points of a test plugin."""

import pluggy

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec
def loyalty_rewards(customer_id: int) -> list[str]:
    """Rewards to offer a customer: called on every plugin, answers are shown in order."""


@hookspec
def loyalty_vague(customer_id):
    """Says little."""
'''


def test_published_hooks_need_a_contract_types_a_reference_and_a_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "bankcrm_loyalty_hooks"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "hookspecs.py").write_text(HOOKSPECS)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("bankcrm_loyalty_hooks.hookspecs")
    reference = package / "hooks.md"
    assert published_hook_problems(module, package) == [
        "hook loyalty_rewards has no test named test_hook_loyalty_rewards or"
        " test_hook_loyalty_rewards_*",
        "hook loyalty_vague has no documented contract",
        "hook loyalty_vague is not fully typed",
        "hook loyalty_vague has no test named test_hook_loyalty_vague or test_hook_loyalty_vague_*",
        "bankcrm_loyalty_hooks/hooks.md is missing or stale: run `uv run python -m"
        f" bankcrm.hookdoc bankcrm_loyalty_hooks.hookspecs > {reference}`",
    ]
    (package / "tests" / "test_rewards.py").write_text(
        "async def test_hook_loyalty_rewards_in_order():\n    pass\n"
    )
    reference.write_text(hookdoc.render(module))
    assert published_hook_problems(module, package) == [
        "hook loyalty_vague has no documented contract",
        "hook loyalty_vague is not fully typed",
        "hook loyalty_vague has no test named test_hook_loyalty_vague or test_hook_loyalty_vague_*",
    ]
    reference.write_text(hookdoc.render(module) + "edited by hand\n")
    assert any(
        "hooks.md is missing or stale" in p for p in published_hook_problems(module, package)
    )


def test_another_plugin_is_used_only_through_its_services_and_events(tmp_path: Path) -> None:
    package = tmp_path / "bankcrm_loans"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "offers.py").write_text(
        "from bankcrm_treasury import events, services\n"
        "from bankcrm_treasury.services import TimelineItem\n"
        "from bankcrm_treasury.events import CustomerMerged\n"
        "from bankcrm_treasury.search.services import run_search\n"
        "from bankcrm_treasury import tables\n"
        "import bankcrm_treasury.timeline\n"
        "from bankcrm_unrelated.deep import thing\n"
    )
    # A test may set up another plugin's rows through its tables.
    (package / "tests" / "test_offers.py").write_text(
        "from bankcrm_treasury.tables import Customer\n"
    )
    rule = "another plugin is used only through its services and events modules"
    assert plugin_import_problems("bankcrm_loans", package, {"bankcrm_treasury"}) == [
        f"bankcrm_loans/offers.py:4 imports 'bankcrm_treasury.search': {rule}",
        f"bankcrm_loans/offers.py:5 imports 'bankcrm_treasury.tables': {rule}",
        f"bankcrm_loans/offers.py:6 imports 'bankcrm_treasury.timeline': {rule}",
    ]
