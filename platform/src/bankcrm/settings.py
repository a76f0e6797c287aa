"""Deployment settings, read once from the environment.

Every setting is a ``BANKCRM_*`` environment variable so that the same build runs on a
laptop (embedded PostgreSQL, nothing configured) and in production (external server,
secrets injected by the orchestrator).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit


def _split(value: str | None) -> tuple[str, ...] | None:
    """Unset: None; set, even to nothing, the names it lists (``BANKCRM_PLUGINS=`` loads
    no plugin: the kernel alone)."""
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class MailSettings:
    """Outgoing mail of the e-mail notification channel. Without ``BANKCRM_SMTP_HOST``
    mails are written as ``.eml`` files to ``BANKCRM_MAIL_DIR`` (default
    ``<data dir>/mail``): the demo and development need no mail server."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0
    sender: str = "bankcrm@localhost"
    mail_dir: Path = Path("var/mail")


def load_mail_settings(data_dir: Path) -> MailSettings:
    return MailSettings(
        smtp_host=os.environ.get("BANKCRM_SMTP_HOST", ""),
        smtp_port=int(os.environ.get("BANKCRM_SMTP_PORT", "25")),
        smtp_user=os.environ.get("BANKCRM_SMTP_USER", ""),
        smtp_password=os.environ.get("BANKCRM_SMTP_PASSWORD", ""),
        smtp_starttls=os.environ.get("BANKCRM_SMTP_STARTTLS", "") in {"1", "true", "yes"},
        smtp_timeout=float(os.environ.get("BANKCRM_SMTP_TIMEOUT", "30")),
        sender=os.environ.get("BANKCRM_MAIL_FROM", "bankcrm@localhost"),
        mail_dir=Path(os.environ.get("BANKCRM_MAIL_DIR") or data_dir / "mail").absolute(),
    )


@dataclass(frozen=True)
class TlsSettings:
    """The bank's certificate for serving HTTPS directly (``BANKCRM_TLS_CERT`` and
    ``BANKCRM_TLS_KEY``, PEM files; the key may be protected by
    ``BANKCRM_TLS_KEY_PASSWORD``). Without them the platform speaks plain HTTP and TLS ends
    at the bank's proxy."""

    certfile: Path
    keyfile: Path
    key_password: str | None = None


class SettingsError(RuntimeError):
    """A setting that cannot work: the message names the variable and what is wrong."""


def load_tls_settings() -> TlsSettings | None:
    cert = os.environ.get("BANKCRM_TLS_CERT") or None
    key = os.environ.get("BANKCRM_TLS_KEY") or None
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "BANKCRM_TLS_CERT" if cert is None else "BANKCRM_TLS_KEY"
        raise SettingsError(f"{missing} is not set: HTTPS needs both the certificate and its key")
    return TlsSettings(
        Path(cert).absolute(),
        Path(key).absolute(),
        os.environ.get("BANKCRM_TLS_KEY_PASSWORD") or None,
    )


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid profile email"
    username_claim: str = "preferred_username"
    redirect_uri: str | None = None
    """Where the provider sends the browser back; default: this site's
    ``/app/sso/callback`` as the request reached it."""


