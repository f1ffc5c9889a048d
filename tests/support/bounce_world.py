"""Bounce feedback as the sending tools send it, signed with keys the tests make (docs/bounces.md): an SNS
signing certificate served on an SNS host through an `httpx.MockTransport`, a SendGrid ECDSA P-256 pair, a
Postmark basic-auth password; the providers' documented sample payloads; and the stored addresses a bounce
finds (two workspaces' items: the bouncing one's and another's that must stay untouched).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import JobStore
from leadenrich.webhooks.bounces.sns import string_to_sign

WS, OTHER = "ws-bounce", "ws-bystander"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
OTHER_TOPIC = "arn:aws:sns:us-east-1:210987654321:someone-elses"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e241d164b0533302ec"
)
POSTMARK_PASSWORD = "pm-hook-7f3c9a1e5b2d8c4f6a0e9b1d"

BOUNCED = "jane.doe@acme.com"  # a pattern guess of WS's job that hard-bounces
KEPT = "bob.smith@acme.com"  # another address of the same result: untouched
COMPLAINED = "ceo@globex.io"
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)


# --- keys -------------------------------------------------------------------------------------------------


@dataclass
class SnsSigner:
    """An SNS signing key and its certificate, served at `CERT_URL` (and SubscribeURL answered) by
    `transport`; `fetched` counts the certificate's downloads, `confirmed` the subscriptions."""

    key: rsa.RSAPrivateKey
    pem: bytes
    fetched: int = 0
    confirmed: list[str] = field(default_factory=list)

    @classmethod
    def make(cls) -> SnsSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate.public_bytes(serialization.Encoding.PEM))

    def transport(self) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            if str(request.url) == CERT_URL:
                self.fetched += 1
                return httpx.Response(200, content=self.pem)
            if request.url.params.get("Action") == "ConfirmSubscription":
                self.confirmed.append(str(request.url))
                return httpx.Response(200, text="<ConfirmSubscriptionResponse/>")
            return httpx.Response(404)

        return httpx.MockTransport(answer)

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        """`message` with SignatureVersion, SigningCertURL and its Signature over the canonical string."""
        signed = {"SignatureVersion": version, "SigningCertURL": CERT_URL, **message}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        digest = self.key.sign(string_to_sign(signed, signed["Type"]), padding.PKCS1v15(), algorithm)
        return {**signed, "Signature": base64.b64encode(digest).decode()}


def sendgrid_keys() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 pair, and the public key as SendGrid shows it (base64 DER)."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def sendgrid_headers(private: ec.EllipticCurvePrivateKey, body: bytes, at: int) -> dict[str, str]:
    signature = private.sign(str(at).encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(at),
    }


def basic_auth(password: str, user: str = "postmark") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- the providers' sample payloads (their documentation's examples, with our addresses) ------------------


def ses_bounce(recipients: list[str], bounce_type: str = "Permanent") -> dict[str, Any]:
    """SES's bounce notification (the documented example's shape)."""
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "reportingMTA": "dns; email.example.com",
            "bouncedRecipients": [
                {
                    "emailAddress": r,
                    "status": "5.1.1",
                    "action": "failed",
                    "diagnosticCode": f"smtp; 550 5.1.1 <{r}>... User unknown",
                }
                for r in recipients
            ],
            "bounceSubType": "General",
            "timestamp": "2026-11-22T08:59:38.237Z",
            "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
            "remoteMtaIp": "127.0.2.0",
        },
        "mail": {
            "timestamp": "2026-11-22T08:59:37.000Z",
            "source": "sales@seller.example",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/seller.example",
            "sourceIp": "127.0.3.0",
            "sendingAccountId": "123456789012",
            "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
            "destination": recipients,
        },
    }


def ses_complaint(recipients: list[str], feedback: str = "abuse") -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "AnyCompany Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "complaintFeedbackType": feedback,
            "arrivalDate": "2026-11-22T08:59:38.237Z",
            "timestamp": "2026-11-22T08:59:38.237Z",
            "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
        },
        "mail": {"messageId": "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000"},
    }


def sns_notification(
    message: dict[str, Any], message_id: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """An SNS Notification carrying `message` as SES publishes it (unsigned: `SnsSigner.sign`)."""
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(message),
        "Timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1",
    }


