"""The permissions this plugin declares, and which standard role gets each.

Names are ``mining.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

MODEL_READ = "mining.model.read"
MODEL_WRITE = "mining.model.write"
MODEL_APPROVE = "mining.model.approve"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(MODEL_READ, "查看模型", "Read the model registry"),
    PermissionSpec(MODEL_WRITE, "登记模型", "Register and retire model versions"),
    PermissionSpec(
        MODEL_APPROVE,
        "审批模型",
        "Approve a model version for production scoring (never one you registered)",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("mining.*",)),
    RoleGrant(StandardRole.RELATIONSHIP_MANAGER, (MODEL_READ,)),
    RoleGrant(StandardRole.TELLER, (MODEL_READ,)),
    RoleGrant(StandardRole.AUDITOR, (MODEL_READ,)),
)
