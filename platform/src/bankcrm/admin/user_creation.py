"""Creating a user in the admin: piccolo creates users without hooks, so without the
password policy or an audit row; the gate answers the users screen's create itself,
through :func:`bankcrm.auth.create_user`.
"""

from __future__ import annotations

from bankcrm import audit, auth, db
from bankcrm.admin.exchange import Captured, flag_field, parse_body, text_field
from bankcrm.admin.hooks import ADMIN_REASON, auditable
from bankcrm.admin.screens import ScreenSpec
from bankcrm.users import service as users
from bankcrm.web.problems import FieldError, Problem


async def create_user(spec: ScreenSpec, body: bytes) -> Captured:
    """The user the form describes, audited; answered as piccolo-admin would (``{"id"}``)."""
    data = parse_body(body, "application/json")
    username = text_field(data, "username", 100)
    password = text_field(data, "password", 128)
    if not username or not password:
        raise Problem(422, "username and password are required", code="invalid")
    flags = {
        k: flag_field(data.get(k), default)
        for k, default in (("active", True), ("admin", True), ("superuser", False))
    }
    try:
        user_id = await auth.create_user(
            username,
            password,
            email=text_field(data, "email", 255),
            first_name=text_field(data, "first_name", 255),
            last_name=text_field(data, "last_name", 255),
            superuser=flags["superuser"],
            admin_ui=flags["admin"],
        )
    except ValueError as exc:
        raise Problem(
            422, str(exc), [FieldError("body.password", str(exc))], "password_policy"
        ) from exc
    if not flags["active"]:
        await db.fetch("UPDATE piccolo_user SET active = false WHERE id = $1", user_id)
    # The administrator chose the password: the user replaces it at the first login.
    await users.require_password_change(user_id)
    shown = {"username": username, "password": password, **flags}
    await audit.record(
        audit.Action.CREATE,
        spec.entity,
        user_id,
        branch_id=None,
        after=auditable(spec, shown),
        reason=ADMIN_REASON,
    )
    return Captured.of_json(201, {"id": user_id})
