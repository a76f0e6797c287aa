"""The admin at /admin/: sessions, permissions, enablement, labels, masks, audit, RLS.

Two apps are exercised. The session ``app`` (every installed plugin's screens) for the
generic isolation test over each branch-scoped screen; and an app whose kernel also holds
``adminprobe``, a temporary plugin with a writable branch-scoped table created here, for
everything that needs writes, masks, read-only columns and a plugin to enable or not.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest
from litestar import Litestar
from piccolo.columns import Integer, Varchar
from piccolo.table import Table

from bankcrm import audit, auth, db, piccolo_conf
from bankcrm.admin.app import admin_handlers, admin_screens
from bankcrm.admin.hooks import OutsideTransaction, hooks_for
from bankcrm.admin.kernel_rules import KernelRules
from bankcrm.admin.screens import ScreenSpec, check_screen
from bankcrm.context import Scope, bind_scope
from bankcrm.plugin_api import AdminScreen, DemoContext, Label, PermissionSpec
from bankcrm.runtime import Kernel, load_registry
from bankcrm.sql import policy_statements
from bankcrm.tables import branch_column
from bankcrm.web.kernel_routes import kernel_router
from bankcrm.web.problems import EXCEPTION_HANDLERS
from bankcrm.web.scope_middleware import ScopeMiddleware
from bankcrm.webapp import resolve_scope
from bankcrm_sdk import database
from bankcrm_sdk.plugins import make_plugin
from bankcrm_sdk.world import World

PROBLEM = "application/problem+json"


class ProbeItem(Table, tablename="adminprobe_item"):
    code = Varchar(length=32)
    name = Varchar(length=200)
    phone = Varchar(length=32, null=True, default=None)
    amount = Integer(default=0)
    branch_id = branch_column()


PROBE_SCREEN = AdminScreen(
    table=ProbeItem,
    title=Label("探针条目", "Probe items"),
    permission="adminprobe.item.read",
    columns={
        "code": Label("代码", "Code"),
        "name": Label("名称", "Name"),
        "phone": Label("手机号", "Phone"),
        "amount": Label("金额", "Amount"),
        "branch_id": Label("机构", "Branch"),
    },
    read_only_columns=("code",),
    masked_columns=("phone",),
    menu_group=Label("探针", "Probe"),
)

PROBE_TABLE_SQL = """
CREATE TABLE adminprobe_item (
  id serial PRIMARY KEY,
  code varchar(32) NOT NULL,
  name varchar(200) NOT NULL,
  phone varchar(32),
  amount integer NOT NULL DEFAULT 0 CHECK (amount >= 0),
  branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT
)
"""


def build_app(kernel: Kernel) -> Litestar:
    """The kernel's login routes and the admin, as ``create_app`` mounts them."""

    async def resolver(connection: Any, request_id: str) -> Scope | None:
        return await resolve_scope(kernel, connection, request_id)

    return Litestar(
        route_handlers=[kernel_router(), *admin_handlers(kernel)],
        middleware=[ScopeMiddleware(resolver)],
        exception_handlers=EXCEPTION_HANDLERS,
    )


@pytest.fixture(scope="module")
async def probe_kernel(
    kernel: Kernel, bankcrm_database: database.TestDatabase
) -> AsyncIterator[Kernel]:
    owner = await asyncpg.connect(kernel.owner_url)
    try:
        await owner.execute("DROP TABLE IF EXISTS adminprobe_item")
        await owner.execute(PROBE_TABLE_SQL)
        for statement in policy_statements("adminprobe_item"):
            await owner.execute(statement)
        role = db.quote_ident(kernel.settings.app_role)
        await owner.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON adminprobe_item TO {role}")
        await owner.execute(f"GRANT USAGE, SELECT ON SEQUENCE adminprobe_item_id_seq TO {role}")
    finally:
        await owner.close()

    async def resolve_actor(connection: Any) -> Scope | None:
        """Single sign-on, as a plugin may add it: the user named in a header."""
        username = connection.headers.get("x-test-sso")
        user_id = username and await db.fetchval(
            "SELECT id FROM piccolo_user WHERE username = $1", username
        )
        return await auth.scope_for_user(user_id) if user_id else None

    plugin = make_plugin(
        "adminprobe",
        hooks={
            "resolve_actor": resolve_actor,
            "register_admin": lambda: [PROBE_SCREEN],
            "register_permissions": lambda: [
                PermissionSpec("adminprobe.item.read", "查看", "Read"),
                PermissionSpec("adminprobe.item.write", "修改", "Write"),
            ],
        },
    )
    apps = piccolo_conf.APP_REGISTRY
    registry = load_registry(kernel.settings, [plugin])
    piccolo_conf.APP_REGISTRY = apps
    yield Kernel(kernel.settings, registry, kernel.owner_url, kernel.app_url)
    owner = await asyncpg.connect(kernel.owner_url)
    try:
        await owner.execute("DROP TABLE IF EXISTS adminprobe_item")
    finally:
        await owner.close()


@pytest.fixture(scope="module")
def probe_app(probe_kernel: Kernel) -> Litestar:
    return build_app(probe_kernel)


