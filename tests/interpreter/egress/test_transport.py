"""The guarded transport, end to end over loopback sockets.

Refused destinations are all loopback forms; a canary server on 127.0.0.2
proves nothing got through. Names other than /etc/hosts entries are answered
by a stand-in resolver, because tests must not send DNS queries off the host.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator

import httpx
import pytest

from interpreter.activities import build_http_client
from interpreter.egress import EgressPolicy, system_resolve
from interpreter.egress.policy import IPAddress
from interpreter.errors import EgressDenied
from tests.support.peer import Peer
from tests.support.tls import issue

HOST = "api.flowforge.test"


class ScriptedResolver:
    """Answers each lookup of ``HOST`` with the next scripted address list.

    IP literals go to the OS resolver, which parses them without a query.
    """

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ipaddress.ip_address(a) for a in answer] for answer in answers]
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        if host != HOST:
            return await system_resolve(host, port)
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.2:{port}/", "127.0.0.2 is loopback"),
        ("http://2130706434:{port}/", "2130706434 resolves to 127.0.0.2, which is loopback"),
        ("http://0x7f000002:{port}/", "0x7f000002 resolves to 127.0.0.2, which is loopback"),
        ("http://0x7f.0.0.2:{port}/", "resolves to 127.0.0.2, which is loopback"),
        ("http://127.2:{port}/", "127.2 resolves to 127.0.0.2, which is loopback"),
        ("http://[::ffff:127.0.0.2]:{port}/", "an IPv6 form of 127.0.0.2, which is loopback"),
        ("http://[::1]:{port}/", "::1 is loopback"),
        ("http://0.0.0.0:{port}/", "0.0.0.0 is unspecified"),
        ("http://0:{port}/", "0 resolves to 0.0.0.0, which is unspecified"),
    ],
)
async def test_loopback_forms_are_refused(
    peer_only: httpx.AsyncClient, canary: Peer, url: str, message: str
) -> None:
    with pytest.raises(EgressDenied) as refused:
        await peer_only.get(url.format(port=canary.port))

    assert message in str(refused.value)
    assert str(refused.value).endswith("; add it to FLOWFORGE_EGRESS_ALLOW to allow")
    assert not canary.requests


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_unlisted_peer_is_refused(strict: httpx.AsyncClient, peer: Peer, host: str) -> None:
    with pytest.raises(EgressDenied, match="loopback"):
        await strict.get(f"http://{host}:{peer.port}/")

    assert not peer.requests


async def test_allow_listed_address_and_name_get_through(
    peer_only: httpx.AsyncClient, peer: Peer
) -> None:
    async with build_http_client(EgressPolicy(["localhost"]), max_connections=1) as by_name:
        by_name_response = await by_name.get(f"http://localhost:{peer.port}/n")
    response = await peer_only.get(f"{peer.url}/a")

    assert response.status_code == by_name_response.status_code == 200
    assert [seen.path for seen in peer.requests] == ["/n", "/a"]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "gopher://127.0.0.1:70/", "ws://127.0.0.1/"])
async def test_other_schemes_are_refused(peer_only: httpx.AsyncClient, url: str) -> None:
    with pytest.raises(EgressDenied, match="is not allowed; use http or https"):
        await peer_only.get(url)


async def test_connects_to_the_checked_address_with_one_lookup(peer: Peer) -> None:
    # A second lookup would answer 127.0.0.2: a rebinding attempt.
    resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
    policy = EgressPolicy(["127.0.0.1/32"])
    async with (
        build_http_client(policy, max_connections=1, resolver=resolver) as client,
        client.stream("GET", f"http://{HOST}:{peer.port}/x") as response,
    ):
        connected_to = response.extensions["network_stream"].get_extra_info("server_addr")
        await response.aread()

    assert connected_to == ("127.0.0.1", peer.port)
    assert resolver.calls == [HOST]
    assert peer.hits("/x")[0].headers["host"] == f"{HOST}:{peer.port}"


async def test_the_resolved_address_is_what_gets_judged(canary: Peer) -> None:
    resolver = ScriptedResolver(["127.0.0.1", "127.0.0.2"])
    policy = EgressPolicy(["127.0.0.1/32"])
    async with build_http_client(policy, max_connections=1, resolver=resolver) as client:
        with pytest.raises(EgressDenied, match=f"^{HOST} resolves to 127.0.0.2, which is loopback"):
            await client.get(f"http://{HOST}:{canary.port}/")

    assert not canary.requests


@pytest.fixture
def tls_peer() -> Iterator[tuple[Peer, ssl.SSLContext, list[str | None]]]:
    certificates = issue(HOST)
    server_names: list[str | None] = []
    certificates.server_context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    server = Peer(ssl_context=certificates.server_context)
    try:
        yield server, certificates.client_context(), server_names
    finally:
        server.close()


async def test_tls_keeps_the_host_name_for_sni_and_verification(
    tls_peer: tuple[Peer, ssl.SSLContext, list[str | None]],
) -> None:
    server, trust, server_names = tls_peer
    resolver = ScriptedResolver(["127.0.0.1"])
    policy = EgressPolicy(["127.0.0.1/32"])
    async with build_http_client(
        policy, max_connections=1, resolver=resolver, verify=trust
    ) as client:
        response = await client.get(f"https://{HOST}:{server.port}/tls")
        # The certificate names HOST, not the address connected to: verifying
        # against the address must fail.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"https://127.0.0.1:{server.port}/ip")

    assert response.status_code == 200
    assert server_names[0] == HOST
    assert server.hits("/tls")[0].headers["host"] == f"{HOST}:{server.port}"
    assert not server.hits("/ip")
