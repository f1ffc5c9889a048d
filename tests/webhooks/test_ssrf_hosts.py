"""Non-canonical IPv4 hosts in a callback URL: refused when the job is created, and still before a send.

`inet_aton` (and with it glibc's resolver and the WHATWG URL parser of browsers and Node) reads one to four
numbers in decimal, octal or hex as an IPv4 address; Python's `ipaddress` reads none of these forms, so
they used to pass the check at creation as host names and fail only when resolved at send time.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from pydantic import ValidationError

from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.webhooks import ssrf

PRIVATE = "must not point to a private, loopback, link-local or reserved address"
NOT_CANONICAL = "an IPv4 address must be written as four decimal numbers (a.b.c.d)"

# host -> the address inet_aton reads it as (every one private, loopback, link-local or reserved)
NON_CANONICAL_PRIVATE = {
    "127.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "0x7F.1": "127.0.0.1",
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.000.000.001": "127.0.0.1",
    "10.1": "10.0.0.1",
    "012.0.0.1": "10.0.0.1",
    "192.168.257": "192.168.1.1",
    "0xa9fea9fe": "169.254.169.254",  # the instance metadata address
    "169.254.43518": "169.254.169.254",
    "0": "0.0.0.0",
    "0x0": "0.0.0.0",
    "0x64.0x40.0.1": "100.64.0.1",  # CGNAT
    "4294967295": "255.255.255.255",
}


@pytest.mark.parametrize(("host", "address"), NON_CANONICAL_PRIVATE.items())
def test_a_non_canonical_private_ipv4_host_is_refused_at_creation(host: str, address: str) -> None:
    assert ipaddress.IPv4Address(socket.inet_aton(host)) == ipaddress.IPv4Address(address)  # the premise
    for url in (f"https://{host}/hook", f"https://{host}:8443/hook", f"https://{host}./hook"):
        with pytest.raises(ssrf.UnsafeUrl, match=re.escape(PRIVATE)):
            ssrf.check_url(url)
        with pytest.raises(ValidationError) as refused:
            CreateJobRequest.model_validate({"domains": ["acme.com"], "webhook_url": url})
        ((error,),) = [refused.value.errors()]
        assert error["loc"] == ("webhook_url",) and PRIVATE in error["msg"]


@pytest.mark.parametrize("host", ["127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1"])
async def test_the_send_time_check_refuses_them_too(host: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl, match=re.escape(PRIVATE)):
        await ssrf.resolve_public(f"https://{host}/hook")


def test_the_local_stack_allows_loopback_only_as_a_canonical_literal() -> None:
    ssrf.check_url("http://127.0.0.1:8080/hook", allow_local=True)
    for host in ("127.1", "0x7f.0.0.1", "2130706433"):
        with pytest.raises(ssrf.UnsafeUrl):
            ssrf.check_url(f"http://{host}:8080/hook", allow_local=True)


@pytest.mark.parametrize(
    "host",
    [
        "0x08.8.8.8",  # 8.8.8.8, public, but written so parsers may disagree
        "0127.0.0.1",  # 87.0.0.1 to inet_aton, 127.0.0.1 to a parser that drops leading zeros
        "134744072",  # 8.8.8.8
        "1.2.3.4.5",  # ends in a number: a URL parser takes it for an address, and fails
        "256.0.0.1",
        "example.123",
        "example.0x1f",
        "4294967296",
    ],
)
def test_other_numeric_hosts_are_refused_whatever_they_read_as(host: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl, match=re.escape(NOT_CANONICAL)):
        ssrf.check_url(f"https://{host}/hook")


@pytest.mark.parametrize("host", ["127.0.0.%31", "127.1%2f", "127.0.0.1%00", "a%2eb.com", "a b.com"])
def test_hosts_with_characters_no_dns_name_has_are_refused(host: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check_url(f"https://{host}/hook")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://hooks.example.co.uk/x?y=1",
        "https://1.2.3.4.nip.io/hook",  # a name that merely starts with numbers
        "https://8.8.8.8/hook",
        "https://my_host.example.com/hook",
        "https://b\u00fccher.de/hook",  # an IDN label
        "https://xn--bcher-kva.de/hook",
        "https://0x.example.com/hook",
    ],
)
def test_names_and_canonical_public_addresses_still_pass(url: str) -> None:
    ssrf.check_url(url)
    assert CreateJobRequest.model_validate({"domains": ["acme.com"], "webhook_url": url}).webhook_url == url


def test_ipv4_reading_follows_inet_aton() -> None:
    assert ssrf.ipv4_reading("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert ssrf.ipv4_reading("example.com") is None
    assert ssrf.ipv4_reading("1.2.3.4.5") is None
