"""E-mail the console sends (the weekly report), with business.yml's `email:` settings: to
an SMTP server, or as .eml files in the project's mail/ folder when none is configured.

    email:
      type: smtp                 # or: file (the default)
      host: smtp.example.com
      port: 587
      starttls: true
      username: studio@example.com
      password: ${SMTP_PASSWORD}
      from: "Maple Street Studio <hello@maplestreetstudio.example>"
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)


class MailError(ParlezError):
    code = "P550"


def email_settings(business: dict[str, Any]) -> dict[str, Any]:
    """business.yml's `email:` block ({} when there is none)."""
    email = business.get("email")
    return email if isinstance(email, dict) else {}


def sender_of(settings: dict[str, Any]) -> str:
    return str(settings.get("from") or "parlez@localhost")


def send_mail(settings: dict[str, Any], folder: Path, message: EmailMessage) -> None:
    """Deliver `message`, retried a few times; MailError when the server stays away."""
    kind = str(settings.get("type") or "file").lower()
    if kind == "file":
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(bytes(message))
        return
    if kind != "smtp":
        raise MailError(f"unknown email type '{kind}' in business.yml", hint="smtp or file")
    try:
        _smtp(settings, message)
    except (smtplib.SMTPException, OSError) as error:
        host = f"{settings.get('host') or 'localhost'}:{settings.get('port') or 587}"
        raise MailError(f"the mail server {host} did not take the message: {error}") from None


@retry(
    retry=retry_if_exception_type((smtplib.SMTPServerDisconnected, OSError)),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.5, max=4),
    reraise=True,
)
def _smtp(settings: dict[str, Any], message: EmailMessage) -> None:
    host = str(settings.get("host") or "localhost")
    port = int(settings.get("port") or 587)
    timeout = float(settings.get("timeout") or 10)
    smtp: smtplib.SMTP
    if settings.get("ssl"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if settings.get("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if settings.get("username"):
            smtp.login(str(settings["username"]), str(settings.get("password") or ""))
        smtp.send_message(message)
