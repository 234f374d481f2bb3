"""Fetching a URL an event's official typed in, without letting it reach inside our network.

The control-log poller requests whatever URL an official sets, from the server's network:
``http://169.254.169.254/…`` (cloud metadata), ``http://127.0.0.1:6379`` (Redis) or an
intranet host would be fetched and its answer partly shown back. So each hop's host is
resolved here, every address must be global (not loopback, private, link-local, shared,
reserved or multicast) unless ``TRACKSIDE_FETCH_ALLOW_PRIVATE`` is set, and the connection is
made to the address checked (no second lookup an attacker's DNS could answer differently).
Redirects are followed by hand, a few at most, each checked the same way; the body is streamed
and reading stops at the size cap.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from trackside.errors import Invalid

MAX_REDIRECTS = 3
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL leads somewhere the server does not fetch from; the message says why."""


class TooLarge(Exception):
    """The body went past the cap; reading stopped there."""


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    body: bytes  # empty unless status is 200


def refused_address(address: IPAddress) -> str | None:
    """Why the server must not connect to ``address``, or None if it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_private:
        return "a private address"
    if not address.is_global or address.is_multicast:
        return "not a public address"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


async def checked_address(url: httpx.URL, allow_private: bool) -> IPAddress:
    """The address to connect to for ``url``; FetchRefused if any of its addresses is ours."""
    if url.scheme not in ("http", "https") or not url.host:
        raise FetchRefused("only http:// and https:// URLs with a host are fetched")
    addresses = await resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
    if not addresses:
        raise httpx.ConnectError(f"{url.host} has no address")
    if not allow_private:
        for address in addresses:
            why = refused_address(address)
            if why is not None:
                raise FetchRefused(f"{url.host} resolves to {address}, {why}")
    return addresses[0]


async def fetch(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, allow_private: bool
) -> Fetched:
    """GET ``url`` safely: checked addresses, at most MAX_REDIRECTS hops, at most max_bytes.

    ``client`` must not follow redirects itself. Raises FetchRefused, TooLarge, httpx errors.
    """
    target = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        address = await checked_address(target, allow_private)
        pinned = target.copy_with(host=str(address))
        request = client.build_request(
            "GET",
            pinned,
            headers={"Host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": target.host},  # TLS checks the name, not the address
        )
        response = await client.send(request, stream=True)
        try:
            if response.is_redirect and "location" in response.headers:
                target = target.join(response.headers["location"])
                continue
            if response.status_code != 200:
                return Fetched(response.status_code, b"")
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdecimal() and int(declared) > max_bytes:
                raise TooLarge
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge
            return Fetched(200, bytes(body))
        finally:
            await response.aclose()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


async def check_fetchable(url: str) -> None:
    """Refuse now a URL the poller would refuse (the check is repeated at every poll and hop,
    as DNS can change); a host that does not resolve yet is left to the poll to report."""
    try:
        await checked_address(httpx.URL(url), allow_private=False)
    except FetchRefused as exc:
        raise Invalid("url", f"not fetched: {exc}") from None
    except httpx.HTTPError:
        pass
