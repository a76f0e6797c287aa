"""The standard test world: the demo branch tree, the declared roles and one user per
standard role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from bankcrm import branches
from bankcrm.context import Scope, bind_scope
from bankcrm.demo import DEMO_PASSWORD, seed_kernel_world
from bankcrm.runtime import Kernel

PASSWORD = DEMO_PASSWORD


@dataclass
class World:
    kernel: Kernel
    branches: dict[str, int]
    users: dict[str, int]
    app: Any
    roles: dict[str, int] = field(default_factory=dict)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    def branch(self, code: str) -> int:
        return self.branches[code]

    async def subtree(self, code: str) -> frozenset[int]:
        return (await branches.snapshot()).subtree(self.branches[code])

    def system_scope(self, *codes: str) -> Scope:
        """A scope over exactly the branches ``codes`` name (all branches when none are given);
        :meth:`scope_of` includes their sub-branches."""
        ids = set()
        for code in codes or tuple(self.branches):
            ids.add(self.branches[code])
        return Scope(actor="system:test", branch_ids=frozenset(ids), is_superuser=True)

    async def scope_of(self, *codes: str) -> Scope:
        ids: set[int] = set()
        for code in codes or ("HQ",):
            ids |= await self.subtree(code)
        return Scope(actor="system:test", branch_ids=frozenset(ids), is_superuser=True)

    def anonymous_client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )
        self._clients.append(client)
        return client

    async def client(self, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        """A client logged in as ``username`` (one of the demo users)."""
        client = self.anonymous_client()
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return client

    def token_client(self, token: str) -> httpx.AsyncClient:
        client = self.anonymous_client()
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    def bind(self, scope: Scope) -> Any:
        return bind_scope(scope)


async def build_world(kernel: Kernel, app: Any) -> World:
    context = await seed_kernel_world(kernel)
    return World(kernel, context.branches, context.users, app, context.roles)


async def truncate_all(owner_url: str) -> None:
    """Empty every table (but Piccolo's migration ledger) and restart the audit chain."""
    import asyncpg

    connection = await asyncpg.connect(owner_url)
    try:
        tables = await connection.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('migration', 'bankcrm_audit_head')"
        )
        names = ", ".join(row["name"] for row in tables)
        async with connection.transaction():
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            await connection.execute(
                "UPDATE bankcrm_audit_head SET last_id = 0, last_hash = repeat('0', 64)"
            )
    finally:
        await connection.close()
    branches.invalidate()
