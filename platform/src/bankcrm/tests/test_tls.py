"""HTTPS served by the platform itself with the bank's certificate."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bankcrm.runtime import Kernel, activate
from bankcrm.server import check_tls, server_config
from bankcrm.settings import SettingsError, TlsSettings, load_tls_settings
from bankcrm_sdk.world import PASSWORD, World


def write_certificate(directory: Path, name: str = "localhost") -> TlsSettings:
    """A self-signed certificate for ``localhost`` and 127.0.0.1, as a bank's CA would issue."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile = directory / f"{name}.crt"
    keyfile = directory / f"{name}.key"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsSettings(certfile, keyfile)


async def test_serves_https_with_hsts_and_secure_cookies(world: World, tmp_path: Path) -> None:
    from bankcrm.webapp import create_app

    tls = write_certificate(tmp_path)
    kernel = world.kernel
    tls_kernel = Kernel(
        replace(kernel.settings, tls=tls), kernel.registry, kernel.owner_url, kernel.app_url
    )
    app = create_app(tls_kernel)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(app, tls_kernel.settings, host="127.0.0.1", port=port)
    config.lifespan = "off"
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), task.result()
            await asyncio.sleep(0.01)
        assert config.ssl is not None
        assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2

        trust = ssl.create_default_context(cafile=str(tls.certfile))
        async with httpx.AsyncClient(base_url=f"https://localhost:{port}", verify=trust) as client:
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert health.headers["strict-transport-security"].startswith("max-age=")
            login = await client.post(
                "/api/v1/auth/login", json={"username": "demo.admin", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            cookie = login.headers["set-cookie"]
            assert "Secure" in cookie
            assert "HttpOnly" in cookie
            me = await client.get("/api/v1/auth/me")
            assert me.status_code == 200
            assert me.json()["username"] == "demo.admin"

        # TLS 1.2 negotiates an AEAD suite with forward secrecy.
        tls12 = ssl.create_default_context(cafile=str(tls.certfile))
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls12, server_hostname="localhost"
        )
        suite, version, _ = writer.get_extra_info("cipher")
        assert version == "TLSv1.2"
        assert "ECDHE" in suite
        assert "GCM" in suite or "CHACHA" in suite
        writer.close()

        # A client that does not trust the bank's certificate gets no answer at all.
        async with httpx.AsyncClient(base_url=f"https://localhost:{port}") as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get("/healthz")
        # Plain HTTP to the TLS port is not served.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get("/healthz")
    finally:
        server.should_exit = True
        await task
        sock.close()
        activate(kernel)


def test_tls_settings_need_both_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BANKCRM_TLS_KEY", raising=False)
    monkeypatch.delenv("BANKCRM_TLS_CERT", raising=False)
    assert load_tls_settings() is None
    monkeypatch.setenv("BANKCRM_TLS_CERT", str(tmp_path / "bank.crt"))
    with pytest.raises(SettingsError, match="BANKCRM_TLS_KEY"):
        load_tls_settings()
    monkeypatch.setenv("BANKCRM_TLS_KEY", str(tmp_path / "bank.key"))
    monkeypatch.setenv("BANKCRM_TLS_KEY_PASSWORD", "s3cret")
    assert load_tls_settings() == TlsSettings(
        tmp_path / "bank.crt", tmp_path / "bank.key", "s3cret"
    )


def test_a_wrong_certificate_stops_serve_with_the_setting_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="BANKCRM_TLS_CERT: no such file"):
        check_tls(TlsSettings(tmp_path / "missing.crt", tmp_path / "missing.key"))
    first = write_certificate(tmp_path, "localhost")
    other = write_certificate(tmp_path, "other.example")
    with pytest.raises(SettingsError, match="cannot load the certificate and key"):
        check_tls(TlsSettings(first.certfile, other.keyfile))
    check_tls(first)
