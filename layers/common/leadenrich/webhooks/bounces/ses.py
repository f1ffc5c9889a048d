"""Amazon SES bounce and complaint notifications, delivered by SNS (docs/bounces.md, "Amazon SES").

SES publishes to an SNS topic per identity (or per configuration set's event destination); the topic posts
to `/webhooks/ses?workspace=<id>`. The SNS message is verified first (`sns.verify_message`: the signature,
the certificate's host, the age, and a topic the workspace listed in `bounce_sns_topics`), then its
`Message` is read as SES writes it:

- `{"notificationType": "Bounce", "bounce": {"bounceType": "Permanent" | "Transient" | "Undetermined",
  "bounceSubType": ..., "bouncedRecipients": [{"emailAddress": ...}, ...]}, "mail": {...}}`:
  Permanent is a hard bounce, the others soft;
- `{"notificationType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": ...}],
  "complaintFeedbackType": ...}}`: a complaint, unless the feedback type is `not-spam`;
- the same with `eventType` instead of `notificationType` (a configuration set's event publishing);
- anything else (`Delivery`, `Send`, `Open`...) is ignored.

Every recipient of one message shares its SNS `MessageId` as event id (SNS keeps it on every retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadenrich.bounces.models import BounceDelivery, BounceEvent, BounceKind
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.bounces.common import Unverified, address, json_body
from leadenrich.webhooks.bounces.sns import (
    NOTIFICATION,
    SUBSCRIPTION,
    UNSUBSCRIPTION,
    CertificateSource,
    verify_message,
)
from leadenrich.webhooks.inbound import MalformedEvent


def _recipients(part: Mapping[str, Any], name: str) -> list[object]:
    found = part.get(name)
    if not isinstance(found, list):
        raise MalformedEvent(f"Message: {name} is not a list", "body.Message")
    return [r.get("emailAddress") if isinstance(r, Mapping) else None for r in found]


def ses_events(message_id: str, text: str) -> BounceDelivery:
    """The bounce feedback in an SES notification (module docstring)."""
    notification = json_body(text.encode("utf-8"))
    if not isinstance(notification, dict):
        raise MalformedEvent("Message: not an SES notification", "body.Message")
    kind = notification.get("notificationType") or notification.get("eventType")
    recipients: list[object]
    if kind == "Bounce" and isinstance(notification.get("bounce"), Mapping):
        bounce = notification["bounce"]
        bounce_type = str(bounce.get("bounceType") or "")
        recipients = _recipients(bounce, "bouncedRecipients")
        outcome = BounceKind.HARD if bounce_type == "Permanent" else BounceKind.SOFT
        detail = f"{bounce_type}/{bounce.get('bounceSubType') or ''}".strip("/")
    elif kind == "Complaint" and isinstance(notification.get("complaint"), Mapping):
        complaint = notification["complaint"]
        recipients = _recipients(complaint, "complainedRecipients")
        feedback = str(complaint.get("complaintFeedbackType") or "")
        if feedback == "not-spam":
            return BounceDelivery(ignored=len(recipients))
        outcome, detail = BounceKind.COMPLAINT, f"Complaint/{feedback}".strip("/")
    else:
        return BounceDelivery(ignored=1)
    emails = [address(r) for r in recipients]
    events = tuple(
        BounceEvent(message_id, outcome, email, detail[:64]) for email in dict.fromkeys(emails) if email
    )
    return BounceDelivery(events=events, ignored=sum(1 for e in emails if e is None))


class SesAdapter:
    """SES over SNS, for the topics a workspace listed."""

    name = "ses"

    def __init__(self, topics: frozenset[str], certificates: CertificateSource) -> None:
        self._topics = topics
        self._certificates = certificates

    @classmethod
    def for_settings(cls, settings: WorkspaceSettings, certificates: CertificateSource) -> SesAdapter | None:
        topics = frozenset(settings.bounce_sns_topics)
        return cls(topics, certificates) if topics else None

    async def read(self, headers: Mapping[str, str], body: bytes, now: float) -> BounceDelivery:
        try:
            envelope = json_body(body)
        except MalformedEvent:
            raise Unverified("body: not a signed SNS message", "body") from None
        if not isinstance(envelope, dict):
            raise Unverified("body: not a signed SNS message", "body")
        message = await verify_message(envelope, self._certificates, now, topics=self._topics)
        if message.type == SUBSCRIPTION:
            return BounceDelivery(subscribe_url=message.subscribe_url)
        if message.type == UNSUBSCRIPTION:
            return BounceDelivery(unsubscribed=True)
        assert message.type == NOTIFICATION
        return ses_events(message.message_id, message.message)


__all__ = ["SesAdapter", "ses_events"]
