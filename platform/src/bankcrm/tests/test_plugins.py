"""Plugin mechanics with temporary plugins: discovery, dependencies, errors, enablement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import get

from bankcrm import kernel_plugin
from bankcrm.plugins import PluginCandidate, PluginStatus, build_registry
from bankcrm.runtime import Kernel
from bankcrm_sdk.world import World


def registry_of(*candidates: PluginCandidate) -> Any:
    return build_registry(list(candidates), kernel_plugin=kernel_plugin)


def test_dependency_order_and_status(make_plugin: Callable[..., PluginCandidate]) -> None:
    registry = registry_of(
        make_plugin("reports", requires=["orders"]),
        make_plugin("orders", requires=["archive"]),
        make_plugin("archive"),
    )
    assert registry.order == ["archive", "orders", "reports"]
    assert all(r.status == PluginStatus.ACTIVE for r in registry.records.values())


def test_missing_dependency_disables_plugin_and_dependents(
    make_plugin: Callable[..., PluginCandidate],
) -> None:
    registry = registry_of(
        make_plugin("orders", requires=["archive"]),
        make_plugin("reports", requires=["orders"]),
        make_plugin("standalone"),
    )
    assert registry.order == ["standalone"]
    assert registry.records["orders"].status == PluginStatus.DISABLED
    assert "'archive', which is not installed" in registry.records["orders"].reason
    assert registry.records["reports"].status == PluginStatus.DISABLED
    assert "'orders', which is disabled" in registry.records["reports"].reason


def test_cycle_is_an_error_and_spares_the_rest(make_plugin: Callable[..., PluginCandidate]) -> None:
    registry = registry_of(
        make_plugin("a", requires=["b"]),
        make_plugin("b", requires=["a"]),
        make_plugin("c", requires=["a"]),
        make_plugin("d"),
    )
    assert registry.records["a"].status == PluginStatus.ERROR
    assert registry.records["a"].reason.startswith("dependency cycle:")
    assert registry.records["b"].status == PluginStatus.ERROR
    assert registry.records["c"].status == PluginStatus.DISABLED
    assert registry.order == ["d"]


def test_import_error_is_reported_not_fatal(make_plugin: Callable[..., PluginCandidate]) -> None:
    registry = registry_of(
        make_plugin("broken", fail_import=ImportError("No module named 'missing_dep'")),
        make_plugin("fine"),
    )
    assert registry.records["broken"].status == PluginStatus.ERROR
    assert "missing_dep" in registry.records["broken"].reason
    assert registry.order == ["fine"]


def test_incompatible_kernel_api_is_refused(make_plugin: Callable[..., PluginCandidate]) -> None:
    registry = registry_of(make_plugin("future", kernel_api=">=2"))
    assert registry.records["future"].status == PluginStatus.ERROR
    assert "kernel API" in registry.records["future"].reason


def test_unknown_hook_is_refused_at_boot(make_plugin: Callable[..., PluginCandidate]) -> None:
    def register_rotues() -> list[Any]:  # a typo a plugin author could make
        return []

    registry = registry_of(make_plugin("typo", hooks={"register_rotues": register_rotues}))
    assert registry.records["typo"].status == PluginStatus.ERROR
    assert "register_rotues" in registry.records["typo"].reason


def test_hooks_are_listed(make_plugin: Callable[..., PluginCandidate]) -> None:
    registry = registry_of(make_plugin("p", hooks={"register_permissions": lambda: []}))
    assert "register_permissions" in registry.records["p"].hooks


async def test_plugins_route_lists_status(world: World) -> None:
    client = await world.client("demo.admin")
    response = await client.get("/api/v1/plugins")
    assert response.status_code == 200
    names = {p["name"]: p for p in response.json()}
    for name in world.kernel.registry.order:
        assert names[name]["status"] == "active"


async def test_disabled_plugin_is_invisible_to_that_branch(
    world: World,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
) -> None:
    from bankcrm.webapp import create_app

    @get("/hello", opt={"permission": "authenticated"})
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    kernel = kernel_with([make_plugin("greeter", routes=[hello])])
    app = create_app(kernel, with_admin=False)
    try:
        world.app = app
        admin = await world.client("demo.admin")
        enable = await admin.put(
            f"/api/v1/branches/{world.branch('HQ')}/plugins/greeter", json={"enabled": True}
        )
        assert enable.status_code == 200, enable.text
        disable = await admin.put(
            f"/api/v1/branches/{world.branch('SH')}/plugins/greeter", json={"enabled": False}
        )
        assert disable.status_code == 200, disable.text

        bj = await world.client("demo.bj.rm")
        assert (await bj.get("/api/v1/greeter/hello")).json() == {"hello": "world"}
        sh = await world.client("demo.sh.rm")
        hidden = await sh.get("/api/v1/greeter/hello")
        assert hidden.status_code == 404
        assert hidden.json()["type"].endswith("plugin_disabled")
    finally:
        from bankcrm.webapp import create_app as restore

        restore(world.kernel)


async def test_enabling_requires_dependencies_and_disabling_guards_dependents(
    world: World,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
) -> None:
    from bankcrm.webapp import create_app

    kernel = kernel_with([make_plugin("base"), make_plugin("addon", requires=["base"])])
    world.app = create_app(kernel, with_admin=False)
    try:
        admin = await world.client("demo.admin")
        bj = world.branch("BJ")
        refused = await admin.put(f"/api/v1/branches/{bj}/plugins/addon", json={"enabled": True})
        assert refused.status_code == 409
        assert "requires base" in refused.json()["detail"]
        assert (
            await admin.put(f"/api/v1/branches/{bj}/plugins/base", json={"enabled": True})
        ).status_code == 200
        assert (
            await admin.put(f"/api/v1/branches/{bj}/plugins/addon", json={"enabled": True})
        ).status_code == 200
        guarded = await admin.put(f"/api/v1/branches/{bj}/plugins/base", json={"enabled": False})
        assert guarded.status_code == 409
        assert "addon" in guarded.json()["detail"]
    finally:
        create_app(world.kernel)


class GreeterSettings(msgspec.Struct):
    greeting: Annotated[str, msgspec.Meta(max_length=20)] = "你好"
    repeat: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1


async def test_per_branch_settings_are_validated_and_inherited(
    world: World,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
) -> None:
    from bankcrm.webapp import create_app

    kernel = kernel_with(
        [make_plugin("greeter", hooks={"register_settings": lambda: GreeterSettings})]
    )
    world.app = create_app(kernel, with_admin=False)
    try:
        admin = await world.client("demo.admin")
        bj, bj_hd = world.branch("BJ"), world.branch("BJ-HD")
        url = "/api/v1/branches/{}/plugins/greeter/settings"
        assert (await admin.get(url.format(bj_hd))).json() == {"greeting": "你好", "repeat": 1}
        bad = await admin.put(url.format(bj), json={"repeat": 9})
        assert bad.status_code == 422
        assert "repeat" in bad.json()["detail"]
        ok = await admin.put(url.format(bj), json={"greeting": "欢迎", "repeat": 2})
        assert ok.status_code == 200
        assert (await admin.get(url.format(bj_hd))).json() == {"greeting": "欢迎", "repeat": 2}
        assert (await admin.get(url.format(world.branch("SH")))).json()["greeting"] == "你好"
        sh = await world.client("demo.sh.manager")
        assert (await sh.get(url.format(bj))).status_code == 404
    finally:
        create_app(world.kernel)


async def test_kpis_are_computed_in_the_callers_scope(
    world: World,
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[[list[PluginCandidate]], Kernel],
) -> None:
    from bankcrm import db
    from bankcrm.plugin_api import MetricSpec
    from bankcrm.webapp import create_app

    async def visible_branches() -> int:
        return int(await db.fetchval("SELECT cardinality(bankcrm_scope_branch_ids())"))

    metric = MetricSpec(
        "greeter.branches", "可见机构", "Visible branches", compute=visible_branches
    )
    kernel = kernel_with([make_plugin("greeter", hooks={"register_metrics": lambda: [metric]})])
    world.app = create_app(kernel, with_admin=False)
    try:
        admin = await world.client("demo.admin")
        await admin.put(
            f"/api/v1/branches/{world.branch('HQ')}/plugins/greeter", json={"enabled": True}
        )
        bj = await world.client("demo.bj.manager")
        kpis = {k["name"]: k["value"] for k in (await bj.get("/api/v1/kpis")).json()}
        assert kpis["greeter.branches"] == len(await world.subtree("BJ"))
    finally:
        create_app(world.kernel)