def sns_subscription(topic: str = TOPIC) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d164b0533302ec",
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit "
        "the SubscribeURL included in this message.",
        "SubscribeURL": SUBSCRIBE_URL.replace(TOPIC, topic),
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }


def sendgrid_batch(*events: dict[str, Any]) -> bytes:
    return json.dumps(list(events)).encode()


def sendgrid_event(event: str, email: str, sg_event_id: str, **extra: Any) -> dict[str, Any]:
    """An Event Webhook event (the documented example's fields)."""
    return {
        "email": email,
        "timestamp": 1795338000,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "category": ["cat facts"],
        "sg_event_id": sg_event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **extra,
    }


def postmark_bounce(email: str, record_id: int = 42, bounce_type: str = "HardBounce") -> bytes:
    """Postmark's bounce webhook (its documented example, RecordType included)."""
    return json.dumps(
        {
            "RecordType": "Bounce",
            "MessageStream": "outbound",
            "ID": record_id,
            "Type": bounce_type,
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Tag": "Test",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "ServerID": 23,
            "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not "
            "found).",
            "Details": "Test bounce details",
            "Email": email,
            "From": "sender@seller.example",
            "BouncedAt": "2026-11-22T08:28:10.2735393-04:00",
            "DumpAvailable": True,
            "Inactive": True,
            "CanActivate": True,
            "Subject": "Test subject",
            "Content": "Return-Path:....",
            "Metadata": {"a_key": "a_value"},
        }
    ).encode()


# --- stored addresses -------------------------------------------------------------------------------------


def _address(email: str, method: str, source: str, email_type: str = "primary") -> dict[str, Any]:
    return {
        "email": email,
        "source": source,
        "confidence_score": 50,
        "email_type": email_type,
        "hunter_status": "risky",
        "status": "inactive",
        "verified_at": None,
        "method": method,
        "person": "Jane Doe",
        "position": "CEO",
        "deliverability": "catch_all",
        "contact": "decision_maker",
        "lawful_basis": "legitimate_interest",
    }


def found_result() -> dict[str, Any]:
    """A result holding BOUNCED (a guess from the domain's pattern) and KEPT (from a domain search)."""
    guess = _address(BOUNCED, "known_pattern", "perplexity_generated")
    kept = {
        **_address(KEPT, "domain_search", "hunter_direct", "secondary"),
        "hunter_status": "deliverable",
        "status": "active",
        "deliverability": "verified",
        "person": "Bob Smith",
    }
    return {
        "external_id": "crm-1",
        "domain": "acme.com",
        "status": "found",
        "contact": "decision_maker",
        "emails": [guess, kept],
        "reason": None,
        "retry_after": None,
        "usage": {"hunter": {"calls": 2, "credits": 1.0, "cost_usd": 0.0, "cache_hits": 0}},
    }


LEAD = Lead(domain="acme.com", company_name="Acme", external_id="crm-1")
JOB_ID = {WS: "job_bounce", OTHER: "job_bystander"}


async def seed_items(store: JobStore, *, lead_id: Callable[[str], str | None] = lambda ws: None) -> None:
    """Each workspace's job: one finished item holding BOUNCED and KEPT, one unrelated queued item."""
    for workspace in (WS, OTHER):
        job = Job(workspace, JOB_ID[workspace], JobStatus.RUNNING, NOW)
        items = [
            Item(workspace, JOB_ID[workspace], "000000", LEAD, ItemStatus.FOUND, 1, None, found_result(), NOW,
                 lead_id=lead_id(workspace)),
            Item(workspace, JOB_ID[workspace], "000001", Lead(domain="globex.io"), ItemStatus.QUEUED),
        ]  # fmt: skip
        await store.create_job(job, items)


def addresses_of(item: Item) -> dict[str, tuple[str, str, str]]:
    """Each address of the item's result: (status, hunter_status, deliverability)."""
    return {
        e["email"]: (e["status"], e["hunter_status"], e["deliverability"])
        for e in (item.result or {}).get("emails", [])
    }


UNDELIVERABLE = ("inactive", "undeliverable", "undeliverable")
