"""Webhook hosts read as the resolver reads them: every spelling of a private address is refused
when the endpoint is added, not found out by the first delivery."""

from __future__ import annotations

import pytest

from kartu.loyalty.webhooks import public_host


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",  # 127.0.0.1 as one number
        "0x7f000001",
        "127.1",
        "0177.0.0.1",  # octal
        "0x7f.0.0.1",
        "10.1",  # 10.0.0.1
        "3232235777",  # 192.168.1.1
        "169.254.169.254",  # the cloud's metadata service
        "999.1.1.1",  # numbers that are no address: not a name either
        "localhost",
        "localhost.",
        "api.localhost",
        "printer.local",
        "nas.home.arpa",
        "intranet",  # one label: found through the machine's search domains
        "::1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # a network's own translator
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "fe80::1%eth0",
        "kartu-host",
        "kartu-host.example.com",
        "a..b.com",
        "under_score.com",
    ],
)
def test_a_private_or_local_host_in_any_spelling_is_not_public(host: str) -> None:
    assert not public_host(host, own_names=("kartu-host", "kartu-host.example.com"))


@pytest.mark.parametrize(
    "host",
    ["pos.example.com", "pos.example.com.", "8.8.8.8", "134744072", "2606:4700::1111", "64:ff9b::808:808"],
)
def test_a_public_host_is_public(host: str) -> None:
    assert public_host(host, own_names=("kartu-host",))