def load_oidc_settings() -> OidcSettings | None:
    issuer = os.environ.get("BANKCRM_OIDC_ISSUER") or None
    if issuer is None:
        return None
    missing = [
        name
        for name in ("BANKCRM_OIDC_CLIENT_ID", "BANKCRM_OIDC_CLIENT_SECRET")
        if not os.environ.get(name)
    ]
    if missing:
        raise SettingsError(f"{', '.join(missing)} must be set with BANKCRM_OIDC_ISSUER")
    parts = urlsplit(issuer)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SettingsError("BANKCRM_OIDC_ISSUER must be an https:// URL")
    return OidcSettings(
        issuer=issuer.rstrip("/"),
        client_id=os.environ["BANKCRM_OIDC_CLIENT_ID"],
        client_secret=os.environ["BANKCRM_OIDC_CLIENT_SECRET"],
        scopes=os.environ.get("BANKCRM_OIDC_SCOPES", "openid profile email"),
        username_claim=os.environ.get("BANKCRM_OIDC_USERNAME_CLAIM", "preferred_username"),
        redirect_uri=os.environ.get("BANKCRM_OIDC_REDIRECT_URI") or None,
    )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None
    """Owner connection (runs migrations). ``None`` means the embedded server."""
    app_role: str
    app_role_password: str | None
    broker_url: str | None
    """``None``: PostgreSQL broker on the application database; else redis:// or amqp://."""
    secret_key: bytes
    host: str
    port: int
    enabled_plugins: tuple[str, ...] | None
    """Restricts which installed plugins load (the SDK uses it); ``None`` loads all, an
    empty tuple none."""
    production: bool
    pool_min_size: int = 2
    pool_max_size: int = 20
    session_hours: int = 8
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    mail: MailSettings = field(default_factory=MailSettings)
    max_json_bytes: int = 1024 * 1024
    """Largest JSON request body; upload routes set their own limit."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names (``host`` or ``host:port``) besides the request's own that a cookie-carried
    write may come from (``Origin``); the admin's CSRF check reads the same setting."""
    tls: TlsSettings | None = None
    oauth_token_minutes: int = 15
    """Lifetime of an OAuth access token (``BANKCRM_OAUTH_TOKEN_MINUTES``, 1 to 60)."""
    oidc: OidcSettings | None = None
    """Staff single sign-on (``BANKCRM_OIDC_*``); ``None``: passwords only."""
    """Lifetime of an OAuth access token (``BANKCRM_OAUTH_TOKEN_MINUTES``, 1 to 60)."""

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: in production (behind the bank's TLS proxy) or when the
        platform serves TLS itself."""
        return self.production or self.tls is not None


def _secret_key(data_dir: Path, production: bool) -> bytes:
    configured = os.environ.get("BANKCRM_SECRET_KEY")
    if configured:
        return configured.encode()
    if production:
        raise RuntimeError("BANKCRM_SECRET_KEY must be set when BANKCRM_PRODUCTION=1")
    # Development only: a random key kept beside the embedded database, so encrypted
    # ID numbers stay readable across restarts of the same data directory.
    key_file = data_dir / "secret.key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


def _oauth_token_minutes() -> int:
    value = os.environ.get("BANKCRM_OAUTH_TOKEN_MINUTES", "15")
    if not value.isdigit() or not 1 <= int(value) <= 60:
        raise SettingsError(f"BANKCRM_OAUTH_TOKEN_MINUTES must be 1 to 60 (minutes), not {value!r}")
    return int(value)


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("BANKCRM_DATA_DIR", "var")).absolute()
    production = os.environ.get("BANKCRM_PRODUCTION", "") in {"1", "true", "yes"}
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("BANKCRM_DATABASE_URL") or None,
        app_role=os.environ.get("BANKCRM_APP_ROLE", "bankcrm_app"),
        app_role_password=os.environ.get("BANKCRM_APP_ROLE_PASSWORD") or None,
        broker_url=os.environ.get("BANKCRM_BROKER_URL") or None,
        secret_key=_secret_key(data_dir, production),
        host=os.environ.get("BANKCRM_HOST", "127.0.0.1"),
        port=int(os.environ.get("BANKCRM_PORT", "8000")),
        enabled_plugins=_split(os.environ.get("BANKCRM_PLUGINS")),
        production=production,
        pool_min_size=int(os.environ.get("BANKCRM_POOL_MIN", "2")),
        pool_max_size=int(os.environ.get("BANKCRM_POOL_MAX", "20")),
        mail=load_mail_settings(data_dir),
        max_json_bytes=int(os.environ.get("BANKCRM_MAX_JSON_BYTES", str(1024 * 1024))),
        allowed_hosts=_split(os.environ.get("BANKCRM_ALLOWED_HOSTS")) or (),
        tls=load_tls_settings(),
        oauth_token_minutes=_oauth_token_minutes(),
        oidc=load_oidc_settings(),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
