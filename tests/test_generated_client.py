"""An integrator's client, generated from the published description, does real work.

``openapi-python-client`` generates a typed client from ``/schema/openapi.json`` (as an
integrator would); it then drives a real server: log in with the session cookie, issue an
API token, and with the token create a customer, search for it (page size in the body),
read its 360° view, export it as xlsx and upload an import file. Each answer is parsed by
the generated models, so a description that does not match the API fails here.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bankcrm_sdk.live_server import live_server
from bankcrm_sdk.world import PASSWORD, World

PACKAGE = "bankcrm_generated_client"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CUSTOMER_ARCHIVE = "customer_archive"
BYTES = "application/octet-stream"
FILES = (
    XLSX,
    "text/csv",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def resident_id(first17: str) -> str:
    """A resident ID number with its ISO 7064 MOD 11-2 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


@pytest.fixture
def generated(tmp_path: Path, world: World) -> Iterator[Any]:
    """The client package generated from the app's description, imported."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(world.app.openapi_schema.to_schema(), default=str), encoding="utf-8")
    output = tmp_path / PACKAGE
    # Files (exports, reports, documents) are bytes to a client, whatever their type.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"content_type_overrides": dict.fromkeys(FILES, BYTES)}))
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
         "--output-path", str(output), "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # Every part of the description must generate: a skipped part is a client without it.
    assert "Unable to parse" not in done.stdout, done.stdout
    assert "WARNING" not in done.stdout, done.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_generated_client_drives_a_real_flow(world: World, generated: Any) -> None:
    if CUSTOMER_ARCHIVE not in world.kernel.registry.order:
        pytest.skip("the flow needs the customer archive")
    models = _module("models")
    auth = "api.auth."
    archive = "api.customer_archive.api_v1_customer_archive_"
    async with live_server(world.app) as base_url:
        # Staff: a session cookie, kept by the generated client's HTTP client.
        staff = generated.Client(base_url=base_url, raise_on_unexpected_status=True)
        login = await _module(auth + "api_v1_auth_login_login").asyncio_detailed(
            client=staff, body=models.LoginBody(username="demo.admin", password=PASSWORD)
        )
        assert login.status_code == 200
        assert login.parsed.username == "demo.admin"
        me = await _module(auth + "api_v1_auth_me_me").asyncio(client=staff)
        assert me.username == "demo.admin"
        branch_id = world.branch("BJ")
        create_api_client = _module("api.api_clients.api_v1_api_clients_create_api_client")
        issued = await create_api_client.asyncio_detailed(
            client=staff,
            body=models.ApiClientIn(
                name="generated-client",
                branch_id=branch_id,
                permissions=[
                    "customer_archive.customer.read",
                    "customer_archive.customer.write",
                    "customer_archive.customer.export",
                    "customer_archive.import.write",
                ],
            ),
        )
        assert issued.status_code == 201, issued.content
        assert issued.headers["location"].startswith("/api/v1/api-clients/")
        token = issued.parsed.token

        # The integration: a bearer token.
        api = generated.AuthenticatedClient(
            base_url=base_url, token=token, raise_on_unexpected_status=True
        )
        created = await _module(archive + "customers_create").asyncio_detailed(
            client=api,
            body=models.CustomerIn(
                kind=models.CustomerInKind.INDIVIDUAL,
                name="契约测试",
                id_type=models.CustomerInIdType.RESIDENT_ID,
                id_number=resident_id("11010819850614301"),
                branch_id=branch_id,
                phone="13800138000",
            ),
        )
        assert created.status_code == 201, created.content
        customer = created.parsed
        assert created.headers["location"].endswith(f"/customers/{customer.id}")

        found = await _module(archive + "customers_search_search_by_body").asyncio(
            client=api, body=models.CustomerSearchIn(q="契约测试", limit=1)
        )
        assert [item.id for item in found.items] == [customer.id]

        view = await _module(archive + "customers_customer_id_360_view_360").asyncio_detailed(
            client=api, customer_id=customer.id
        )
        assert view.status_code == 200
        assert view.parsed is not None

        exported = await _module(archive + "customers_export_export_by_body").asyncio_detailed(
            client=api,
            body=models.ExportIn(
                filter_=models.CustomerFilter(q="契约测试"),
                format_=models.ExportInFormat.XLSX,
            ),
        )
        assert exported.status_code == 200
        assert exported.headers["content-type"] == XLSX
        assert exported.content[:2] == b"PK"  # a zip container: a real workbook

        form = models.ApiV1CustomerArchiveImportsUploadImportForm(
            file=generated.types.File(
                payload=io.BytesIO("姓名,证件类型,证件号码\n".encode()), file_name="empty.csv"
            )
        )
        upload = await _module(archive + "imports_upload").asyncio_detailed(client=api, body=form)
        # A file without rows is refused with a problem the generated client parses.
        assert upload.status_code in (201, 422), upload.content
        if upload.status_code == 422:
            assert upload.parsed.status == 422
            assert upload.parsed.errors
