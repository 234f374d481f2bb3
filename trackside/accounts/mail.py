"""Outgoing e-mail: SMTP when ``TRACKSIDE_SMTP_URL`` is set, otherwise the log.

SMTP uses TLS whenever the server offers it and never sends the SMTP password in clear unless
``TRACKSIDE_SMTP_ALLOW_PLAINTEXT_AUTH`` says so (a local relay on a trusted network).

Without SMTP a local user still needs the verification link, so the message goes to the log;
it holds that user's own link and never a password or secret.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

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


class PlaintextCredentials(Exception):
    """The server offers no TLS and sending the password in clear was not allowed."""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._from = settings.mail_from
        self._target = SmtpTarget.parse(settings.smtp_url) if settings.smtp_url else None
        self._allow_plaintext_auth = settings.smtp_allow_plaintext_auth
        self._ca_file = str(settings.smtp_ca_file) if settings.smtp_ca_file else None

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
            await self._deliver(self._target, message)
        except PlaintextCredentials:
            log.error(
                "not sending mail to %s: %s offers no STARTTLS and would get the SMTP password "
                "in clear (use smtps://, or set TRACKSIDE_SMTP_ALLOW_PLAINTEXT_AUTH=true)",
                to,
                self._target.host,
            )
            return False
        except (OSError, aiosmtplib.SMTPException) as exc:
            log.error("could not send mail to %s via %s: %s", to, self._target.host, exc)
            return False
        return True

    async def _deliver(self, target: SmtpTarget, message: EmailMessage) -> None:
        """TLS from the start (smtps), else STARTTLS whenever the server offers it (required
        with ``?starttls=true``); credentials only ever over TLS unless the operator allowed."""
        context = ssl.create_default_context(cafile=self._ca_file)
        smtp = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.implicit_tls,
            start_tls=False,  # decided below, so we know whether the channel is encrypted
            tls_context=context,
            timeout=30,
        )
        async with smtp:
            secure = target.implicit_tls
            if not secure:
                await smtp.ehlo()
                if smtp.supports_extension("starttls") or target.starttls:
                    await smtp.starttls(tls_context=context)
                    secure = True
            if target.username:
                if not secure and not self._allow_plaintext_auth:
                    raise PlaintextCredentials
                await smtp.login(target.username, target.password or "")
            await smtp.send_message(message)
