"""Admin writes: one transaction around piccolo-admin's write and its hooks' audit rows.

The body is read before a connection is taken, so a slow upload holds none; the answer is
held back until the commit, so a read right after it sees the change. A refused write
rolls back whole.
"""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser

from bankcrm import branches, db
from bankcrm.admin.errors import as_problem
from bankcrm.admin.exchange import ASGIApp, Request, read_body, relay, replay, run
from bankcrm.admin.kernel_rules import CACHED_TABLES
from bankcrm.admin.masking import Masking
from bankcrm.admin.screens import ScreenSpec
from bankcrm.admin.user_creation import create_user


async def write(
    app: ASGIApp, request: Request, spec: ScreenSpec, kind: str, masking: Masking
) -> None:
    """``kind``: ``""`` creates on the list, ``row`` edits or deletes one row."""
    body = await read_body(request.receive)
    async with db.transaction() as transaction:
        if issubclass(spec.table, BaseUser) and kind == "":
            captured = await create_user(spec, body)
        else:
            captured = await run(app, request.scope, replay(body, request.receive))
        if captured.status >= 400:
            await transaction.rollback()
    if captured.status >= 400:
        raise as_problem(captured)
    if spec.tablename in CACHED_TABLES:
        branches.invalidate()
    if kind == "row" and captured.header(b"content-type").startswith("application/json"):
        # piccolo answers a PATCH with the whole row as stored: masks apply here too.
        captured.replace_json(masking.row(spec, captured.json()))
    await relay(request.send, captured)
