"""A real installation's first day without the demo: init, the branch tree from a file,
the first administrator logs in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bankcrm_sdk.database import TestDatabase

PASSWORD = "Ops-Admin-Passw0rd#"


def bankcrm(database: TestDatabase, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bankcrm", *args],
        env=dict(os.environ, BANKCRM_DATABASE_URL=database.owner_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_init_loads_the_tree_and_the_administrator_logs_in(
    clean_database: TestDatabase, app: Any, tmp_path: Path
) -> None:
    weak = bankcrm(clean_database, "init", "--admin", "ops.admin", BANKCRM_INIT_PASSWORD="short")
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr

    done = bankcrm(clean_database, "init", "--admin", "ops.admin", BANKCRM_INIT_PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "head office HQ" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    again = bankcrm(clean_database, "init", "--admin", "x", BANKCRM_INIT_PASSWORD=PASSWORD)
    assert again.returncode == 1
    assert "runs once" in again.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "机构代码,机构名称,上级机构代码\nBJ,北京分行,HQ\nBJ,重复,HQ\nSZ,深圳分行,GZ\n,无代码,HQ\n",
        encoding="utf-8",
    )
    refused = bankcrm(clean_database, "branches", "load", str(bad))
    assert refused.returncode == 1
    for expected in (
        "line 3, column code: 'BJ' already exists",
        "line 4, column parent_code: no branch 'GZ'",
        "line 5, column code: required",
    ):
        assert expected in refused.stderr, refused.stderr

    good = tmp_path / "tree.csv"
    # Children before their parent: the loader orders them.
    good.write_text(
        "机构代码,机构名称,英文名称,上级机构代码\n"
        "BJ-HD,北京海淀支行,Haidian,BJ\nBJ,北京分行,Beijing,HQ\nSH,上海分行,Shanghai,HQ\n",
        encoding="gbk",
    )
    loaded = bankcrm(clean_database, "branches", "load", str(good))
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 3 branches" in loaded.stdout

    staff = tmp_path / "staff.csv"
    staff.write_text(
        "工号,姓名,机构代码,直属上级,用户名,岗位\n"
        "B0002,李行长,BJ,B0001,,分行行长\nB0001,周总,HQ,,ops.admin,系统管理员\n"
        "B0003,王经理,BJ-HD,B0009,,客户经理\n",
        encoding="utf-8",
    )
    checked = bankcrm(clean_database, "employees", "load", str(staff))
    assert checked.returncode == 1
    assert "row 4, column 直属上级: no employee 'B0009'" in checked.stderr
    staff.write_text(staff.read_text(encoding="utf-8").replace("B0009", "B0002"), encoding="utf-8")
    employed = bankcrm(clean_database, "employees", "load", str(staff), "--commit")
    assert employed.returncode == 0, employed.stderr
    assert "loaded 3 rows: 3 new" in employed.stdout

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "ops.admin", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tree = (await client.get("/api/v1/branches")).json()
        assert {b["code"] for b in tree} == {"HQ", "BJ", "BJ-HD", "SH"}
        me = (await client.get("/api/v1/auth/me")).json()
        assert me["superuser"] is True
