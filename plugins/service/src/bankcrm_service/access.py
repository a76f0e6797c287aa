"""The permissions this plugin declares, and which standard role gets each.

Names are ``service.<object>.<verb>``; the head-office administrator holds every
permission anyway. The kernel grants these on every ``bankcrm migrate``.
"""

from __future__ import annotations

from bankcrm.plugin_api import PermissionSpec, RoleGrant, StandardRole

TICKET_READ = "service.ticket.read"
TICKET_WRITE = "service.ticket.write"
SLA_READ = "service.sla.read"
SLA_WRITE = "service.sla.write"
FAQ_READ = "service.faq.read"
FAQ_WRITE = "service.faq.write"
VISIT_PLAN_WRITE = "service.visit_plan.write"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    PermissionSpec(
        TICKET_READ,
        "查看服务工单",
        "Read tickets",
    ),
    PermissionSpec(
        TICKET_WRITE,
        "维护服务工单",
        "Create, change and delete tickets",
    ),
    PermissionSpec(
        SLA_READ,
        "查看服务时效（SLA）策略与超时报表",
        "Read SLA policies, a ticket's SLA steps and the breach report",
    ),
    PermissionSpec(
        SLA_WRITE,
        "维护服务时效（SLA）策略",
        "Create, change and delete SLA policies",
    ),
    PermissionSpec(
        FAQ_READ,
        "查看常见问题知识库",
        "Read FAQ articles, their versions and suggested answers",
    ),
    PermissionSpec(
        FAQ_WRITE,
        "维护常见问题知识库",
        "Create, change, publish and delete FAQ articles and categories",
    ),
    PermissionSpec(
        VISIT_PLAN_WRITE,
        "维护客户走访计划",
        "Create visit plans (care tasks themselves follow the ticket permissions)",
    ),
)

GRANTS: tuple[RoleGrant, ...] = (
    RoleGrant(StandardRole.BRANCH_MANAGER, ("service.*",)),
    RoleGrant(
        StandardRole.RELATIONSHIP_MANAGER,
        (TICKET_READ, TICKET_WRITE, SLA_READ, FAQ_READ),
    ),
    RoleGrant(StandardRole.TELLER, (TICKET_READ, FAQ_READ)),
    RoleGrant(StandardRole.AUDITOR, (TICKET_READ, SLA_READ, FAQ_READ)),
)
