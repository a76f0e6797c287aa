"""The e-mail channel: SMTP (``aiosmtplib``) when a server is configured, else ``.eml`` files.

Every mail carries the delivery's idempotency key as its Message-ID. SMTP cannot promise
exactly once: if the worker dies after the server accepted a mail but before the
delivery is marked sent, the retry sends it again, with the same Message-ID, which
receiving systems use to drop the repeat. File mail is written under its key
(atomically), so a repeat overwrites the same file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import aiosmtplib

from bankcrm.notifications.channels import (
    EMAIL,
    DeliveryRefused,
    NotificationChannel,
    OutgoingNotification,
)
from bankcrm.settings import MailSettings

_settings: MailSettings | None = None


def configure(settings: MailSettings) -> None:
    global _settings
    _settings = settings


def current_settings() -> MailSettings:
    if _settings is None:
        raise RuntimeError("mail is not configured: connect the kernel first")
    return _settings


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key.replace(':', '.')}@bankcrm.notifications>"


def compose(outgoing: OutgoingNotification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = outgoing.recipient_email
    message["Subject"] = outgoing.title_zh
    message["Message-ID"] = message_id(outgoing.idempotency_key)
    message["Date"] = formatdate(localtime=False)
    message["X-Bankcrm-Source"] = (
        f"{outgoing.source['plugin']}/{outgoing.source['table']}/{outgoing.source['id']}"
    )
    message.set_content(
        f"{outgoing.body_zh}\n\n-- \n{outgoing.title_en}\n\n{outgoing.body_en}\n",
        charset="utf-8",
    )
    return message


def _write_atomically(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def _send_smtp(message: EmailMessage, settings: MailSettings) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if all(500 <= code < 600 for code in codes):
            raise DeliveryRefused(f"the mail server refused the recipient: {reason}") from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            reason = f"the mail server refused the mail: {exc.code} {exc.message}"
            raise DeliveryRefused(reason) from exc
        raise


async def send_email(outgoing: OutgoingNotification) -> None:
    settings = current_settings()
    if not outgoing.recipient_email:
        raise DeliveryRefused(f"user {outgoing.recipient_username} has no e-mail address")
    message = compose(outgoing, settings.sender)
    if settings.smtp_host:
        await _send_smtp(message, settings)
        return
    name = outgoing.idempotency_key.replace(":", ".") + ".eml"
    await asyncio.to_thread(_write_atomically, settings.mail_dir, name, message.as_bytes())


EMAIL_CHANNEL = NotificationChannel(EMAIL, "电子邮件", "E-mail", send_email)
