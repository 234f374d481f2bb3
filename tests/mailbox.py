"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests;
with STARTTLS (a self-signed certificate made here) and AUTH when a test asks."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Mailbox:
    url: str
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    async def await_for(self, count: int) -> list[EmailMessage]:
        for _ in range(1000):
            if len(self.messages) >= count:
                break
            await asyncio.sleep(0.01)
        return self.messages


def link_in(message: EmailMessage) -> str:
    body = message.get_content()
    found = re.search(r"https?://\S+", body)
    assert found, f"no link in: {body}"
    return found.group(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with serve_mailbox() as box:
        yield box


@dataclass
class Logins:
    """An authenticator that accepts one user and remembers every login and its channel."""

    username: str
    password: str
    seen: list[tuple[str, bool]] = field(default_factory=list)  # (username, over TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.seen.append((login, session.ssl is not None))
        return AuthResult(success=(login, password) == (self.username, self.password))


@contextmanager
def serve_mailbox(
    *, tls_context: ssl.SSLContext | None = None, logins: Logins | None = None
) -> Iterator[Mailbox]:
    """A mailbox on loopback; with ``tls_context`` it offers STARTTLS, with ``logins`` AUTH
    (over plain text too when there is no TLS: the server an operator must not trust)."""
    port = _free_port()
    credentials = f"{logins.username}:{logins.password}@" if logins else ""
    box = Mailbox(url=f"smtp://{credentials}127.0.0.1:{port}")
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls_context,
        authenticator=logins,
        auth_require_tls=tls_context is not None,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the PEM file a client trusts it by."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
