"""The notification centre's admin screens: one's own notifications, and deliveries.

Both are read-only: marking read goes through ``POST /api/v1/notifications/{id}/read``
and sending a dead letter again through ``POST /api/v1/notifications/deliveries/{id}/retry``
(the admin layer has no per-row actions). Row-level security decides the rows: a user's
own notifications on the first screen (whatever their permissions), the deliveries of the
operator's branches on the second.
"""

from __future__ import annotations

from bankcrm.notifications.tables import MANAGE_PERMISSION, Delivery, Notification
from bankcrm.plugin_api import AdminScreen, Label

NOTIFICATION_GROUP = Label("通知中心", "Notifications")
EVERY_USER = "authenticated"
"""The screen permission every logged-in user holds (as the REST guard's)."""


def own_notifications_screen() -> AdminScreen:
    return AdminScreen(
        table=Notification,
        title=Label("我的通知", "My notifications"),
        permission=EVERY_USER,
        columns={
            "id": Label("编号", "ID"),
            "branch_id": Label("机构", "Branch"),
            "template": Label("模板", "Template"),
            "category": Label("类别", "Category"),
            "params": Label("参数", "Parameters"),
            "title_zh": Label("标题", "Title (Chinese)"),
            "body_zh": Label("内容", "Text (Chinese)"),
            "title_en": Label("英文标题", "Title"),
            "body_en": Label("英文内容", "Text"),
            "source_plugin": Label("来源模块", "Source module"),
            "source_table": Label("来源表", "Source table"),
            "source_id": Label("来源记录", "Source record"),
            "created_at": Label("时间", "Time"),
            "read_at": Label("已读时间", "Read at"),
        },
        visible_columns=("title_zh", "title_en", "category", "created_at", "read_at"),
        visible_filters=("category", "template", "read_at", "created_at"),
        # Always the reader; shown, it would open a picker listing every user.
        hidden_columns=("recipient",),
        menu_group=NOTIFICATION_GROUP,
        read_only=True,
        allow_create=False,
    )


def deliveries_screen() -> AdminScreen:
    return AdminScreen(
        table=Delivery,
        title=Label("通知投递", "Notification deliveries"),
        permission=MANAGE_PERMISSION,
        columns={
            "id": Label("编号", "ID"),
            "branch_id": Label("机构", "Branch"),
            "notification": Label("通知", "Notification"),
            "channel": Label("渠道", "Channel"),
            "status": Label("状态", "Status"),
            "attempts": Label("尝试次数", "Attempts"),
            "next_attempt_at": Label("下次尝试", "Next attempt"),
            "last_error": Label("原因", "Reason"),
            "idempotency_key": Label("幂等键", "Idempotency key"),
            "created_at": Label("创建时间", "Created at"),
            "sent_at": Label("发送时间", "Sent at"),
            "retried_at": Label("重试时间", "Retried at"),
            "retried_by": Label("重试人", "Retried by"),
        },
        visible_columns=(
            "id",
            "branch_id",
            "channel",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "retried_at",
            "retried_by",
        ),
        visible_filters=("branch_id", "channel", "status", "created_at"),
        menu_group=NOTIFICATION_GROUP,
        read_only=True,
        allow_create=False,
    )
