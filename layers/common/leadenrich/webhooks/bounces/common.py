"""What every bounce adapter shares: how a refusal names what failed, the body as JSON, and an address as
the effects compare it."""

from __future__ import annotations

import re
from typing import Any

from leadenrich import jsonguard
from leadenrich.engine.models import normalize_email
from leadenrich.webhooks import signing
from leadenrich.webhooks.inbound import MalformedEvent

# A provider's retries must still verify: SendGrid retries for 24 hours, an SNS delivery policy for up to
# about as long. Within it a replay is stopped by the event-id record (kept 7 days), past it by the age.
MAX_AGE_SECONDS = 24 * 3600
MAX_SKEW_SECONDS = 300  # a timestamp this far in the future is a clock's error, more is a forgery
_ANGLED = re.compile(r"<([^<>]+)>\s*$")


class Unverified(signing.SignatureError):
    """401: the request is not the workspace's sending tool's. The message never quotes a secret or the
    body; `field` names the part that failed (`header.authorization`, `body.Signature`, ...)."""

    def __init__(self, message: str, field: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.stale = stale


def check_age(timestamp: float, now: float, field: str) -> None:
    """Unverified (stale) when `timestamp` is more than a day old, or more than 5 minutes ahead."""
    if now - timestamp > MAX_AGE_SECONDS or timestamp - now > MAX_SKEW_SECONDS:
        raise Unverified("stale timestamp: outside the provider's retry window", field, stale=True)


def json_body(body: bytes) -> Any:
    """The body parsed (nesting bounded first); MalformedEvent (400) when it is not JSON."""
    try:
        return jsonguard.loads(body)
    except jsonguard.JsonTooDeep as exc:
        raise MalformedEvent(f"body: {exc}") from None
    except ValueError:
        raise MalformedEvent("body: not JSON") from None


def address(value: object) -> str | None:
    """A recipient as compared (`normalize_email`: lower case, IDNA domain), from `a@b` or `Name <a@b>`;
    None when it is no address (the event is then ignored, never an error: the rest of a batch counts)."""
    if not isinstance(value, str):
        return None
    angled = _ANGLED.search(value)
    try:
        return normalize_email(angled.group(1) if angled else value)
    except ValueError:
        return None


__all__ = ["MAX_AGE_SECONDS", "MAX_SKEW_SECONDS", "Unverified", "address", "check_age", "json_body"]
