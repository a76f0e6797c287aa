"""The admin screen: the model registry, read-only (a version is immutable; its status
moves through the REST API's approve and retire, where maker-checker is enforced)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_mining.access import MODEL_READ
from bankcrm_mining.tables import Model

GROUP = Label("客户分析与挖掘", "Customer analytics")

LABELS = {
    "id": Label("编号", "ID"),
    "name": Label("模型名称", "Name"),
    "task": Label(
        "用途（scorecard 信用评分卡 / default 信用卡违约 / churn 存款流失 / propensity 产品倾向）",
        "Task (scorecard/default/churn/propensity)",
    ),
    "version": Label("版本", "Version"),
    "status": Label("状态（draft 待审批 / approved 已批准 / retired 已停用）", "Status"),
    "kind": Label("模型类型（scorecard 评分卡 / logistic 逻辑回归）", "Kind"),
    "spec": Label("模型参数（评分表或系数）", "Specification (points table or coefficients)"),
    "features": Label("特征", "Features"),
    "metrics": Label("评估指标", "Metrics"),
    "data_fingerprint": Label("训练数据指纹", "Data fingerprint"),
    "description": Label("说明", "Description"),
    "created_by": Label("登记人", "Registered by"),
    "approved_by": Label("审批人", "Approved by"),
    "approved_at": Label("审批时间", "Approved at"),
    "created_at": Label("登记时间", "Registered at"),
    "updated_at": Label("更新时间", "Updated at"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Model,
        title=Label("模型登记簿", "Model registry"),
        permission=MODEL_READ,
        columns=LABELS,
        visible_columns=("id", "name", "task", "version", "status", "approved_by", "updated_at"),
        visible_filters=("name", "task", "status"),
        read_only=True,
        menu_group=GROUP,
    ),
)
