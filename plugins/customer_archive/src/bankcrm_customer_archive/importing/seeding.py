"""Demo data for imports: a small validated batch (with one bad row) and a saved source in
the Beijing and Shanghai branches, made by the real pipeline, so the preview, the error
report and the admin screen have something to show in ``bankcrm demo``."""

from __future__ import annotations

import csv
import hashlib
import tempfile
from pathlib import Path

from bankcrm.context import Scope, bind_scope, require_scope
from bankcrm.plugin_api import DemoContext
from bankcrm.web.upload import StoredUpload
from bankcrm_customer_archive.demo_data import generate_customers
from bankcrm_customer_archive.importing import service

DEMO_BRANCHES = ("BJ", "SH")
HEADER = ["客户名称", "证件号码", "手机号", "出生日期", "性别"]


def _demo_file(folder: Path, code: str, seed: int) -> StoredUpload:
    path = folder / f"样例导入-{code}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for customer in generate_customers(3, seed=seed, corporate_ratio=0.0):
            writer.writerow([
                customer.name, customer.id_number, customer.phone,
                customer.birth_date.isoformat() if customer.birth_date else "",
                {"M": "男", "F": "女"}.get(customer.gender or "", ""),
            ])  # fmt: skip
        writer.writerow(["号码有误", "110108198506143021", "12345", "1985-02-30", "男"])
    data = path.read_bytes()
    return StoredUpload(path, path.name, len(data), hashlib.sha256(data).hexdigest())


async def seed_import_demo(demo: DemoContext) -> None:
    system = require_scope()
    with tempfile.TemporaryDirectory(prefix="bankcrm-demo-import-") as folder:
        for number, code in enumerate(DEMO_BRANCHES):
            branch_id = demo.branches.get(code)
            if branch_id is None:
                continue
            scope = Scope(
                actor=system.actor, branch_ids=frozenset({branch_id}), is_superuser=True,
                home_branch_id=branch_id,
            )  # fmt: skip
            stored = _demo_file(Path(folder), code, seed=9000 + number)
            stored.fields.update(
                {"branch_id": str(branch_id), "source": "核心系统导出", "save_mapping": "true"}
            )
            with bind_scope(scope):
                await service.upload(stored)
