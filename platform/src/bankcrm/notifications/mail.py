"""The e-mail channel: SMTP (``aiosmtplib``) when a server is configured, else ``.eml`` files.

Every mail carries the delivery's idempotency key as its Message-ID. SMTP cannot promise
exactly once: if the worker dies after the server accepted a mail but before the
delivery is marked sent, the retry sends it again, with the same Message-ID, which
receiving systems use to drop the repeat. File mail is written under its key
(atomically), so a repeat overwrites the same file.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
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


def _header(name: str, value: str) -> bytes:
    """One header line: ASCII as it is, anything else as RFC 2047 encoded words. Line
    breaks become spaces, so a parameter cannot add headers of its own."""
    flat = " ".join(value.splitlines())
    if not flat.isascii():
        flat = Header(flat, "utf-8", header_name=name).encode()
    return f"{name}: {flat}\n".encode("ascii")


def _address(name: str, value: str) -> bytes:
    """An address header: only the display name is encoded, never the address."""
    display, address = parseaddr(" ".join(value.splitlines()))
    return f"{name}: {formataddr((display, address), charset='utf-8')}\n".encode("ascii")


def compose(outgoing: OutgoingNotification, sender: str) -> bytes:
    """The mail as bytes: one text/plain part in UTF-8, base64-encoded.

    Written out here rather than by the ``email`` package's generator, which cost 1 ms a
    mail (its header parsing and folding): a fan-out to every employee multiplies it.
    """
    text = f"{outgoing.body_zh}\n\n-- \n{outgoing.title_en}\n\n{outgoing.body_en}\n"
    source = outgoing.source
    return b"".join(
        [
            _address("From", sender),
            _address("To", outgoing.recipient_email),
            _header("Subject", outgoing.title_zh),
            _header("Message-ID", message_id(outgoing.idempotency_key)),
            _header("Date", formatdate(localtime=False)),
            _header("X-Bankcrm-Source", f"{source['plugin']}/{source['table']}/{source['id']}"),
            b"MIME-Version: 1.0\n",
            b'Content-Type: text/plain; charset="utf-8"\n',
            b"Content-Transfer-Encoding: base64\n\n",
            base64.encodebytes(text.encode("utf-8")),
        ]
    )


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


async def _send_smtp(message: bytes, recipient: str, settings: MailSettings) -> None:
    try:
        await aiosmtplib.send(
            message,
            sender=settings.sender,
            recipients=[recipient],
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
    if not outgoing.recipient_email.isascii():
        # Would need SMTPUTF8 end to end, which bank relays rarely offer.
        raise DeliveryRefused(f"the e-mail address of {outgoing.recipient_username} is not ASCII")
    message = compose(outgoing, settings.sender)
    if settings.smtp_host:
        await _send_smtp(message, outgoing.recipient_email, settings)
        return
    name = outgoing.idempotency_key.replace(":", ".") + ".eml"
    await asyncio.to_thread(_write_atomically, settings.mail_dir, name, message)


EMAIL_CHANNEL = NotificationChannel(EMAIL, "电子邮件", "E-mail", send_email)
