"""Standard Webhooks signatures: what verifies, what does not, and the timestamp tolerance."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from leadenrich.webhooks import signing

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
NOW = 1_800_000_000


def test_the_signature_is_hmac_sha256_of_id_timestamp_body_in_base64() -> None:
    body = b'{"type":"job.completed"}'
    expected = hmac.new(b"k" * 32, b"msg_1.1800000000." + body, hashlib.sha256).digest()
    assert signing.signature(SECRET, "msg_1", NOW, body) == "v1," + base64.b64encode(expected).decode()


def test_signed_headers_verify_and_return_the_id() -> None:
    headers = signing.sign_headers(SECRET, "msg_1", NOW, b"{}")
    assert signing.verify(SECRET, headers, b"{}", now=NOW + 10) == "msg_1"


def test_one_matching_signature_among_several_is_enough_for_rotation() -> None:
    headers = signing.sign_headers(SECRET, "msg_1", NOW, b"{}")
    old = signing.signature(OTHER, "msg_1", NOW, b"{}")
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert signing.verify(SECRET, headers, b"{}", now=NOW) == "msg_1"


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": ""},
        {"webhook-id": ""},
        {"webhook-timestamp": "soon"},
        {"webhook-id": "msg_2"},  # the id is signed
        {"webhook-signature": "v1,AAAA"},
    ],
)
def test_missing_or_wrong_headers_are_refused(change: dict[str, str]) -> None:
    headers = signing.sign_headers(SECRET, "msg_1", NOW, b"{}") | change
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, headers, b"{}", now=NOW)


def test_another_body_or_secret_is_refused() -> None:
    headers = signing.sign_headers(SECRET, "msg_1", NOW, b"{}")
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, headers, b"{ }", now=NOW)
    with pytest.raises(signing.SignatureError):
        signing.verify(OTHER, headers, b"{}", now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -86_400])
def test_timestamps_outside_the_tolerance_are_stale(skew: int) -> None:
    headers = signing.sign_headers(SECRET, "msg_1", NOW, b"{}")
    with pytest.raises(signing.StaleTimestamp):
        signing.verify(SECRET, headers, b"{}", now=NOW + skew)


def test_malformed_secrets_are_named_without_their_value() -> None:
    with pytest.raises(ValueError, match=r"WEBHOOK_SIGNING_SECRETS\[ws\]") as info:
        signing.secrets_map('{"ws": "whsec_not-base64!!"}', "WEBHOOK_SIGNING_SECRETS")
    assert "not-base64" not in str(info.value)
    with pytest.raises(ValueError, match="JSON object"):
        signing.secrets_map("[1]", "WEBHOOK_SIGNING_SECRETS")
    assert signing.secrets_map(f'{{"ws": "{SECRET}"}}', "X") == {"ws": SECRET}
