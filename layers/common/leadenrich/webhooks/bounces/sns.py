"""Amazon SNS message signatures, as AWS documents them ("Verifying the signatures of Amazon SNS messages").

An SNS message posted to an HTTPS endpoint is a JSON object signed by SNS with the private key of the
certificate its `SigningCertURL` names. Verifying it:

1. `SigningCertURL` must be `https://sns.<region>.amazonaws.com[.cn]/...pem` (no port, no user): anyone can
   make a certificate, only AWS serves one from an SNS host, so the host is checked *before* anything is
   fetched, and the certificate is fetched over HTTPS (the TLS certificate proves the host). A certificate
   is fetched once per URL per process (`SnsClient`): SNS rotates certificates under new URLs.
2. The string to sign is `name\\nvalue\\n` for these fields, in this order, as the JSON carries them
   (escapes decoded, never re-serialised): `Message, MessageId, Subject (if present), Timestamp, TopicArn,
   Type` for a `Notification`; `Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type` for a
   `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
3. `Signature` is base64 RSA PKCS#1 v1.5 over it: SHA-1 for `SignatureVersion` 1 (SNS's default), SHA-256
   for 2.
4. `TopicArn` must be one the receiver expects (the caller's check: `ses.SesAdapter`), and the timestamp
   within the retry window (`common.check_age`).

A `SubscriptionConfirmation` is confirmed by GETting its `SubscribeURL`, which must be an SNS host too
(`SnsClient.confirm`), and only for a topic the workspace listed.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from leadenrich.webhooks.bounces.common import Unverified, check_age

NOTIFICATION = "Notification"
SUBSCRIPTION = "SubscriptionConfirmation"
UNSUBSCRIPTION = "UnsubscribeConfirmation"
_SIGNED_FIELDS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    UNSUBSCRIPTION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_OPTIONAL = frozenset({"Subject"})
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
MAX_CERTIFICATE_BYTES = 64 * 1024
_KEPT_CERTIFICATES = 32


@dataclass(frozen=True)
class SnsMessage:
    """A verified SNS message: its type, id, topic, the `Message` text, and the URL a subscription is
    confirmed at (`SubscriptionConfirmation` only)."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    subscribe_url: str | None = None


def sns_url(value: object, field: str) -> str:
    """`value` when it is an https URL on an SNS host (no port, no user info); Unverified otherwise."""
    if not isinstance(value, str):
        raise Unverified(f"{field}: missing", f"body.{field}")
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or parts.port is not None
        or parts.username is not None
        or parts.hostname is None
        or not SNS_HOST.fullmatch(parts.hostname)
    ):
        raise Unverified(f"{field}: not an Amazon SNS host", f"body.{field}")
    return value


def string_to_sign(message: Mapping[str, Any], kind: str) -> bytes:
    """The canonical string of `message` (module docstring, step 2); Unverified when a field is missing."""
    lines: list[str] = []
    for name in _SIGNED_FIELDS[kind]:
        value = message.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if not isinstance(value, str):
            raise Unverified(f"{name}: missing from a signed SNS message", f"body.{name}")
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _timestamp(value: object) -> float:
    if not isinstance(value, str):
        raise Unverified("Timestamp: missing", "body.Timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Unverified("Timestamp: not a time", "body.Timestamp") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class CertificateSource(Protocol):
    async def public_key(self, url: str) -> rsa.RSAPublicKey:
        """The RSA public key of the certificate at `url` (an SNS host, checked by the caller)."""
        ...


async def verify_message(
    message: Mapping[str, Any], certificates: CertificateSource, now: float, *, topics: frozenset[str]
) -> SnsMessage:
    """The message verified (module docstring); Unverified naming what failed. `topics`: the ARNs the
    receiver expects, checked before any certificate is fetched."""
    kind = message.get("Type")
    if kind not in _SIGNED_FIELDS:
        raise Unverified("Type: not a signed SNS message type", "body.Type")
    topic = message.get("TopicArn")
    if not isinstance(topic, str) or topic not in topics:
        raise Unverified("TopicArn: not a topic this workspace listed (bounce_sns_topics)", "body.TopicArn")
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise Unverified("SignatureVersion: 1 or 2", "body.SignatureVersion")
    signed = string_to_sign(message, str(kind))
    check_age(_timestamp(message.get("Timestamp")), now, "body.Timestamp")
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise Unverified("Signature: not base64", "body.Signature") from None
    key = await certificates.public_key(sns_url(message.get("SigningCertURL"), "SigningCertURL"))
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Unverified("Signature: does not match the message", "body.Signature") from None
    return SnsMessage(
        type=str(kind),
        message_id=str(message["MessageId"]),
        topic_arn=topic,
        message=str(message["Message"]),
        subscribe_url=sns_url(message.get("SubscribeURL"), "SubscribeURL") if kind == SUBSCRIPTION else None,
    )


class SnsClient:
    """The certificates (fetched once per URL, kept for the process) and subscription confirmations, over
    HTTPS, no redirect followed, 5 s each. `transport`: where requests go (None: the network; tests give an
    `httpx.MockTransport` serving a certificate they made)."""

    def __init__(
        self, transport: Callable[[], httpx.AsyncBaseTransport | None] = lambda: None, timeout: float = 5.0
    ) -> None:
        self._transport = transport
        self._timeout = timeout
        self._keys: dict[str, rsa.RSAPublicKey] = {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport(), timeout=self._timeout, follow_redirects=False)

    async def public_key(self, url: str) -> rsa.RSAPublicKey:
        kept = self._keys.get(url)
        if kept is not None:
            return kept
        try:
            async with self._client() as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            raise CertificateUnavailable(f"SigningCertURL: not fetched ({type(exc).__name__})") from None
        if response.status_code != 200 or len(response.content) > MAX_CERTIFICATE_BYTES:
            raise CertificateUnavailable(f"SigningCertURL: answered {response.status_code}")
        try:
            certificate = x509.load_pem_x509_certificate(response.content)
        except ValueError:
            raise Unverified("SigningCertURL: not a certificate", "body.SigningCertURL") from None
        now = datetime.now(UTC)
        key = certificate.public_key()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Unverified("SigningCertURL: the certificate is not valid now", "body.SigningCertURL")
        if not isinstance(key, rsa.RSAPublicKey):
            raise Unverified("SigningCertURL: not an RSA certificate", "body.SigningCertURL")
        if len(self._keys) >= _KEPT_CERTIFICATES:
            self._keys.pop(next(iter(self._keys)))
        self._keys[url] = key
        return key

    async def confirm(self, url: str) -> bool:
        """GET the SubscribeURL (an SNS host, checked again); whether SNS answered 200."""
        sns_url(url, "SubscribeURL")
        try:
            async with self._client() as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class CertificateUnavailable(RuntimeError):
    """The SNS host did not serve the certificate (a 500: SNS retries the message, verified then)."""


__all__ = [
    "NOTIFICATION",
    "SNS_HOST",
    "SUBSCRIPTION",
    "UNSUBSCRIPTION",
    "CertificateSource",
    "CertificateUnavailable",
    "SnsClient",
    "SnsMessage",
    "sns_url",
    "string_to_sign",
    "verify_message",
]
