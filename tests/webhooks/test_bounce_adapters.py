"""Each sending tool's adapter with its real signature scheme and its documented sample payloads: Amazon SNS
(SignatureVersion 1 and 2, a certificate served on an SNS host over an `httpx.MockTransport`), SendGrid's
ECDSA P-256 Event Webhook, Postmark's basic auth; valid, tampered, unsigned, stale, from another host or
topic; and what each payload means as bounce feedback."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from leadenrich.bounces.models import BounceDelivery, BounceKind
from leadenrich.bounces.sources import password_digest
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.bounces.common import Unverified
from leadenrich.webhooks.bounces.postmark import PostmarkAdapter
from leadenrich.webhooks.bounces.sendgrid import SendGridAdapter
from leadenrich.webhooks.bounces.ses import SesAdapter
from leadenrich.webhooks.bounces.sns import SnsClient
from leadenrich.webhooks.inbound import MalformedEvent
from tests.support.bounce_world import (
    BOUNCED,
    COMPLAINED,
    KEPT,
    OTHER_TOPIC,
    POSTMARK_PASSWORD,
    SUBSCRIBE_URL,
    TOPIC,
    SnsSigner,
    basic_auth,
    postmark_bounce,
    sendgrid_batch,
    sendgrid_event,
    sendgrid_headers,
    sendgrid_keys,
    ses_bounce,
    ses_complaint,
    sns_notification,
    sns_subscription,
)


@pytest.fixture(scope="module")
def signer() -> SnsSigner:
    return SnsSigner.make()


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def ses(signer: SnsSigner, topics: tuple[str, ...] = (TOPIC,)) -> tuple[SesAdapter, SnsClient]:
    client = SnsClient(signer.transport)
    adapter = SesAdapter.for_settings(WorkspaceSettings(bounce_sns_topics=topics), client)
    assert adapter is not None
    return adapter, client


async def read_sns(adapter: SesAdapter, message: dict[str, Any]) -> BounceDelivery:
    return await adapter.read({}, json.dumps(message).encode(), time.time())


# --- Amazon SES over SNS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_ses_bounce_is_read_with_either_signature_version(
    signer: SnsSigner, version: str
) -> None:
    adapter, _ = ses(signer)
    message = signer.sign(
        sns_notification(ses_bounce([BOUNCED, f"Jane Roe <{KEPT.upper()}>"]), "msg-1"), version
    )
    delivery = await read_sns(adapter, message)
    assert [(e.event_id, e.kind, e.email, e.detail) for e in delivery.events] == [
        ("msg-1", BounceKind.HARD, BOUNCED, "Permanent/General"),
        ("msg-1", BounceKind.HARD, KEPT, "Permanent/General"),
    ]


async def test_the_certificate_is_fetched_once_per_url(signer: SnsSigner) -> None:
    adapter, _ = ses(signer)
    before = signer.fetched
    for n in range(3):
        await read_sns(adapter, signer.sign(sns_notification(ses_bounce([BOUNCED]), f"msg-{n}")))
    assert signer.fetched - before == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Message": json.dumps(ses_bounce([COMPLAINED]))}, "body.Signature"),  # tampered after signing
        ({"Signature": "bm90IGEgc2lnbmF0dXJl"}, "body.Signature"),
        ({"Signature": "***"}, "body.Signature"),
        ({"SignatureVersion": "3"}, "body.SignatureVersion"),
        ({"Type": "Something"}, "body.Type"),
        ({"TopicArn": OTHER_TOPIC}, "body.TopicArn"),
    ],
)
async def test_a_tampered_or_unsigned_sns_message_is_refused(
    signer: SnsSigner, change: dict[str, str], field: str
) -> None:
    adapter, _ = ses(signer)
    message = signer.sign(sns_notification(ses_bounce([BOUNCED]), "msg-t")) | change
    with pytest.raises(Unverified) as refused:
        await read_sns(adapter, message)
    assert refused.value.field == field and not refused.value.stale


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com.attacker.example/cert.pem",
        "https://attacker.example/sns.us-east-1.amazonaws.com/cert.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-0123.pem",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-0123.pem",
    ],
)
async def test_a_certificate_url_that_is_not_an_sns_host_is_refused_before_any_fetch(url: str) -> None:
    signer = SnsSigner.make()
    adapter, _ = ses(signer)
    message = signer.sign(sns_notification(ses_bounce([BOUNCED]), "msg-h")) | {"SigningCertURL": url}
    with pytest.raises(Unverified) as refused:
        await read_sns(adapter, message)
    assert refused.value.field == "body.SigningCertURL" and signer.fetched == 0


async def test_a_message_signed_by_another_key_is_refused(signer: SnsSigner) -> None:
    forger = SnsSigner.make()  # its own key, but the certificate at CERT_URL is `signer`'s
    adapter, _ = ses(signer)
    with pytest.raises(Unverified) as refused:
        await read_sns(adapter, forger.sign(sns_notification(ses_bounce([BOUNCED]), "msg-f")))
    assert refused.value.field == "body.Signature"


@pytest.mark.parametrize("age", [timedelta(days=2), -timedelta(hours=1)])
async def test_a_stale_or_future_sns_message_is_refused(signer: SnsSigner, age: timedelta) -> None:
    adapter, _ = ses(signer)
    at = datetime.now(UTC) - age
    message = signer.sign(sns_notification(ses_bounce([BOUNCED]), "msg-s", at=at))
    with pytest.raises(Unverified) as refused:
        await read_sns(adapter, message)
    assert refused.value.stale and refused.value.field == "body.Timestamp"


async def test_a_subscription_for_a_listed_topic_is_confirmed_at_its_sns_url(signer: SnsSigner) -> None:
    adapter, client = ses(signer)
    delivery = await read_sns(adapter, signer.sign(sns_subscription(), "2"))
    assert delivery.subscribe_url == SUBSCRIBE_URL and delivery.events == ()
    assert await client.confirm(SUBSCRIBE_URL) and signer.confirmed[-1] == SUBSCRIBE_URL
    with pytest.raises(Unverified):  # another topic's subscription: never confirmed
        await read_sns(adapter, signer.sign(sns_subscription(OTHER_TOPIC)))
    forged = signer.sign(sns_subscription()) | {"SubscribeURL": "https://attacker.example/?Action=Confirm"}
    with pytest.raises(Unverified):  # the SubscribeURL is signed: changing it breaks the signature
        await read_sns(adapter, forged)
    with pytest.raises(Unverified):  # and a host other than SNS is never fetched
        await client.confirm("https://attacker.example/?Action=ConfirmSubscription")
    unsubscribed = signer.sign(sns_subscription() | {"Type": "UnsubscribeConfirmation"})
    assert (await read_sns(adapter, unsubscribed)).unsubscribed


async def test_ses_notifications_mean_what_ses_says(signer: SnsSigner) -> None:
    adapter, _ = ses(signer)

    async def read(message: dict[str, Any]) -> list[tuple[BounceKind, str, str]]:
        delivery = await read_sns(adapter, signer.sign(sns_notification(message, "m")))
        return [(e.kind, e.email, e.detail) for e in delivery.events]

    assert await read(ses_bounce([BOUNCED], "Transient")) == [(BounceKind.SOFT, BOUNCED, "Transient/General")]
    assert await read(ses_bounce([BOUNCED], "Undetermined")) == [
        (BounceKind.SOFT, BOUNCED, "Undetermined/General")
    ]
    assert await read(ses_complaint([COMPLAINED])) == [(BounceKind.COMPLAINT, COMPLAINED, "Complaint/abuse")]
    assert await read(ses_complaint([COMPLAINED], "not-spam")) == []
    assert await read({"notificationType": "Delivery", "delivery": {"recipients": [KEPT]}}) == []
    event_publishing = {
        k if k != "notificationType" else "eventType": v for k, v in ses_bounce([KEPT]).items()
    }
    assert await read(event_publishing) == [(BounceKind.HARD, KEPT, "Permanent/General")]
    assert await read(ses_bounce(["not an address", BOUNCED])) == [
        (BounceKind.HARD, BOUNCED, "Permanent/General")
    ]
    with pytest.raises(MalformedEvent):
        await read({"notificationType": "Bounce", "bounce": {"bouncedRecipients": "x"}})


async def test_an_sns_body_that_is_not_json_is_unverified() -> None:
    adapter, _ = ses(SnsSigner.make())
    with pytest.raises(Unverified):
        await adapter.read({}, b"not json", time.time())


# --- SendGrid --------------------------------------------------------------------------------------------


def sendgrid(key: str) -> SendGridAdapter:
    adapter = SendGridAdapter.for_settings(WorkspaceSettings(bounce_sendgrid_key=key))
    assert adapter is not None
    return adapter


BATCH = sendgrid_batch(
    sendgrid_event("processed", KEPT, "sg-0"),
    sendgrid_event("bounce", BOUNCED, "sg-1", reason="500 unknown recipient", status="5.0.0", type="bounce"),
    sendgrid_event("bounce", KEPT, "sg-2", reason="blocked", status="4.0.0", type="blocked"),
    sendgrid_event("dropped", "Someone@Acme.com", "sg-3", reason="Bounced Address", status="5.0.0"),
    sendgrid_event("dropped", KEPT, "sg-4", reason="Unsubscribed Address", status="5.0.0"),
    sendgrid_event("spamreport", COMPLAINED, "sg-5"),
    sendgrid_event("delivered", KEPT, "sg-6", response="250 OK"),
    sendgrid_event("open", KEPT, "sg-7", useragent="Mozilla/5.0", ip="255.255.255.255"),
)


async def test_a_signed_sendgrid_batch_is_read_event_by_event() -> None:
    private, public = sendgrid_keys()
    at = int(time.time())
    delivery = await sendgrid(public).read(lower(sendgrid_headers(private, BATCH, at)), BATCH, time.time())
    assert [(e.event_id, e.kind, e.email) for e in delivery.events] == [
        ("sg-1", BounceKind.HARD, BOUNCED),
        ("sg-2", BounceKind.SOFT, KEPT),
        ("sg-3", BounceKind.HARD, "someone@acme.com"),
        ("sg-5", BounceKind.COMPLAINT, COMPLAINED),
    ]
    assert delivery.ignored == 4


async def test_a_sendgrid_request_not_signed_by_the_workspace_s_key_is_refused() -> None:
    private, public = sendgrid_keys()
    other, _ = sendgrid_keys()
    at = int(time.time())
    adapter = sendgrid(public)
    cases = [
        ({}, BATCH),
        (sendgrid_headers(other, BATCH, at), BATCH),  # another account's key
        (sendgrid_headers(private, BATCH, at), BATCH + b" "),  # the body changed
        (
            sendgrid_headers(private, BATCH, at) | {"X-Twilio-Email-Event-Webhook-Timestamp": str(at + 1)},
            BATCH,
        ),
        (sendgrid_headers(private, BATCH, at) | {"X-Twilio-Email-Event-Webhook-Signature": "%%%"}, BATCH),
    ]
    for headers, body in cases:
        with pytest.raises(Unverified) as refused:
            await adapter.read(lower(headers), body, time.time())
        assert not refused.value.stale
    stale = int(time.time()) - 2 * 86400
    with pytest.raises(Unverified) as refused:
        await adapter.read(lower(sendgrid_headers(private, BATCH, stale)), BATCH, time.time())
    assert refused.value.stale and refused.value.field == "header.x-twilio-email-event-webhook-timestamp"


async def test_a_signed_sendgrid_body_that_is_not_a_batch_is_malformed() -> None:
    private, public = sendgrid_keys()
    body = b'{"event": "bounce"}'
    with pytest.raises(MalformedEvent):
        await sendgrid(public).read(
            lower(sendgrid_headers(private, body, int(time.time()))), body, time.time()
        )


# --- Postmark --------------------------------------------------------------------------------------------


def postmark() -> PostmarkAdapter:
    adapter = PostmarkAdapter.for_settings(
        WorkspaceSettings(bounce_postmark_password_sha256=password_digest(POSTMARK_PASSWORD))
    )
    assert adapter is not None
    return adapter


async def test_a_postmark_bounce_behind_the_workspace_s_password_is_read() -> None:
    delivery = await postmark().read(lower(basic_auth(POSTMARK_PASSWORD)), postmark_bounce(BOUNCED), 0.0)
    assert [(e.event_id, e.kind, e.email, e.detail) for e in delivery.events] == [
        ("Bounce-42", BounceKind.HARD, BOUNCED, "HardBounce")
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth("wrong-password-0123456789abcdef"),
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic ***"},
    ],
)
async def test_a_postmark_request_without_the_password_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(Unverified) as refused:
        await postmark().read(lower(headers), postmark_bounce(BOUNCED), 0.0)
    assert refused.value.field == "header.authorization"


async def test_postmark_records_mean_what_postmark_says() -> None:
    auth = lower(basic_auth(POSTMARK_PASSWORD))

    async def kinds(body: bytes) -> list[BounceKind]:
        return [e.kind for e in (await postmark().read(auth, body, 0.0)).events]

    assert await kinds(postmark_bounce(BOUNCED, bounce_type="BadEmailAddress")) == [BounceKind.HARD]
    assert await kinds(postmark_bounce(BOUNCED, bounce_type="SoftBounce")) == [BounceKind.SOFT]
    assert await kinds(postmark_bounce(BOUNCED, bounce_type="AutoResponder")) == []
    complaint = json.loads(postmark_bounce(COMPLAINED, 7, "SpamComplaint")) | {"RecordType": "SpamComplaint"}
    assert await kinds(json.dumps(complaint).encode()) == [BounceKind.COMPLAINT]
    assert await kinds(json.dumps({"RecordType": "Delivery", "Recipient": KEPT}).encode()) == []
    with pytest.raises(MalformedEvent) as malformed:
        await postmark().read(auth, json.dumps({"RecordType": "Bounce", "Email": BOUNCED}).encode(), 0.0)
    assert malformed.value.field == "body.ID"


# --- the workspace's material, as PUT /settings takes it ---------------------------------------------------


def test_settings_refuse_what_could_never_verify_naming_the_field() -> None:
    from pydantic import ValidationError

    from leadenrich.privacy.settings import WorkspaceSettingsChange

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    rsa_der = base64.b64encode(rsa_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    _, p256 = sendgrid_keys()
    refused = {
        "bounce_sns_topics": ["arn:aws:sqs:us-east-1:123456789012:q"],
        "bounce_sendgrid_key": rsa_der.decode(),
        "bounce_postmark_password": "short",
        "requeue_on_bounce": "yes",
    }
    for field, value in refused.items():
        with pytest.raises(ValidationError) as error:
            WorkspaceSettingsChange.model_validate({field: value})
        assert error.value.errors()[0]["loc"][0] == field
    broken = p256[:40] + ("A" if p256[40] != "A" else "B") + p256[41:]  # same shape, not a point of P-256
    with pytest.raises(ValidationError):
        WorkspaceSettingsChange.model_validate({"bounce_sendgrid_key": broken})
    change = WorkspaceSettingsChange.model_validate(
        {
            "bounce_sns_topics": [TOPIC, TOPIC],
            "bounce_sendgrid_key": p256,
            "bounce_postmark_password": POSTMARK_PASSWORD,
        }
    )
    settings = change.apply(WorkspaceSettings())
    assert settings.bounce_sns_topics == (TOPIC,) and settings.bounce_sendgrid_key == p256
    assert settings.bounce_postmark_password_sha256 == password_digest(POSTMARK_PASSWORD)
    assert POSTMARK_PASSWORD not in repr(settings)
    cleared = WorkspaceSettingsChange.model_validate(
        {"bounce_postmark_password": "", "bounce_sendgrid_key": ""}
    )
    assert cleared.apply(settings).bounce_postmark_password_sha256 == ""
    assert cleared.apply(settings).bounce_sendgrid_key == ""
