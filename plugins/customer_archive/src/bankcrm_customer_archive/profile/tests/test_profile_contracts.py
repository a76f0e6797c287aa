"""Contracts and their documents: CRUD, validation, uploads, scoped and audited downloads."""

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx

from bankcrm_customer_archive.profile import services as profile
from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


async def _contract(client: httpx.AsyncClient, customer_id: int, **more: Any) -> dict[str, Any]:
    body = {"kind": "loan", "number": "JK-2026-0001", "title": "个人住房贷款合同",
            "signed_on": "2026-01-05", "start_on": "2026-01-10", "end_on": "2046-01-10",
            "status": "active", "amount": "1200000", **more}  # fmt: skip
    response = await client.post(f"{BASE}/customers/{customer_id}/contracts", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_contract_crud_validation_and_audit(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj))["id"]
    url = f"{BASE}/customers/{customer_id}/contracts"
    contract = await _contract(bj, customer_id)
    assert (contract["amount"], contract["status"]) == ("1200000.00", "active")
    # Numbers are unique per branch, not across branches.
    duplicate = await bj.post(url, json={"kind": "deposit", "number": "JK-2026-0001"})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "/body/number"
    sh = await world.client("demo.sh.manager")
    sh_customer = (await kit.create(sh, branch_id=world.branch("SH")))["id"]
    await _contract(sh, sh_customer)

    for body, field in [
        (
            {"kind": "loan", "number": "A1", "start_on": "2026-02-01", "end_on": "2026-01-01"},
            "/body/end_on",
        ),
        ({"kind": "loan", "number": "A2", "signed_on": "2999-01-01"}, "/body/signed_on"),
        ({"kind": "loan", "number": "A3", "status": "active"}, "/body/signed_on"),
        ({"kind": "loan", "number": "A4", "amount": "-1"}, "/body/amount"),
    ]:
        response = await bj.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    assert (await bj.post(url, json={"kind": "lease", "number": "A5"})).status_code == 422

    contract_url = f"{BASE}/contracts/{contract['id']}"
    response = await bj.patch(contract_url, json={"status": "draft"})
    assert response.status_code == 422  # no way back
    response = await bj.patch(contract_url, json={"status": "terminated", "title": "已提前结清"})
    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    (update,) = await kit.audit(contract["id"], "update", "customer_archive.contract")
    assert json.loads(update["before"])["status"] == "active"
    assert json.loads(update["after"])["status"] == "terminated"
    assert (await bj.delete(contract_url)).status_code == 409  # signed contracts stay

    draft = await _contract(bj, customer_id, number="CK-1", kind="deposit", status="draft",
                            signed_on=None)  # fmt: skip
    assert (await bj.delete(f"{BASE}/contracts/{draft['id']}")).status_code == 204
    assert [c["number"] for c in (await bj.get(url)).json()] == ["JK-2026-0001"]
    assert (await sh.get(contract_url)).status_code == 404
    assert (await sh.patch(contract_url, json={"title": "x"})).status_code == 404


async def test_documents_upload_download_scope_and_audit(
    world: World, kit: Any, bj: httpx.AsyncClient
) -> None:
    customer_id = (await kit.create(bj))["id"]
    contract = await _contract(bj, customer_id)
    documents = f"{BASE}/contracts/{contract['id']}/documents"
    response = await bj.post(
        documents, files={"file": ("../../合同 扫描件.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["filename"] == "合同 扫描件.pdf"
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["size"] == len(PDF)
    response = await bj.post(documents, files={"file": ("rates.xlsx", _xlsx(),
                                                        "application/octet-stream")})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == profile.XLSX

    listed = (await bj.get(documents)).json()
    assert [d["filename"] for d in listed] == ["合同 扫描件.pdf", "rates.xlsx"]
    assert "content" not in listed[0]
    detail = (await bj.get(f"{BASE}/contracts/{contract['id']}")).json()
    assert len(detail["documents"]) == 2

    document_url = f"{BASE}/contract-documents/{document['id']}"
    download = await bj.get(document_url)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''%E5%90%88" in download.headers["content-disposition"]
    (view,) = await kit.audit(document["id"], "view", "customer_archive.contract_document")
    assert json.loads(view["after"])["sha256"] == document["sha256"]
    (create,) = await kit.audit(document["id"], "create", "customer_archive.contract_document")
    assert json.loads(create["after"])["size"] == len(PDF)

    # Outside the scope the document does not exist, and nothing is audited.
    sh = await world.client("demo.sh.manager")
    assert (await sh.get(document_url)).status_code == 404
    assert (await sh.delete(document_url)).status_code == 404
    assert (await sh.get(documents)).status_code == 404
    upload = await sh.post(documents, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert upload.status_code == 404
    assert (await sh.post(documents)).status_code == 404  # even without a file
    assert len(await kit.audit(document["id"], "view", "customer_archive.contract_document")) == 1

    # Without contract.read (a teller's role) no download either.
    teller = await world.client("demo.teller")
    assert (await teller.get(document_url)).status_code == 403

    assert (await bj.delete(document_url)).status_code == 204
    assert (await bj.get(document_url)).status_code == 404
    (deleted,) = await kit.audit(document["id"], "delete", "customer_archive.contract_document")
    assert json.loads(deleted["before"])["filename"] == "合同 扫描件.pdf"


async def test_bad_documents_are_refused(world: World, kit: Any, bj: httpx.AsyncClient) -> None:
    customer_id = (await kit.create(bj))["id"]
    contract = await _contract(bj, customer_id)
    documents = f"{BASE}/contracts/{contract['id']}/documents"
    cases = [
        (("evil.pdf", b"<html><script>alert(1)</script>", "application/pdf"), 415),
        (("run.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload"), 415),
        (("fake.docx", b"PK\x03\x04not a zip", profile.DOCX), 415),
        (("scan.png", PDF, "image/png"), 415),  # declared type differs from the content
        (("empty.pdf", b"", "application/pdf"), 422),
    ]
    for part, status in cases:
        response = await bj.post(documents, files={"file": part})
        assert response.status_code == status, (part[0], response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    too_big = PDF + b"0" * (profile.MAX_DOCUMENT_BYTES + 1 - len(PDF))
    response = await bj.post(documents, files={"file": ("big.pdf", too_big, "application/pdf")})
    assert response.status_code == 413, response.text
    response = await bj.post(documents, data={"file": "not a file"})
    assert response.status_code == 415, response.text
    response = await bj.post(documents, files={"other": ("a.pdf", PDF, "application/pdf")})
    assert response.status_code in (400, 422), response.text
    response = await bj.post(documents, json={"file": "x"})
    assert response.status_code in (400, 415, 422), response.text
    assert (await bj.get(documents)).json() == []


def test_sniffing() -> None:
    assert profile.sniff_content_type(PDF) == profile.PDF
    assert profile.sniff_content_type(b"\x89PNG\r\n\x1a\n....") == profile.PNG
    assert profile.sniff_content_type(b"\xff\xd8\xff\xe0....") == profile.JPEG
    assert profile.sniff_content_type(_xlsx()) == profile.XLSX
    assert profile.sniff_content_type(b"GIF89a") is None
    assert profile.clean_filename("C:\\Users\\x\\a\x00b.pdf") == "ab.pdf"
    assert profile.clean_filename("///") == "document"