async def grant(world: World, username: str, code: str, permissions: list[str]) -> None:
    """A membership of ``username`` at ``code`` with a role holding ``permissions``."""
    role_name = "r_" + "_".join(sorted(p.replace(".", "_") for p in permissions))[:60]
    role_id = await db.fetchval(
        "INSERT INTO bankcrm_role (name, title, title_en, permissions) VALUES ($1, $1, $1, $2)"
        " ON CONFLICT (name) DO UPDATE SET permissions = EXCLUDED.permissions RETURNING id",
        role_name,
        permissions,
    )
    await db.fetch(
        'INSERT INTO bankcrm_membership ("user", branch, role) VALUES ($1, $2, $3)',
        world.users[username],
        world.branch(code),
        role_id,
    )


async def enable(world: World, plugin: str, code: str, enabled: bool = True) -> None:
    from bankcrm import branches

    await db.fetch(
        "INSERT INTO bankcrm_plugin_enablement (branch, plugin, enabled, settings, changed_by,"
        " changed_at) VALUES ($1, $2, $3, '{}'::jsonb, 'test', now())",
        world.branch(code),
        plugin,
        enabled,
    )
    branches.invalidate()


async def admin_client(world: World, username: str) -> httpx.AsyncClient:
    """Logged in through the REST API, holding the admin's CSRF cookie and header."""
    client = await world.client(username)
    await csrf(client)
    return client


async def csrf(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/")
    assert response.status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]


@dataclass
class Probe:
    world: World
    rows: dict[str, int]
    """row name -> id: ``bj-hd-1``, ``bj-hd-2``, ``bj-cy``, ``sh-pd-1``, ``sh-pd-2``."""

    async def db_row(self, name: str) -> asyncpg.Record:
        owner = await asyncpg.connect(self.world.kernel.owner_url)
        try:
            row = await owner.fetchrow(
                "SELECT * FROM adminprobe_item WHERE id = $1", self.rows[name]
            )
        finally:
            await owner.close()
        assert row is not None
        return row


PROBE_ROWS = [
    ("bj-hd-1", "BJ-HD", "13800000001"),
    ("bj-hd-2", "BJ-HD", "13800000002"),
    ("bj-cy", "BJ-CY", "13800000003"),
    ("sh-pd-1", "SH-PD", "13900000001"),
    ("sh-pd-2", "SH-PD", "13900000002"),
]


@pytest.fixture
async def probe(world: World, probe_kernel: Kernel, probe_app: Litestar) -> AsyncIterator[Probe]:
    """adminprobe enabled at head office; writers at BJ and SH, a reader at BJ-HD."""
    await enable(world, "adminprobe", "HQ")
    read, write = "adminprobe.item.read", "adminprobe.item.write"
    await grant(world, "demo.bj.manager", "BJ", [read, write])
    await grant(world, "demo.sh.manager", "SH", [read, write])
    await grant(world, "demo.bj.rm", "BJ-HD", [read])
    rows = {}
    with bind_scope(world.system_scope()):
        for name, code, phone in PROBE_ROWS:
            rows[name] = await db.fetchval(
                "INSERT INTO adminprobe_item (code, name, phone, amount, branch_id)"
                " VALUES ($1, $2, $3, 10, $4) RETURNING id",
                name.upper(),
                f"条目 {name}",
                phone,
                world.branch(code),
            )
    probe_world = World(probe_kernel, world.branches, world.users, probe_app)
    try:
        yield Probe(probe_world, rows)
    finally:
        await probe_world.close()


def is_problem(response: httpx.Response, *statuses: int) -> bool:
    return response.status_code in statuses and response.headers["content-type"].startswith(PROBLEM)


async def audit_rows(world: World, entity: str) -> list[asyncpg.Record]:
    owner = await asyncpg.connect(world.kernel.owner_url)
    try:
        return list(
            await owner.fetch("SELECT * FROM bankcrm_audit WHERE entity = $1 ORDER BY id", entity)
        )
    finally:
        await owner.close()


# --- mounting and assets ---------------------------------------------------------------------


async def test_admin_redirects_to_the_slash_and_serves_only_local_assets(world: World) -> None:
    client = world.anonymous_client()
    response = await client.get("/admin?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/admin/?x=1"
    index = await client.get("/admin/")
    assert index.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]+)"', index.text)
    assert references, index.text
    assert all(ref.startswith(("./assets/", "./bankcrm/")) for ref in references), references
    # Hosts the bundled code merely names (licences, docs, XML namespaces, devtools).
    named_only = {
        "www.w3.org",
        "vuejs.org",
        "v3-migration.vuejs.org",
        "next.vuex.vuejs.org",
        "momentjs.com",
        "quilljs.com",
        "fontawesome.com",
        "localhost",
    }
    for ref in references:
        asset = await client.get("/admin/" + ref.removeprefix("./"))
        assert asset.status_code == 200, ref
        if ref.endswith(".css"):
            assert "@import" not in asset.text
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", asset.text)
        if ref.endswith(".js"):
            hosts = set(re.findall(r"https?://([a-z0-9.-]+)", asset.text))
            assert hosts <= named_only, hosts - named_only
            assert not re.search(r"import\(\s*['\"`]https?:", asset.text)
    # piccolo's server-rendered login page loads Google Fonts; its docs load a CDN.
    for path in (
        "/admin/public/login/",
        "/admin/api/docs/",
        "/admin/public/docs/",
        "/admin/api/openapi.json",
    ):
        assert is_problem(await client.get(path), 401, 404), path


