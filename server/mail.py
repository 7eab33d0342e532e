"""Outgoing mail: through SMTP (aiosmtplib) when configured, otherwise to the outbox.

The outbox is a folder of RFC 5322 messages (``*.eml``), readable only by the server's
user, for installations without SMTP and for development: whoever runs the server hands
the link over. Messages hold live invitation links, so treat the folder as secret.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import aiosmtplib

from server.settings import SMTP

SMTP_TIMEOUT = 15.0


def letter(*, sender: str, to: str, subject: str, text: str, at: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    if to:
        message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain="planrom.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


async def send(smtp: SMTP, message: EmailMessage) -> None:
    """Send one message; raises ``aiosmtplib.SMTPException`` or ``OSError`` on failure."""
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=smtp.password or None,
        use_tls=smtp.security == "tls",
        start_tls=True if smtp.security == "starttls" else False,
        timeout=SMTP_TIMEOUT,
    )


def _write(directory: Path, name: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


async def write_outbox(directory: Path, name: str, message: EmailMessage) -> Path:
    """Write ``message`` as ``directory/name`` (a new file, mode 0600)."""
    return await asyncio.to_thread(_write, directory, name, bytes(message))
