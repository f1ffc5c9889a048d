"""Addresses, names and keys as they may appear in logs and reasons: never whole."""

from __future__ import annotations

import pytest

from leadenrich.engine.redaction import redact_email, redact_query, redact_text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("John Smith <john.smith@acme.com>", "John Smith <j***@acme.com>"),
        ("email=jane.doe%40acme.co.uk&x=1", "email=j***@acme.co.uk&x=1"),
        ("acme.com", "acme.com"),
    ],
)
def test_an_address_in_free_text_keeps_its_first_letter_and_domain(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


def test_an_address_alone_is_shortened_and_a_non_address_hidden() -> None:
    assert redact_email("olivia.martin@acme.com") == "o***@acme.com"
    assert redact_email("not an address") == "***"


def test_a_request_line_loses_its_addresses_names_and_key() -> None:
    line = 'GET /v2/email-finder?domain=acme.com&First_Name=Jane&last_name=Doe&api_key=k1 "HTTP/1.1 200 OK"'
    assert redact_query(line) == (
        "GET /v2/email-finder?domain=acme.com&First_Name=<redacted>&last_name=<redacted>&api_key=<redacted> "
        '"HTTP/1.1 200 OK"'
    )
    assert redact_query("/v2/email-verifier?email=a@b.co") == "/v2/email-verifier?email=<redacted>"
