"""A workspace's bounce sources: the verification material its settings hold for each sending tool
(docs/bounces.md, "Whose bounce"), and the rules a value must meet to be stored.

- Amazon SES (over SNS): the ARNs of the SNS topics its SES identities publish bounces and complaints to.
  An SNS message is signed by AWS for the topic it was published to, and only the topic's owner (or whom
  its policy allows) can publish to it or subscribe an endpoint to it: a topic listed here is this
  workspace's.
- SendGrid: the Event Webhook's verification key (the public half of the ECDSA P-256 pair SendGrid makes
  for the account, shown base64 under Mail Settings): only SendGrid holds the private half.
- Postmark: the password of the webhook URL's basic auth, chosen by the workspace. Only its SHA-256 is
  stored (like the API keys: a password of at least 24 characters needs no slow hash), and never shown.

None of it is a secret the service keeps (the key is public, the ARNs are names, the password a hash), so
it lives in the workspace's settings, read and changed with `GET/PUT /settings`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

MAX_TOPICS = 10
# arn:<partition>:sns:<region>:<account>:<topic> (a FIFO topic cannot take HTTP subscriptions: not .fifo).
TOPIC_ARN_PATTERN = r"^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
# A P-256 public key as SendGrid shows it: base64 of its SubjectPublicKeyInfo (91 bytes, uncompressed point).
SENDGRID_KEY_PREFIX = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
SENDGRID_KEY_PATTERN = rf"^({SENDGRID_KEY_PREFIX}[A-Za-z0-9+/]{{86}}==)?$"
MIN_PASSWORD = 24
MAX_PASSWORD = 256
PASSWORD_PATTERN = rf"^([!-~]{{{MIN_PASSWORD},{MAX_PASSWORD}}})?$"  # printable ASCII, no space; "" clears

_TOPIC_ARN = re.compile(TOPIC_ARN_PATTERN)


def topic_arn(value: str) -> str:
    """`value` when it is an SNS topic ARN; ValueError saying what one looks like otherwise."""
    if not _TOPIC_ARN.fullmatch(value):
        raise ValueError("not an SNS topic ARN (arn:aws:sns:<region>:<account id>:<topic name>)")
    return value


def sendgrid_key(value: str) -> str:
    """`value` ("" clears it) when it is an ECDSA P-256 public key, base64 DER as SendGrid shows it;
    ValueError otherwise. The key is loaded once here, so a typo is refused when it is set, not when the
    first bounce arrives."""
    if value == "":
        return value
    load_sendgrid_key(value)
    return value


def load_sendgrid_key(value: str) -> object:
    """The key as `cryptography` holds it (an `EllipticCurvePublicKey` on P-256); ValueError otherwise."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not a public key: paste the Event Webhook's verification key (base64)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 key (the kind SendGrid's Signed Event Webhook uses)")
    return key


def password_digest(password: str) -> str:
    """What is stored of a Postmark password: its SHA-256, hex ("" for none)."""
    return hashlib.sha256(password.encode()).hexdigest() if password else ""


def password_matches(password: str, digest: str) -> bool:
    """Constant time; never true without a stored digest."""
    return bool(digest) and hmac.compare_digest(password_digest(password), digest)


__all__ = [
    "MAX_PASSWORD",
    "MAX_TOPICS",
    "MIN_PASSWORD",
    "PASSWORD_PATTERN",
    "SENDGRID_KEY_PATTERN",
    "TOPIC_ARN_PATTERN",
    "load_sendgrid_key",
    "password_digest",
    "password_matches",
    "sendgrid_key",
    "topic_arn",
]
