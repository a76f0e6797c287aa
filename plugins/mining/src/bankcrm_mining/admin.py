"""The admin screen: the model registry, read-only (a version is immutable; its status
moves through the REST API's approve and retire, where maker-checker is enforced)."""

from __future__ import annotations

from bankcrm.plugin_api import AdminScreen, Label
from bankcrm_mining.access import DATA_READ, MODEL_READ, SCORE_READ
from bankcrm_mining.tables import FeatureRun, Load, Model, Score, ScoringRun, TrainingRun

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

LOAD_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "source": Label("数据类别（transactions 交易流水）", "Source (transactions)"),
    "file_name": Label("文件名", "File"),
    "file_sha256": Label("文件指纹", "File SHA-256"),
    "status": Label("结果（loaded 已装载 / refused 已拒收）", "Status (loaded/refused)"),
    "reason": Label("拒收原因", "Reason refused"),
    "rows_in": Label("读入行数", "Rows in"),
    "rows_loaded": Label("装载行数", "Rows loaded"),
    "rows_rejected": Label("剔除行数", "Rows rejected"),
    "rows_linked": Label("已关联客户", "Linked to a customer"),
    "rows_unlinked": Label("未关联客户", "Not linked"),
    "report": Label("数据质量报告", "Data-quality report"),
    "created_by": Label("装载人", "Loaded by"),
    "created_at": Label("装载时间", "Loaded at"),
}

RUN_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "as_of": Label("特征日期（仅用此前数据）", "As of (data before it only)"),
    "version": Label("版本", "Version"),
    "definition": Label("特征定义", "Definition"),
    "customers": Label("客户数", "Customers"),
    "fingerprint": Label("特征指纹", "Fingerprint"),
    "created_by": Label("生成人", "Built by"),
    "created_at": Label("生成时间", "Built at"),
}

SCORING_RUN_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "model": Label("模型版本编号", "Model version"),
    "feature_run": Label("特征快照编号", "Feature run"),
    "status": Label("状态（queued 排队中 / done 已完成）", "Status (queued/done)"),
    "customers": Label("评分客户数", "Customers scored"),
    "stability": Label("人群稳定性（各特征及评分的 PSI）", "Population stability (PSI)"),
    "alerted": Label("已发稳定性告警", "Stability alert sent"),
    "created_by": Label("发起人", "Started by"),
    "created_at": Label("发起时间", "Started at"),
    "finished_at": Label("完成时间", "Finished at"),
}

SCORE_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "run": Label("评分批次", "Scoring run"),
    "model": Label("模型版本编号", "Model version id"),
    "model_name": Label("模型名称", "Model"),
    "model_version": Label("模型版本", "Version"),
    "customer": Label("客户编号", "Customer"),
    "score": Label("评分", "Score"),
    "probability": Label("事件概率", "Event probability"),
    "band": Label("等级（A 很低 … E 很高）", "Band (A lowest … E highest)"),
    "reasons": Label("主要原因", "Top reasons"),
    "scored_at": Label("评分时间", "Scored at"),
}

TRAINING_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "name": Label("模型名称", "Model name"),
    "task": Label("用途（churn 存款流失 / propensity 产品倾向）", "Task (churn/propensity)"),
    "product_category": Label("产品类别", "Product category"),
    "feature_run": Label("特征快照", "Feature run"),
    "outcome_run": Label("结果快照", "Outcome run"),
    "status": Label("状态（queued 排队中 / done 已完成 / failed 失败）", "Status"),
    "model": Label("登记的模型版本", "Model registered"),
    "error": Label("失败原因", "Why it failed"),
    "metrics": Label("留出样本指标", "Hold-out metrics"),
    "created_by": Label("发起人", "Started by"),
    "created_at": Label("发起时间", "Started at"),
    "finished_at": Label("完成时间", "Finished at"),
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
    AdminScreen(
        table=Load,
        title=Label("数据装载记录", "Data loads"),
        permission=DATA_READ,
        columns=LOAD_LABELS,
        visible_columns=(
            "id",
            "file_name",
            "status",
            "rows_in",
            "rows_loaded",
            "rows_rejected",
            "rows_linked",
            "created_at",
        ),
        visible_filters=("status", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=FeatureRun,
        title=Label("特征快照", "Feature runs"),
        permission=DATA_READ,
        columns=RUN_LABELS,
        visible_columns=("id", "as_of", "version", "customers", "branch_id", "created_at"),
        visible_filters=("as_of", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=ScoringRun,
        title=Label("批量评分", "Scoring runs"),
        permission=SCORE_READ,
        columns=SCORING_RUN_LABELS,
        visible_columns=(
            "id",
            "model",
            "feature_run",
            "status",
            "customers",
            "alerted",
            "created_at",
        ),
        visible_filters=("status", "alerted", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=Score,
        title=Label("客户评分", "Customer scores"),
        permission=SCORE_READ,
        columns=SCORE_LABELS,
        visible_columns=(
            "customer",
            "model_name",
            "model_version",
            "score",
            "band",
            "reasons",
            "scored_at",
        ),
        visible_filters=("model_name", "band", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
    AdminScreen(
        table=TrainingRun,
        title=Label("模型训练", "Training runs"),
        permission=MODEL_READ,
        columns=TRAINING_LABELS,
        visible_columns=("id", "name", "task", "status", "model", "error", "created_at"),
        visible_filters=("status", "task", "branch_id"),
        read_only=True,
        menu_group=GROUP,
    ),
)
