"""Postmark's bounce and spam complaint webhooks (docs/bounces.md, "Postmark").

Postmark does not sign its webhooks; it documents protecting them with HTTP basic auth in the webhook's URL
(`https://user:password@host/...`) and checking its published source addresses. The workspace chooses the
password and its settings keep its SHA-256 (`bounce_postmark_password`); the user name is not checked.
The request carries no timestamp, so there is no age to check: a replay is stopped by the event-id record.
(The source addresses are not checked: Postmark changes them, and the password is the credential.)

The body is one JSON object:

- `{"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1, "Email": ..., ...}`:
  `HardBounce` and `BadEmailAddress` are hard bounces, `SpamComplaint` a complaint, the transient kinds
  (`SoftBounce`, `Transient`, `DnsError`, `Blocked`...) soft, and the rest (auto-responders, subscribe and
  unsubscribe requests, challenge verifications...) ignored;
- `{"RecordType": "SpamComplaint", "ID": ..., "Type": "SpamComplaint", "Email": ...}`: a complaint;
- any other `RecordType` (`Delivery`, `Open`, `Click`, `SubscriptionChange`) is ignored.

Its event id is the record type and its `ID` (Postmark keeps the ID on every retry).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from leadenrich.bounces.models import BounceDelivery, BounceEvent, BounceKind
from leadenrich.bounces.sources import password_matches
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.bounces.common import Unverified, address, json_body
from leadenrich.webhooks.inbound import MalformedEvent

HARD = frozenset({"HardBounce", "BadEmailAddress"})
SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "Undeliverable", "SMTPApiError"})
COMPLAINT = frozenset({"SpamComplaint"})
_RECORD_TYPES = frozenset({"Bounce", "SpamComplaint"})


def bounce_kind(bounce_type: object) -> BounceKind | None:
    if bounce_type in HARD:
        return BounceKind.HARD
    if bounce_type in COMPLAINT:
        return BounceKind.COMPLAINT
    if bounce_type in SOFT:
        return BounceKind.SOFT
    return None


def postmark_events(body: bytes) -> BounceDelivery:
    """The bounce feedback in a Postmark webhook body (module docstring)."""
    record = json_body(body)
    if not isinstance(record, dict):
        raise MalformedEvent("body: expected a JSON object")
    record_type = record.get("RecordType")
    if record_type not in _RECORD_TYPES:
        return BounceDelivery(ignored=1)
    record_id = record.get("ID")
    if isinstance(record_id, bool) or not isinstance(record_id, int | str) or not str(record_id).strip():
        raise MalformedEvent("ID: expected the record's id", "body.ID")
    kind = BounceKind.COMPLAINT if record_type == "SpamComplaint" else bounce_kind(record.get("Type"))
    email = address(record.get("Email"))
    if kind is None or email is None:
        return BounceDelivery(ignored=1)
    event_id = f"{record_type}-{str(record_id).strip()[:100]}"
    return BounceDelivery(events=(BounceEvent(event_id, kind, email, str(record.get("Type") or "")[:64]),))


def basic_password(header: str) -> str | None:
    """The password of an `Authorization: Basic ...` header; None when it is not one."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon else None


class PostmarkAdapter:
    """Postmark's webhooks, behind the workspace's basic-auth password."""

    name = "postmark"

    def __init__(self, password_sha256: str) -> None:
        self._digest = password_sha256

    @classmethod
    def for_settings(
        cls, settings: WorkspaceSettings, _certificates: object = None
    ) -> PostmarkAdapter | None:
        digest = settings.bounce_postmark_password_sha256
        return cls(digest) if digest else None

    async def read(self, headers: Mapping[str, str], body: bytes, now: float) -> BounceDelivery:
        password = basic_password(headers.get("authorization", ""))
        if password is None or not password_matches(password, self._digest):
            raise Unverified("basic auth: missing or wrong password", "header.authorization")
        return postmark_events(body)


__all__ = ["PostmarkAdapter", "basic_password", "bounce_kind", "postmark_events"]
