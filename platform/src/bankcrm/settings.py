"""Deployment settings, read once from the environment.

Every setting is a ``BANKCRM_*`` environment variable so that the same build runs on a
laptop (embedded PostgreSQL, nothing configured) and in production (external server,
secrets injected by the orchestrator).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def _split(value: str | None) -> tuple[str, ...] | None:
    """Unset: None; set, even to nothing, the names it lists (``BANKCRM_PLUGINS=`` loads
    no plugin: the kernel alone)."""
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


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
    max_json_bytes: int = 1024 * 1024
    """Largest JSON request body; upload routes set their own limit."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names (``host`` or ``host:port``) besides the request's own that a cookie-carried
    write may come from (``Origin``); the admin's CSRF check reads the same setting."""

    @property
    def embedded(self) -> bool:
        return self.database_url is None


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
        max_json_bytes=int(os.environ.get("BANKCRM_MAX_JSON_BYTES", str(1024 * 1024))),
        allowed_hosts=_split(os.environ.get("BANKCRM_ALLOWED_HOSTS")) or (),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
