"""Outgoing e-mail: SMTP when ``TRACKSIDE_SMTP_URL`` is set, otherwise the log.

Without SMTP a local user still needs the verification link, so the message goes to the log;
it holds that user's own link and never a password or secret.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from trackside.config import Settings

log = logging.getLogger("trackside.mail")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("TRACKSIDE_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("TRACKSIDE_SMTP_URL names no host")
        implicit = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._from = settings.mail_from
        self._target = SmtpTarget.parse(settings.smtp_url) if settings.smtp_url else None

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Send (or log) the message; False if the SMTP server could not take it.

        A mail server being down must not fail the request that wanted the mail: the account
        is stored, and a password reset later both sets a password and verifies the address.
        """
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        if self._target is None:
            log.warning("no SMTP configured (TRACKSIDE_SMTP_URL); mail to %s:\n%s", to, body)
            return True
        try:
            await asyncio.to_thread(self._deliver, self._target, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not send mail to %s via %s: %s", to, self._target.host, exc)
            return False
        return True

    @staticmethod
    def _deliver(target: SmtpTarget, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=30)
        with smtp:
            if target.starttls:
                smtp.starttls(context=context)
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)