# --- sessions and login ----------------------------------------------------------------------


async def test_rest_and_admin_logins_share_one_session(world: World) -> None:
    rest = await world.client("demo.bj.manager")
    user = await rest.get("/admin/api/user/")
    assert user.status_code == 200
    assert user.json()["username"] == "demo.bj.manager"

    admin = world.anonymous_client()
    body = {"username": "demo.sh.manager", "password": world_password()}
    await admin.get("/admin/")
    assert is_problem(await admin.post("/admin/public/login/", json=body), 403)
    assert "id" not in admin.cookies
    await csrf(admin)
    login = await admin.post("/admin/public/login/", json=body)
    assert login.status_code == 200, login.text
    me = await admin.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert set(me.json()["branch_ids"]) == await world.subtree("SH")
    assert (await admin.get("/admin/api/user/")).json()["username"] == "demo.sh.manager"

    logout = await admin.post("/admin/public/logout/")
    assert logout.status_code == 200
    assert (await admin.get("/api/v1/auth/me")).status_code == 401


def world_password() -> str:
    from bankcrm_sdk.world import PASSWORD

    return PASSWORD


async def test_admin_login_obeys_lockout_and_mfa(world: World) -> None:
    client = world.anonymous_client()
    await csrf(client)
    for _ in range(world.kernel.settings.login_max_failures):
        wrong = await client.post(
            "/admin/public/login/", json={"username": "demo.bj.rm", "password": "Wrong-Passw0rd!"}
        )
        assert is_problem(wrong, 401)
    locked = await client.post(
        "/admin/public/login/", json={"username": "demo.bj.rm", "password": world_password()}
    )
    assert is_problem(locked, 401)
    assert locked.json()["type"].endswith("/invalid_credentials")

    rest = await world.client("demo.sh.rm")
    uri = (await rest.post("/api/v1/auth/mfa/enrol")).json()["provisioning_uri"]
    totp = pyotp.parse_uri(uri)
    assert (await rest.post("/api/v1/auth/mfa/confirm", json={"code": totp.now()})).is_success
    body = {"username": "demo.sh.rm", "password": world_password()}
    needs_code = await client.post("/admin/public/login/", json=body)
    assert is_problem(needs_code, 401)
    assert needs_code.json()["detail"] == "MFA code required"
    logged_in = await client.post("/admin/public/login/", json={**body, "mfa_code": totp.now()})
    assert logged_in.status_code == 200, logged_in.text


async def test_admin_api_needs_an_admin_session_of_the_acting_user(world: World) -> None:
    anonymous = world.anonymous_client()
    assert is_problem(await anonymous.get("/admin/api/tables/"), 401)
    issued = await auth.create_api_client(
        "admin probe", world.branch("BJ"), ["bankcrm.audit.read"], "test"
    )
    session = await world.client("demo.sh.manager")
    # The kernel resolves the bearer token's client; piccolo would act as the cookie's user.
    session.headers["Authorization"] = f"Bearer {issued.token}"
    assert is_problem(await session.get("/admin/api/tables/"), 401)

    client = await admin_client(world, "demo.auditor")
    assert (await client.get("/admin/api/tables/")).status_code == 200
    await db.fetch("UPDATE piccolo_user SET admin = false WHERE username = 'demo.auditor'")
    for path in (
        "/admin/api/tables/",
        "/admin/api/tables/grouped/",
        "/admin/api/screens/",
        "/admin/api/user/",
        "/admin/api/tables/bankcrm_audit/",
    ):
        assert is_problem(await client.get(path), 401), path
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_admin_api_refuses_a_single_sign_on_user_other_than_the_session(
    probe: Probe,
) -> None:
    client = await admin_client(probe.world, "demo.sh.manager")
    assert (await client.get("/admin/api/tables/")).status_code == 200
    client.headers["X-Test-SSO"] = "demo.bj.manager"
    assert is_problem(await client.get("/admin/api/tables/adminprobe_item/"), 401)
    client.headers["X-Test-SSO"] = "demo.sh.manager"
    assert (await client.get("/admin/api/tables/adminprobe_item/")).status_code == 200


