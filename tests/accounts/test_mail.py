"""Mail goes out over real SMTP when configured, to the log when not."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from tests.databases import test_settings
from tests.mailbox import Logins, Mailbox, mailbox, self_signed, serve_mailbox  # noqa: F401
from trackside.accounts.mail import Mailer, SmtpTarget


def test_smtp_urls() -> None:
    plain = SmtpTarget.parse("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.example.org",
        25,
        False,
        False,
    )
    tls = SmtpTarget.parse("smtps://me%40x.org:p%3Ass@mail.example.org")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (
        465,
        True,
        "me@x.org",
        "p:ss",
    )
    submission = SmtpTarget.parse("smtp://u:p@mail.example.org:587?starttls=true")
    assert (submission.port, submission.starttls) == (587, True)
    for bad in ("http://mail.example.org", "smtp://"):
        with pytest.raises(ValueError):
            SmtpTarget.parse(bad)


async def test_sends_over_smtp(tmp_path: Path, mailbox: Mailbox) -> None:  # noqa: F811
    mailer = Mailer(test_settings(tmp_path, None, smtp_url=mailbox.url))
    await mailer.send("rider@example.org", "Hello", "line one\nline two\n")
    (message,) = await mailbox.await_for(1)
    assert message["To"] == "rider@example.org"
    assert message["Subject"] == "Hello"
    assert message.get_content().splitlines() == ["line one", "line two"]


async def test_without_smtp_the_message_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = Mailer(test_settings(tmp_path, None))
    with caplog.at_level(logging.WARNING, logger="trackside.mail"):
        await mailer.send("rider@example.org", "Hi", "open http://x/auth/verify?token=abc\n")
    assert "rider@example.org" in caplog.text
    assert "http://x/auth/verify?token=abc" in caplog.text


async def test_a_dead_smtp_server_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailer = Mailer(test_settings(tmp_path, None, smtp_url=f"smtp://127.0.0.1:{port}"))
    with caplog.at_level(logging.ERROR, logger="trackside.mail"):
        assert await mailer.send("rider@example.org", "Hi", "body") is False
    assert "could not send mail to rider@example.org" in caplog.text


async def test_credentials_go_over_starttls_whenever_it_is_offered(tmp_path: Path) -> None:
    """``smtp://user:pass@host`` without ``?starttls``: the server offers it, so it is used."""
    context, ca_file = self_signed(tmp_path)
    logins = Logins("timing", "s3cret pass")
    with serve_mailbox(tls_context=context, logins=logins) as box:
        settings = test_settings(tmp_path, None, smtp_url=box.url, smtp_ca_file=ca_file)
        assert await Mailer(settings).send("rider@example.org", "Hi", "body") is True
        (message,) = await box.await_for(1)
    assert message["To"] == "rider@example.org"
    assert logins.seen == [("timing", True)]


async def test_credentials_are_never_sent_in_clear_unless_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logins = Logins("timing", "s3cret pass")
    with serve_mailbox(logins=logins) as box:  # no TLS at all
        refused = Mailer(test_settings(tmp_path, None, smtp_url=box.url))
        with caplog.at_level(logging.ERROR, logger="trackside.mail"):
            assert await refused.send("rider@example.org", "Hi", "body") is False
        assert logins.seen == [] and box.messages == []
        assert "STARTTLS" in caplog.text and "s3cret" not in caplog.text
        allowed = Mailer(
            test_settings(tmp_path, None, smtp_url=box.url, smtp_allow_plaintext_auth=True)
        )
        assert await allowed.send("rider@example.org", "Hi", "body") is True
        await box.await_for(1)
    assert logins.seen == [("timing", False)]


async def test_an_untrusted_certificate_is_not_accepted(tmp_path: Path) -> None:
    context, _ = self_signed(tmp_path)
    with serve_mailbox(tls_context=context, logins=Logins("timing", "pw")) as box:
        mailer = Mailer(test_settings(tmp_path, None, smtp_url=box.url))
        assert await mailer.send("rider@example.org", "Hi", "body") is False
        assert box.messages == []
