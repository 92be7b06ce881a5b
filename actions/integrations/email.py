"""E-mail the assistant sends: to a real SMTP server, or to files when none is configured.

`business.yml`:

    email:
      type: smtp                 # or: file (the default: .eml files in mail/)
      host: smtp.example.com
      port: 587
      starttls: true
      username: studio@example.com
      password: ${SMTP_PASSWORD}
      from: "Maple Street Studio <hello@maplestreetstudio.example>"

A message that cannot be sent after a few tries goes to the outbox; the next successful
send delivers the outbox first. Nothing is lost and a customer never waits on a mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.exc import SQLAlchemyError

from actions.integrations.outbox import Outbox

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
RETRY_DELAYS = (0.5, 2.0)


class EmailError(Exception):
    pass


_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    # A misspelt {{ placeholder }} is an error here, never a customer's e-mail saying it.
    undefined=jinja2.StrictUndefined,
    autoescape=jinja2.select_autoescape(["html"]),
    keep_trailing_newline=True,
)


class EmailTemplateError(EmailError):
    pass


def template_name(name: str, suffix: str, language: str) -> str:
    """`name.<language>.<suffix>` when there is one, else `name.<suffix>` (English)."""
    translated = f"{name}.{language}.{suffix}"
    return translated if (TEMPLATES / translated).is_file() else f"{name}.{suffix}"


def render(name: str, values: dict[str, Any], language: str = "en") -> tuple[str, str]:
    """The text and HTML bodies of template `name` in `language` (English where it has no
    translation); what is put in the HTML is escaped. A name the template uses and
    `values` lacks is an EmailTemplateError naming both."""
    bodies = []
    for suffix in ("txt", "html"):
        chosen = template_name(name, suffix, language)
        try:
            bodies.append(_templates.get_template(chosen).render(values))
        except jinja2.UndefinedError as error:
            raise EmailTemplateError(f"the template {chosen}: {error.message}") from error
    return bodies[0], bodies[1]


def compose(sender: str, to: str, subject: str, text: str, page: str | None = None) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if page:
        message.add_alternative(page, subtype="html")
    return message


class Mailer:
    def __init__(self, settings: dict[str, Any], outbox: Outbox, folder: Path) -> None:
        self.settings = settings
        self.outbox = outbox
        self.folder = folder
        self.kind = str(settings.get("type") or "file").lower()
        self.sender = str(settings.get("from") or "assistant@localhost")

    def send(self, message: EmailMessage) -> bool:
        """Deliver `message` (and what waits in the outbox); False if it had to wait there."""
        try:
            self._deliver_with_retries(message)
        except EmailError as error:
            logger.error("e-mail to %s kept in the outbox: %s", message["To"], error)
            self.outbox.put("email", {"message": message.as_string()}, str(error))
            return False
        try:
            self.flush()
        except SQLAlchemyError as error:  # the database away: what waits goes out later
            logger.warning("e-mails waiting in the outbox are sent later: %s", error)
        return True

    def flush(self) -> int:
        """Send what earlier failures left in the outbox; the count delivered."""
        from email import message_from_string

        sent = 0
        with self.outbox.claimed("email") as waiting:
            for item_id, payload in waiting.items:
                message = message_from_string(payload["message"], _class=EmailMessage, policy=SMTP)
                try:
                    self._deliver(message)  # type: ignore[arg-type]
                except EmailError:
                    break  # still down: the rest waits for the next send or retry
                waiting.done(item_id)
                sent += 1
        return sent

    def _deliver_with_retries(self, message: EmailMessage) -> None:
        for delay in (*RETRY_DELAYS, None):
            try:
                self._deliver(message)
                return
            except EmailError as error:
                if delay is None:
                    raise
                logger.warning("sending e-mail failed (%s); retrying in %.1f s", error, delay)
                time.sleep(delay)

    def _deliver(self, message: EmailMessage) -> None:
        if self.kind == "file":
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
            (self.folder / name).write_bytes(bytes(message))
            return
        if self.kind != "smtp":
            raise EmailError(f"unknown email type '{self.kind}' in business.yml (smtp or file)")
        host = str(self.settings.get("host") or "localhost")
        port = int(self.settings.get("port") or 587)
        timeout = float(self.settings.get("timeout") or 10)
        try:
            if self.settings.get("ssl"):
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if self.settings.get("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.settings.get("username"):
                    smtp.login(
                        str(self.settings["username"]), str(self.settings.get("password") or "")
                    )
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise EmailError(f"{host}:{port}: {error}") from error
