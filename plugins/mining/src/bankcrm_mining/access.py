"""The permissions this plugin declares, and which standard role gets each.

Names are ``mining.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

MODEL_READ = "mining.model.read"
MODEL_WRITE = "mining.model.write"
MODEL_APPROVE = "mining.model.approve"
DATA_READ = "mining.data.read"
DATA_LOAD = "mining.data.load"
FEATURE_BUILD = "mining.feature.build"
SCORE_READ = "mining.score.read"
SCORE_RUN = "mining.score.run"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(MODEL_READ, "查看模型", "Read the model registry"),
    PermissionSpec(MODEL_WRITE, "登记模型", "Register and retire model versions"),
    PermissionSpec(
        MODEL_APPROVE,
        "审批模型",
        "Approve a model version for production scoring (never one you registered)",
    ),
    PermissionSpec(
        DATA_READ, "查看数据装载与特征", "Read loads, their quality reports and features"
    ),
    PermissionSpec(DATA_LOAD, "装载交易数据", "Load transaction files"),
    PermissionSpec(FEATURE_BUILD, "生成特征快照", "Materialise the feature store as of a date"),
    PermissionSpec(SCORE_READ, "查看客户评分", "Read customers' scores and their reasons"),
    PermissionSpec(SCORE_RUN, "运行批量评分", "Score a feature run with an approved model version"),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("mining.*",)),
    RoleGrant(StandardRole.RELATIONSHIP_MANAGER, (MODEL_READ, DATA_READ, SCORE_READ)),
    RoleGrant(StandardRole.TELLER, (MODEL_READ,)),
    RoleGrant(StandardRole.AUDITOR, (MODEL_READ, DATA_READ, SCORE_READ)),
)
