"""The permissions this plugin declares, and which standard role gets each.

Names are ``branch_notes.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

NOTE_READ = "branch_notes.note.read"
NOTE_WRITE = "branch_notes.note.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(
        NOTE_READ,
        "查看便签",
        "Read notes",
    ),
    PermissionSpec(
        NOTE_WRITE,
        "维护便签",
        "Create, change and delete notes",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("branch_notes.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (NOTE_READ, NOTE_WRITE),
    ),
    RoleGrant(StandardRole.TELLER, (NOTE_READ,)),
    RoleGrant(StandardRole.AUDITOR, (NOTE_READ,)),
)