async def test_admin_password_change_follows_the_policy(world: World) -> None:
    client = await admin_client(world, "demo.teller")
    weak = await client.post(
        "/admin/api/change-password/",
        json={
            "current_password": world_password(),
            "new_password": "short",
            "confirm_new_password": "short",
        },
    )
    assert is_problem(weak, 422)
    assert weak.json()["db_error"].startswith("password")
    strong = "Another-Passw0rd!"
    changed = await client.post(
        "/admin/api/change-password/",
        json={
            "current_password": world_password(),
            "new_password": strong,
            "confirm_new_password": strong,
        },
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    await world.client("demo.teller", strong)


async def test_admin_password_change_is_no_oracle(world: World) -> None:
    client = await admin_client(world, "demo.teller")
    limit = world.kernel.settings.login_max_failures
    answers = []
    for attempt in range(limit):
        answers.append(
            await client.post(
                "/admin/api/change-password/",
                json={
                    "current_password": f"Not-The-Passw0rd{attempt}",
                    "new_password": "Another-Passw0rd!",
                    "confirm_new_password": "Another-Passw0rd!",
                },
            )
        )
    assert [a.status_code for a in answers] == [422] * (limit - 1) + [429]
    assert answers[-1].json()["type"].endswith("/locked")
    assert int(answers[-1].headers["retry-after"]) > 0


# --- menu, permissions, enablement -----------------------------------------------------------


KERNEL_SCREENS = {
    "bankcrm_branch",
    "bankcrm_role",
    "bankcrm_membership",
    "bankcrm_plugin_enablement",
    "bankcrm_api_client",
    "bankcrm_audit",
    "piccolo_user",
}
KNOWN = KERNEL_SCREENS | {"adminprobe_item"}
"""Screens these tests know; installed plugins may add more."""


async def test_menu_lists_only_permitted_enabled_screens(probe: Probe) -> None:
    world = probe.world
    admin = await admin_client(world, "demo.admin")
    assert set((await admin.get("/admin/api/tables/")).json()) >= KNOWN

    teller = await admin_client(world, "demo.teller")
    assert set((await teller.get("/admin/api/tables/")).json()) & KNOWN == set()
    grouped = (await teller.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert "探针" not in grouped
    assert "系统管理" not in grouped
    for path in (
        "/admin/api/tables/adminprobe_item/",
        "/admin/api/tables/adminprobe_item/schema/",
        "/admin/api/tables/bankcrm_audit/count/",
        "/admin/api/tables/piccolo_user/",
    ):
        assert is_problem(await teller.get(path), 403), path

    manager = await admin_client(world, "demo.bj.manager")
    tables = (await manager.get("/admin/api/tables/")).json()
    assert set(tables) & KNOWN == {"adminprobe_item", "bankcrm_audit"}
    grouped = (await manager.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert grouped["探针"] == ["adminprobe_item"]
    assert grouped["系统管理"] == ["bankcrm_audit"]
    shown = (await manager.get("/admin/api/screens/")).json()
    assert shown["screens"]["adminprobe_item"]["title"] == "探针条目"
    assert shown["screens"]["bankcrm_audit"]["title"] == "审计日志"
    assert set(shown["screens"]) == set(tables)
    assert shown["zone"] == "Asia/Shanghai"
    for path in (
        "/admin/api/tables/piccolo_user/",
        "/admin/api/tables/bankcrm_api_client/",
        "/admin/api/tables/bankcrm_membership/1/",
    ):
        assert is_problem(await manager.get(path), 403), path


async def test_reading_is_not_writing(probe: Probe) -> None:
    reader = await admin_client(probe.world, "demo.bj.rm")
    row = f"/admin/api/tables/adminprobe_item/{probe.rows['bj-hd-1']}/"
    assert (await reader.get(row)).status_code == 200
    refused = await reader.patch(row, json={"name": "changed"})
    assert is_problem(refused, 403)
    assert "adminprobe.item.write" in refused.json()["detail"]
    assert is_problem(await reader.delete(row), 403)
    assert (await probe.db_row("bj-hd-1"))["name"] == "条目 bj-hd-1"


async def test_screens_follow_plugin_enablement(probe: Probe) -> None:
    world = probe.world
    await enable(world, "adminprobe", "BJ-CY", enabled=False)
    await enable(world, "adminprobe", "SH", enabled=False)
    manager = await admin_client(world, "demo.bj.manager")
    listed = (await manager.get("/admin/api/tables/adminprobe_item/?__page_size=100")).json()
    # RLS would let BJ see BJ-CY; the plugin is off there, so the admin does not.
    assert {r["id"] for r in listed["rows"]} == {probe.rows["bj-hd-1"], probe.rows["bj-hd-2"]}
    off = f"/admin/api/tables/adminprobe_item/{probe.rows['bj-cy']}/"
    assert is_problem(await manager.get(off), 404)

    shanghai = await admin_client(world, "demo.sh.manager")
    assert "adminprobe_item" not in (await shanghai.get("/admin/api/tables/")).json()
    hidden = await shanghai.get("/admin/api/tables/adminprobe_item/")
    assert is_problem(hidden, 404)
    assert hidden.json()["type"].endswith("/plugin_disabled")

    # Switched off at head office through the admin: gone for BJ at once.
    admin = await admin_client(world, "demo.admin")
    row_id = await db.fetchval(
        "SELECT id FROM bankcrm_plugin_enablement WHERE plugin = 'adminprobe' AND branch = $1",
        world.branch("HQ"),
    )
    url = f"/admin/api/tables/bankcrm_plugin_enablement/{row_id}/"
    assert (await admin.patch(url, json={"enabled": False})).status_code == 200
    assert "adminprobe_item" not in (await manager.get("/admin/api/tables/")).json()
    changed = await db.fetchrow(
        "SELECT enabled, changed_by FROM bankcrm_plugin_enablement WHERE id = $1", row_id
    )
    assert changed is not None
    assert (changed["enabled"], changed["changed_by"]) == (
        False,
        f"user:{world.users['demo.admin']}",
    )


async def test_branch_picker_offers_the_narrowed_scope_only(probe: Probe) -> None:
    world = probe.world
    await enable(world, "adminprobe", "BJ-CY", enabled=False)
    manager = await admin_client(world, "demo.bj.manager")
    picker = await manager.get("/admin/api/tables/bankcrm_branch/ids/")
    assert picker.status_code == 200
    # Customer screens of installed plugins may point at branches too; where they are
    # enabled (head office) they widen the picker to the whole BJ subtree, never beyond.
    offered = {int(key) for key in picker.json()}
    assert offered <= await world.subtree("BJ")
    assert world.branch("BJ-HD") in offered
    assert is_problem(await manager.get("/admin/api/tables/bankcrm_branch/"), 403)
    assert is_problem(await manager.get("/admin/api/tables/bankcrm_branch/count/"), 403)


# --- labels and language ---------------------------------------------------------------------


async def test_schema_labels_follow_the_ui_language(probe: Probe) -> None:
    client = await admin_client(probe.world, "demo.bj.manager")
    translations = (await client.get("/admin/public/translations/")).json()
    assert translations["default_language_code"] == "zh-CN"
    assert {t["language_code"] for t in translations["translations"]} == {"zh-CN", "en"}

    schema = (await client.get("/admin/api/tables/adminprobe_item/schema/")).json()
    titles = {name: p["title"] for name, p in schema["properties"].items()}
    assert titles["name"] == "名称"
    assert titles["code"] == "代码（只读）"
    assert schema["extra"]["help_text"] == "探针条目"

    assert (await client.get("/admin/public/translations/en/")).status_code == 200
    schema = (await client.get("/admin/api/tables/adminprobe_item/schema/")).json()
    assert schema["properties"]["phone"]["title"] == "Phone"
    assert schema["properties"]["code"]["title"] == "Code (read-only)"
    grouped = (await client.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert {"Probe", "System"} <= set(grouped)
    assert "探针" not in grouped

    assert (await client.get("/admin/public/translations/zh-cn/")).status_code == 200
    schema = (await client.get("/admin/api/tables/adminprobe_item/schema/")).json()
    assert schema["properties"]["phone"]["title"] == "手机号"


# --- masks and read-only columns -------------------------------------------------------------


async def test_masked_columns_are_masked_and_cannot_be_probed(probe: Probe) -> None:
    client = await admin_client(probe.world, "demo.bj.manager")
    base = "/admin/api/tables/adminprobe_item/"
    rows = (await client.get(base + "?__readable=true")).json()["rows"]
    assert {r["phone"] for r in rows} == {"138****0001", "138****0002", "138****0003"}
    detail = (await client.get(f"{base}{probe.rows['bj-hd-1']}/")).json()
    assert detail["phone"] == "138****0001"
    csv = (
        await client.get(
            base, params={"__page_size": 1000, "__readable": "true", "__visible_fields": "id,phone"}
        )
    ).json()
    assert all("****" in r["phone"] for r in csv["rows"])
    for params in (
        {"phone": "1380000000"},
        {"phone__operator": "gte", "phone": "1"},
        {"__order": "-phone"},
        {"__order": "no_such_column"},
    ):
        for endpoint in ("", "count/"):
            assert is_problem(await client.get(base + endpoint, params=params), 400), params


async def test_edit_form_round_trip_keeps_masked_and_read_only_values(probe: Probe) -> None:
    client = await admin_client(probe.world, "demo.bj.manager")
    url = f"/admin/api/tables/adminprobe_item/{probe.rows['bj-hd-1']}/"
    form = (await client.get(url)).json()
    form.pop("id")
    form["name"] = "改过的名称"
    saved = await client.patch(url, json=form)
    assert saved.status_code == 200, saved.text
    row = await probe.db_row("bj-hd-1")
    assert (row["name"], row["phone"], row["code"]) == ("改过的名称", "13800000001", "BJ-HD-1")

    new_phone = await client.patch(url, json={"phone": "13700000009"})
    assert new_phone.status_code == 200
    assert (await probe.db_row("bj-hd-1"))["phone"] == "13700000009"

    refused = await client.patch(url, json={"code": "OTHER"})
    assert is_problem(refused, 422)
    assert refused.json()["db_error"] == "code is read-only"
    assert (await probe.db_row("bj-hd-1"))["code"] == "BJ-HD-1"


# --- audit and transactions ------------------------------------------------------------------


async def test_admin_writes_are_audited_in_their_transaction(probe: Probe) -> None:
    world = probe.world
    client = await admin_client(world, "demo.bj.manager")
    base = "/admin/api/tables/adminprobe_item/"
    created = await client.post(
        base,
        json={
            "code": "NEW",
            "name": "新条目",
            "phone": "13611112222",
            "amount": 5,
            "branch_id": world.branch("BJ-HD"),
        },
    )
    assert created.status_code == 201, created.text
    new_id = created.json()[0]["id"]
    # Answered after the commit: a read straight after the write sees it.
    assert (await client.get(f"{base}{new_id}/")).json()["name"] == "新条目"

    patched = await client.patch(f"{base}{new_id}/", json={"amount": 7, "phone": "13633334444"})
    assert patched.status_code == 200
    failed = await client.patch(f"{base}{new_id}/", json={"name": "不会保存", "amount": -1})
    assert is_problem(failed, 422)
    assert (await client.delete(f"{base}{new_id}/")).status_code == 204

    trail = await audit_rows(world, "adminprobe.item")
    assert [(r["action"], r["entity_id"]) for r in trail] == [
        ("create", str(new_id)),
        ("update", str(new_id)),
        ("delete", str(new_id)),
    ]
    create, update, delete = trail
    assert create["branch_id"] == world.branch("BJ-HD")
    assert create["actor"] == f"user:{world.users['demo.bj.manager']}"
    assert '"phone": "136****2222"' in create["after"]
    assert '"amount": 5' in (update["before"] or "")
    assert '"phone": "136****4444"' in update["after"]
    assert "13633334444" not in (delete["before"] or "")
    assert all(r["reason"] == "admin ui" for r in trail)


async def test_the_answer_leaves_only_after_the_commit(probe: Probe) -> None:
    """Under a real server the client reads as soon as the answer starts: it must be there."""
    world = probe.world
    row_id = probe.rows["bj-hd-2"]
    owner = await asyncpg.connect(world.kernel.owner_url)
    seen: list[str] = []

    async def observed(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "PATCH":
                seen.append(
                    await owner.fetchval("SELECT name FROM adminprobe_item WHERE id = $1", row_id)
                )
            await send(message)

        await world.app(scope, receive, watch)

    logged_in = await admin_client(world, "demo.bj.manager")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=observed),
        base_url="http://testserver",
        cookies=logged_in.cookies,
        headers=logged_in.headers,
    )
    try:
        saved = await client.patch(
            f"/admin/api/tables/adminprobe_item/{row_id}/", json={"name": "已提交"}
        )
    finally:
        await client.aclose()
        await owner.close()
    assert saved.status_code == 200, saved.text
    assert seen == ["已提交"]


async def test_write_hooks_refuse_to_run_outside_a_transaction() -> None:
    spec = check_screen("adminprobe", PROBE_SCREEN)
    for hook in hooks_for(spec, KernelRules()):
        arguments = {
            "pre_save": {"row": ProbeItem(code="x", name="x", branch_id=1)},
            "pre_patch": {"row_id": 1, "values": {ProbeItem.name: "x"}},
            "pre_delete": {"row_id": 1},
        }[hook.hook_type.value]
        with pytest.raises(OutsideTransaction):
            await hook.callable(**arguments)


# --- row-level security through the admin ----------------------------------------------------


async def test_writes_cannot_reach_other_branches(probe: Probe) -> None:
    world = probe.world
    client = await admin_client(world, "demo.bj.manager")
    base = "/admin/api/tables/adminprobe_item/"
    shanghai = f"{base}{probe.rows['sh-pd-1']}/"
    assert is_problem(await client.patch(shanghai, json={"name": "x"}), 403, 404)
    assert is_problem(await client.delete(shanghai), 403, 404)
    moved = await client.patch(
        f"{base}{probe.rows['bj-hd-1']}/", json={"branch_id": world.branch("SH-PD")}
    )
    assert is_problem(moved, 403)
    planted = await client.post(
        base, json={"code": "X", "name": "x", "amount": 1, "branch_id": world.branch("SH-PD")}
    )
    assert is_problem(planted, 403)
    assert (await probe.db_row("sh-pd-1"))["name"] == "条目 sh-pd-1"
    assert (await probe.db_row("bj-hd-1"))["branch_id"] == world.branch("BJ-HD")
    assert [r["action"] for r in await audit_rows(world, "adminprobe.item")] == []


@dataclass(frozen=True)
class ScopedRows:
    visible: dict[Any, int | None]
    """primary key -> branch id of the rows the BJ subtree may see."""
    foreign: list[Any]
    """primary keys of rows outside it."""


async def scoped_rows(owner_url: str, spec: ScreenSpec, subtree: frozenset[int]) -> ScopedRows:
    pk = spec.table._meta.primary_key._meta.db_column_name
    owner = await asyncpg.connect(owner_url)
    try:
        rows = await owner.fetch(
            f"SELECT {db.quote_ident(pk)} AS pk, branch_id FROM {db.quote_ident(spec.tablename)}"
        )
    finally:
        await owner.close()
    return ScopedRows(
        {r["pk"]: r["branch_id"] for r in rows if r["branch_id"] in subtree},
        [r["pk"] for r in rows if r["branch_id"] not in subtree],
    )


async def restrictive_tables(owner_url: str) -> set[str]:
    """Tables whose rows a restrictive policy narrows below the branch scope."""
    owner = await asyncpg.connect(owner_url)
    try:
        rows = await owner.fetch(
            "SELECT tablename FROM pg_policies WHERE permissive = 'RESTRICTIVE'"
            " AND cmd IN ('SELECT', 'ALL')"
        )
    finally:
        await owner.close()
    return {row["tablename"] for row in rows}


async def as_seen_by(scope: Scope, spec: ScreenSpec, rows: ScopedRows) -> ScopedRows:
    """``rows`` narrowed by the table's restrictive policy (a notification: its recipient
    alone); the rest of the branch's rows become rows the client must not reach."""
    pk = spec.table._meta.primary_key._meta.db_column_name
    with bind_scope(scope):
        shown = {
            r["pk"]
            for r in await db.fetch(
                f"SELECT {db.quote_ident(pk)} AS pk FROM {db.quote_ident(spec.tablename)}"
            )
        }
    return ScopedRows(
        {k: b for k, b in rows.visible.items() if k in shown},
        [k for k in rows.visible if k not in shown] + rows.foreign,
    )


async def isolation_problems(
    client: httpx.AsyncClient, spec: ScreenSpec, rows: ScopedRows
) -> list[str]:
    """Everything the BJ client can reach of ``spec``'s table, checked against ``rows``."""
    base = f"/admin/api/tables/{spec.tablename}/"
    pk = spec.table._meta.primary_key._meta.name
    problems = []
    listed = await client.get(base, params={"__page_size": 1000})
    # Compared as text: JSON carries UUID keys as strings.
    visible = {str(k) for k in rows.visible}
    seen = {str(r[pk]) for r in listed.json()["rows"]}
    if seen != visible:
        problems.append(f"list: {sorted(seen ^ visible)}")
    count = (await client.get(base + "count/")).json()["count"]
    if count != len(rows.visible):
        problems.append(f"count {count} != {len(rows.visible)}")
    ids = (await client.get(base + "ids/")).json()
    if {str(k) for k in ids} != {str(k) for k in rows.visible}:
        problems.append("ids (key picker) differ")
    csv = await client.get(
        base,
        params={"__page_size": 1000, "__readable": "true", "__visible_fields": pk, "__page": 1},
    )
    if {str(r[pk]) for r in csv.json()["rows"]} != visible:
        problems.append("CSV export pages differ")
    for key in list(rows.visible)[:1]:
        if (await client.get(f"{base}{key}/")).status_code != 200:
            problems.append(f"detail of own row {key} refused")
    for key in rows.foreign[:1]:
        for method in ("GET", "PATCH", "DELETE"):
            response = await client.request(
                method, f"{base}{key}/", json={} if method == "PATCH" else None
            )
            if not is_problem(response, 403, 404, 405):
                problems.append(f"{method} {key}: {response.status_code} {response.text[:80]}")
    return problems


async def test_every_scoped_screen_is_isolated_in_the_admin(world: World, app: Any) -> None:
    """Over every registered screen on a branch-scoped table (the audit trail, plugins')."""
    kernel = world.kernel
    demo = DemoContext(
        branches=dict(world.branches), users=dict(world.users), roles=dict(world.roles), scale=10
    )
    with bind_scope(world.system_scope()):
        for code in ("BJ", "BJ-HD", "BJ-CY", "SH", "SH-PD", "HQ"):
            async with db.transaction():
                await audit.record(
                    audit.Action.VIEW, "test.sample", code, branch_id=world.branch(code)
                )
        await kernel.registry.call_in_order("seed_demo_data", demo=demo)
    # Superuser-only screens (technical tables) show a superuser every branch anyway.
    specs = [s for s in admin_screens(kernel) if s.scoped and not s.superuser_only]
    await grant(
        world,
        "demo.bj.manager",
        "BJ",
        sorted({p for s in specs for p in (s.screen.permission, s.write_permission)}),
    )
    client = await admin_client(world, "demo.bj.manager")
    subtree = await world.subtree("BJ")
    narrowed = await restrictive_tables(kernel.owner_url)
    manager = world.users["demo.bj.manager"]
    checked, problems = [], {}
    for spec in specs:
        rows = await scoped_rows(kernel.owner_url, spec, subtree)
        if spec.tablename in narrowed:
            rows = await as_seen_by(Scope(f"user:{manager}", subtree, user_id=manager), spec, rows)
        found = await isolation_problems(client, spec, rows)
        if found:
            problems[spec.tablename] = found
        if rows.visible and rows.foreign:
            checked.append(spec.tablename)
    assert problems == {}
    assert "bankcrm_audit" in checked


async def test_probe_screen_is_isolated_in_the_admin(probe: Probe) -> None:
    spec = next(s for s in admin_screens(probe.world.kernel) if s.table is ProbeItem)
    client = await admin_client(probe.world, "demo.bj.manager")
    rows = await scoped_rows(probe.world.kernel.owner_url, spec, await probe.world.subtree("BJ"))
    assert len(rows.visible) == 3
    assert len(rows.foreign) == 2
    assert await isolation_problems(client, spec, rows) == []


# --- kernel screens --------------------------------------------------------------------------


async def test_kernel_screens_hide_secrets_and_keep_rest_rules(world: World) -> None:
    admin = await admin_client(world, "demo.admin")
    users = (await admin.get("/admin/api/tables/piccolo_user/?__page_size=100")).json()["rows"]
    assert len(users) == len(world.users)
    assert all("password" not in u for u in users)
    assert is_problem(
        await admin.get("/admin/api/tables/piccolo_user/", params={"password": "pbkdf2"}), 400
    )

    issued = await auth.create_api_client("ops", world.branch("BJ"), [], "test")
    rows = (await admin.get("/admin/api/tables/bankcrm_api_client/")).json()["rows"]
    assert [r["id"] for r in rows] == [issued.client_id]
    assert "token_hash" not in rows[0]
    assert (
        "token_hash"
        not in (await admin.get(f"/admin/api/tables/bankcrm_api_client/{issued.client_id}/")).json()
    )
    schema = (await admin.get("/admin/api/tables/bankcrm_api_client/schema/")).json()
    assert "token_hash" not in schema["properties"]
    assert "token_hash" not in (await admin.get("/admin/api/tables/bankcrm_api_client/new/")).json()
    assert is_problem(await admin.post("/admin/api/tables/bankcrm_api_client/", json={}), 405)
    assert is_problem(await admin.patch("/admin/api/tables/bankcrm_audit/1/", json={}), 405)

    weak = await admin.post(
        "/admin/api/tables/piccolo_user/", json={"username": "new.user", "password": "weak"}
    )
    assert is_problem(weak, 422)
    created = await admin.post(
        "/admin/api/tables/piccolo_user/",
        json={
            "username": "new.user",
            "password": "Strong-Passw0rd!",
            "email": "n@example.com",
            "active": True,
            "admin": "true",
            "superuser": "false",
        },
    )
    assert created.status_code == 201, created.text
    flags = await db.fetchrow(
        "SELECT admin, superuser FROM piccolo_user WHERE username = $1", "new.user"
    )
    assert flags is not None
    assert (flags["admin"], flags["superuser"]) == (True, False)
    await world.client("new.user", "Strong-Passw0rd!")
    new_id = created.json()["id"]
    row = f"/admin/api/tables/piccolo_user/{new_id}/"
    assert is_problem(await admin.patch(row, json={"password": "weak"}), 422)
    session = await world.client("new.user", "Strong-Passw0rd!")
    reset = await admin.patch(row, json={"password": "Reset-Passw0rd!", "first_name": "新"})
    assert reset.status_code == 200, reset.text
    assert (await session.get("/api/v1/auth/me")).status_code == 401
    await world.client("new.user", "Reset-Passw0rd!")
    for recent in ("Reset-Passw0rd!", "Strong-Passw0rd!"):
        reused = await admin.patch(row, json={"password": recent})
        assert is_problem(reused, 422), recent
        assert "last 5 passwords" in reused.json()["db_error"]
    await world.client("new.user", "Reset-Passw0rd!")
    trail = await audit_rows(world, "bankcrm.user")
    assert [r["action"] for r in trail] == ["create", "update"]
    assert all("Passw0rd" not in (r["after"] or "") for r in trail)
    assert '"password": "(changed)"' in trail[1]["after"]


async def test_kernel_tables_keep_their_rest_rules(world: World) -> None:
    admin = await admin_client(world, "demo.admin")
    created = await admin.post(
        "/admin/api/tables/bankcrm_branch/",
        json={
            "code": "BJ-XC",
            "name": "北京西城支行",
            "name_en": "Xicheng",
            "parent": world.branch("BJ"),
            "level": 0,
            "path": "",
            "active": True,
        },
    )
    assert created.status_code == 201, created.text
    new_id = created.json()[0]["id"]
    manager = await world.client("demo.bj.manager")
    assert new_id in (await manager.get("/api/v1/auth/me")).json()["branch_ids"]
    moved = await admin.patch(
        f"/admin/api/tables/bankcrm_branch/{new_id}/", json={"parent": world.branch("SH")}
    )
    assert is_problem(moved, 422)
    unknown = await admin.post(
        "/admin/api/tables/bankcrm_plugin_enablement/",
        json={
            "branch": world.branch("BJ"),
            "plugin": "no_such_plugin",
            "enabled": True,
            "settings": "{}",
        },
    )
    assert is_problem(unknown, 422)
    assert "not installed" in unknown.json()["detail"]


async def test_the_admin_page_brings_the_kernels_script_and_stylesheet(probe: Probe) -> None:
    client = await admin_client(probe.world, "demo.bj.rm")
    page = (await client.get("/admin/")).text
    assert '<script defer src="./bankcrm/admin.js"></script>' in page
    assert '<link rel="stylesheet" href="./bankcrm/admin.css">' in page
    script = await client.get("/admin/bankcrm/admin.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "./api/screens/" in script.text
    style = await client.get("/admin/bankcrm/admin.css")
    assert style.headers["content-type"].startswith("text/css")
    assert is_problem(await client.get("/admin/bankcrm/other.js"), 404)
    # A reader is offered no write; a writer everything the screen allows.
    shown = (await client.get("/admin/api/screens/")).json()["screens"]
    assert shown["adminprobe_item"]["deny"] == ["create", "edit", "delete"]
    writer = await admin_client(probe.world, "demo.bj.manager")
    shown = (await writer.get("/admin/api/screens/")).json()["screens"]
    assert shown["adminprobe_item"] == {
        "title": "探针条目", "deny": [], "row_page": None, "row_page_title": None,
    }  # fmt: skip
    writer.cookies.set("bankcrm_admin_lang", "en")
    shown = (await writer.get("/admin/api/screens/")).json()["screens"]
    assert shown["adminprobe_item"]["title"] == "Probe items"
