"""Domain normalisation and the webmail/disposable screen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadenrich.engine.domains import DomainError, is_disposable, is_webmail, normalize_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.COM. ", "acme.com"),
        ("https://www.Acme.com/about?x=1#team", "acme.com"),
        ("http://user:pw@acme.co.uk:8080/path", "acme.co.uk"),
        ("www.acme.io", "acme.io"),
        ("www.com", "www.com"),
        ("jane.doe@acme.com", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("sub.team.acme.com", "sub.team.acme.com"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ],
)
def test_normal_form(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "acme", "acme .com", "-acme.com", "acme-.com", "acme.c0m", "a" * 64 + ".com", "http://"],
)
def test_bad_domains_raise_an_error_naming_the_field(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalize_domain(raw)
    assert caught.value.field == "domain"


@given(st.text(max_size=80))
def test_never_raises_anything_but_domain_error(raw: str) -> None:
    try:
        result = normalize_domain(raw)
    except DomainError:
        return
    assert result == result.lower() and result.isascii() and "." in result


def test_webmail_and_disposable_including_subdomains() -> None:
    assert is_webmail("gmail.com")
    assert is_webmail("eu.outlook.com")
    assert is_disposable("mailinator.com")
    assert not is_webmail("acme.com") and not is_disposable("acme.com")
    assert not is_webmail("notgmail.com")


def test_an_address_in_a_bad_domain_is_redacted_in_the_error() -> None:
    with pytest.raises(DomainError) as caught:
        normalize_domain("John Smith <john.smith@acme.com>")
    assert "john.smith@" not in str(caught.value) and "j***@acme.com" in str(caught.value)
