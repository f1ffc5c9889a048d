"""Standard Webhooks signatures (https://www.standardwebhooks.com), both ways.

A secret is `whsec_<base64 of the key bytes>`. The signed content is `{webhook-id}.{webhook-timestamp}.{body}`
with the body's exact bytes; the `webhook-signature` header is `v1,<base64 HMAC-SHA256>`, and may list
several space-separated signatures (during a secret rotation) of which one must match. A timestamp further
than `tolerance` seconds from now, past or future, is refused: a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """Missing, malformed or wrong signature headers (401). The message never quotes a secret."""


class StaleTimestamp(SignatureError):
    """The timestamp is outside the tolerance (401)."""


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_...` secret (a bare base64 key is accepted too)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret: expected whsec_<base64>") from None
    if len(key) < 16:
        raise ValueError("webhook secret: the key must be at least 16 bytes")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check the Standard Webhooks headers (names lower-case) against the raw body; returns the webhook-id.
    Raises SignatureError, or StaleTimestamp when the timestamp is outside the tolerance."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not msg_id or not stamp or not given:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp: not an integer") from None
    if abs(now - timestamp) > tolerance:
        raise StaleTimestamp("webhook-timestamp: outside the tolerance")
    expected = signature(secret, msg_id, timestamp, body).encode()
    for candidate in given.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise SignatureError("webhook-signature: no valid signature")


def secrets_map(text: str | None, name: str) -> dict[str, str]:
    """A JSON object of name -> whsec secret (from an environment variable or the secret); names the
    variable, never the value, when it is malformed."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"{name}: must be a JSON object of name -> whsec_ secret") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{name}: must be a JSON object of name -> whsec_ secret")
    for key, secret in value.items():
        try:
            secret_key(secret)
        except ValueError:
            raise ValueError(f"{name}[{key}]: expected whsec_<base64 of at least 16 bytes>") from None
    return dict(value)
