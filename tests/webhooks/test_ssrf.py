"""Where callbacks may go: checked when the job is created and again, resolved, before each send."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.webhooks import ssrf

REFUSED_IN_AWS = [
    "http://example.com/hook",  # https only
    "https://user:pass@example.com/hook",
    "https://user@example.com/hook",
    "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[::1]/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # CGNAT
    "https://224.0.0.1/hook",
    "https://0.0.0.0/hook",
    "https://240.0.0.1/hook",
    "https://[fe80::1]/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://intranet/hook",
    "ftp://example.com/x",
    "/relative",
]


@pytest.mark.parametrize("url", REFUSED_IN_AWS)
def test_aws_mode_refuses_non_https_user_info_and_non_public_addresses(url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check_url(url)


@pytest.mark.parametrize("url", ["https://example.com/hook", "https://93.184.216.34:8443/x?y=1"])
def test_public_https_urls_pass(url: str) -> None:
    ssrf.check_url(url)


def test_local_mode_allows_http_and_loopback_only() -> None:
    ssrf.check_url("http://127.0.0.1:8080/hook", allow_local=True)
    ssrf.check_url("http://localhost:8080/hook", allow_local=True)
    ssrf.check_url("http://[::1]:8080/hook", allow_local=True)
    for url in ("http://10.0.0.1/hook", "http://169.254.169.254/", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(ssrf.UnsafeUrl):
            ssrf.check_url(url, allow_local=True)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::ffff:127.0.0.1", "::127.0.0.1", "2002:a00:1::", "64:ff9b::a00:1"]
)
def test_mapped_and_embedded_forms_are_checked_as_what_they_carry(address: str) -> None:
    assert not ssrf.address_allowed(ipaddress.ip_address(address))


async def test_a_name_resolving_to_loopback_is_refused_before_sending_in_aws_mode() -> None:
    ssrf.check_url("https://localhost.example.test/hook")  # a public-looking name passes the static check
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.resolve_public("https://localhost/hook")
    target = await ssrf.resolve_public("http://localhost:9/hook", allow_local=True)
    assert target.address.is_loopback and target.host == "localhost"


async def test_resolution_failures_are_refusals() -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.resolve_public("https://no-such-host.invalid/hook")


def test_the_pinned_request_connects_to_the_address_and_keeps_host_and_sni() -> None:
    target = ssrf.Target(
        "https://hooks.example.com:8443/a?b=1",
        "hooks.example.com",
        ipaddress.ip_address("93.184.216.34"),
        8443,
    )
    url, headers, extensions = ssrf.pinned_url(target)
    assert url == "https://93.184.216.34:8443/a?b=1"
    assert headers == {"host": "hooks.example.com:8443"} and extensions == {
        "sni_hostname": "hooks.example.com"
    }
    v6 = ssrf.Target("https://h.example.com/", "h.example.com", ipaddress.ip_address("2606:2800::1"), 443)
    assert ssrf.pinned_url(v6)[0] == "https://[2606:2800::1]/"


def test_job_requests_check_the_url_at_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOW_LOCAL_WEBHOOKS", raising=False)
    for url in ("http://127.0.0.1:9/hook", "https://169.254.169.254/", "https://u:p@example.com/"):
        with pytest.raises(ValidationError, match="webhook_url"):
            CreateJobRequest.model_validate({"domains": ["acme.com"], "webhook_url": url})
    CreateJobRequest.model_validate({"domains": ["acme.com"], "webhook_url": "https://example.com/h"})
    monkeypatch.setenv("ALLOW_LOCAL_WEBHOOKS", "true")
    CreateJobRequest.model_validate({"domains": ["acme.com"], "webhook_url": "http://127.0.0.1:9/hook"})
