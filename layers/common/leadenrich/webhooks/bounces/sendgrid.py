"""SendGrid's signed Event Webhook (docs/bounces.md, "SendGrid").

SendGrid signs each POST with the account's ECDSA P-256 key: `X-Twilio-Email-Event-Webhook-Signature` is
the base64 (DER) signature, over SHA-256, of `X-Twilio-Email-Event-Webhook-Timestamp` followed by the raw
body, and the workspace's settings hold the public key SendGrid shows (`bounce_sendgrid_key`). SendGrid
documents no tolerance for the timestamp; one older than SendGrid's 24 hours of retries is refused
(`common.check_age`), and a replay within them is stopped by the event-id record.

The body is a JSON array of events (`email`, `event`, `sg_event_id`, `type`, `reason`, ...). Read here:

- `bounce` with `type` `bounce` (or none: older accounts): a hard bounce; `type` `blocked`: soft (the
  receiving server refused for now);
- `dropped`: SendGrid did not send, because of its own suppression lists: `reason` "Bounced Address" is a
  hard bounce, "Spam Reporting Address" a complaint; other reasons (unsubscribed, invalid) are ignored;
- `spamreport`: a complaint;
- every other event (`processed`, `delivered`, `deferred`, `open`, `click`...) is ignored.

An event's id is its `sg_event_id` (the same on every retry); one without is named by a digest of its JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from leadenrich.bounces.models import BounceDelivery, BounceEvent, BounceKind
from leadenrich.bounces.sources import load_sendgrid_key
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.bounces.common import Unverified, address, check_age, json_body
from leadenrich.webhooks.inbound import MalformedEvent

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
_DROPPED = {"bounced address": BounceKind.HARD, "spam reporting address": BounceKind.COMPLAINT}
_ID_MAX = 128


def event_kind(event: Mapping[str, Any]) -> BounceKind | None:
    """What an event is as bounce feedback (module docstring); None when it is none."""
    name = event.get("event")
    if name == "bounce":
        return BounceKind.SOFT if event.get("type") == "blocked" else BounceKind.HARD
    if name == "dropped":
        return _DROPPED.get(str(event.get("reason") or "").strip().lower())
    if name == "spamreport":
        return BounceKind.COMPLAINT
    return None


def _event_id(event: Mapping[str, Any]) -> str:
    given = event.get("sg_event_id")
    if isinstance(given, str) and 1 <= len(given) <= _ID_MAX:
        return given
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def sendgrid_events(body: bytes) -> BounceDelivery:
    """The bounce feedback in an Event Webhook body (module docstring)."""
    payload = json_body(body)
    if not isinstance(payload, list):
        raise MalformedEvent("body: expected a JSON array of events")
    events: list[BounceEvent] = []
    ignored = 0
    for event in payload:
        kind = event_kind(event) if isinstance(event, Mapping) else None
        email = address(event.get("email")) if isinstance(event, Mapping) else None
        if kind is None or email is None:
            ignored += 1
            continue
        detail = str(event.get("type") or event.get("reason") or event.get("event"))[:64]
        events.append(BounceEvent(_event_id(event), kind, email, f"{event.get('event')}/{detail}"))
    return BounceDelivery(events=tuple(events), ignored=ignored)


class SendGridAdapter:
    """SendGrid's Event Webhook, verified with the workspace's key."""

    name = "sendgrid"

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self._key = key

    @classmethod
    def for_settings(
        cls, settings: WorkspaceSettings, _certificates: object = None
    ) -> SendGridAdapter | None:
        if not settings.bounce_sendgrid_key:
            return None
        key = load_sendgrid_key(settings.bounce_sendgrid_key)
        assert isinstance(key, ec.EllipticCurvePublicKey)  # load_sendgrid_key checks it
        return cls(key)

    async def read(self, headers: Mapping[str, str], body: bytes, now: float) -> BounceDelivery:
        given, stamp = headers.get(SIGNATURE_HEADER, ""), headers.get(TIMESTAMP_HEADER, "")
        if not given or not stamp:
            raise Unverified(
                "missing the Event Webhook's signature or timestamp", f"header.{SIGNATURE_HEADER}"
            )
        if not stamp.isascii() or not stamp.isdigit():
            raise Unverified("timestamp: not an integer", f"header.{TIMESTAMP_HEADER}")
        try:
            signature = base64.b64decode(given, validate=True)
            self._key.verify(signature, stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, InvalidSignature):
            raise Unverified("signature: does not match the body", f"header.{SIGNATURE_HEADER}") from None
        check_age(float(stamp), now, f"header.{TIMESTAMP_HEADER}")  # signed: a stale one is a replay
        return sendgrid_events(body)


__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SendGridAdapter", "event_kind", "sendgrid_events"]
