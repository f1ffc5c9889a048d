"""Bounce feedback end to end through the webhook Lambda on moto (DynamoDB, SQS): real API Gateway events
from each sending tool, signed with keys the test made (the SNS certificate served on an SNS host through an
`httpx.MockTransport`); each request's effects on the workspace's items, suppression list, pattern facts,
jobs and audit trail; replays; another workspace's URL and data; refusals in the error model; a failure
after the record, retried; and logs free of addresses and secrets. Every answer is held to docs/openapi.json.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import handle_webhook
from leadenrich import runtime, runtime_bounces
from leadenrich.aws.dynamo_cache import DynamoCache
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.sqs_queue import create_band_queues
from leadenrich.bounces.service import REQUEUE_TAG
from leadenrich.bounces.sources import password_digest
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import AuditQuery, SuppressionReason, WorkspaceSettings
from tests.support.bounce_world import (
    BOUNCED,
    COMPLAINED,
    JOB_ID,
    KEPT,
    OTHER,
    OTHER_TOPIC,
    POSTMARK_PASSWORD,
    TOPIC,
    UNDELIVERABLE,
    WS,
    SnsSigner,
    addresses_of,
    basic_auth,
    found_result,
    postmark_bounce,
    seed_items,
    sendgrid_batch,
    sendgrid_event,
    sendgrid_headers,
    sendgrid_keys,
    ses_bounce,
    sns_notification,
    sns_subscription,
)
from tests.support.lambda_events import Context
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer

SENDGRID_PRIVATE, SENDGRID_PUBLIC = sendgrid_keys()


@pytest.fixture(scope="module")
def signer() -> SnsSigner:
    return SnsSigner.make()


@pytest.fixture(autouse=True)
def aws(mocked_aws: None, monkeypatch: pytest.MonkeyPatch, signer: SnsSigner) -> Iterator[None]:
    """The webhook function's environment on moto, the SNS host served by `signer`, both workspaces' items,
    and WS's sending tools set up (OTHER listed only a topic of its own)."""
    create_table(boto3.client("dynamodb"), "leadenrich")
    queues = create_band_queues(boto3.client("sqs"), "leadenrich-work", visibility_timeout=30)
    for name, value in {"TABLE_NAME": "leadenrich", "SERIALIZE_AWS_CALLS": "true"}.items():
        monkeypatch.setenv(name, value)
    for name, value in runtime.queue_environment(queues).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(runtime_bounces, "TRANSPORT", signer.transport())
    runtime.reset()

    async def seed() -> None:
        await seed_items(runtime.job_service().store)
        await runtime.workspace_settings().put(
            WS,
            WorkspaceSettings(
                requeue_on_bounce=True,
                bounce_sns_topics=(TOPIC,),
                bounce_sendgrid_key=SENDGRID_PUBLIC,
                bounce_postmark_password_sha256=password_digest(POSTMARK_PASSWORD),
            ),
        )
        await runtime.workspace_settings().put(OTHER, WorkspaceSettings(bounce_sns_topics=(OTHER_TOPIC,)))

    asyncio.run(seed())
    yield
    runtime.reset()


def post(
    provider: str, body: bytes, headers: dict[str, str] | None = None, workspace: str | None = WS
) -> tuple[int, Any]:
    query = {"workspace": workspace} if workspace is not None else None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "POST /webhooks/{provider}",
        "rawPath": f"/webhooks/{provider}",
        "rawQueryString": f"workspace={workspace}" if workspace else "",
        "queryStringParameters": query,
        "pathParameters": {"provider": provider},
        "headers": {"content-type": "text/plain; charset=UTF-8", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "http": {"method": "POST", "path": f"/webhooks/{provider}", "sourceIp": "54.240.217.8"},
            "requestId": "req-1",
            "routeKey": "POST /webhooks/{provider}",
            "stage": "$default",
            "timeEpoch": 1795338000000,
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    response = handle_webhook.handler(event, Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def sns(signer: SnsSigner, message: dict[str, Any], message_id: str, **kwargs: Any) -> bytes:
    return json.dumps(signer.sign(sns_notification(message, message_id, **kwargs))).encode()


def item(workspace: str) -> dict[str, tuple[str, str, str]]:
    found = asyncio.run(runtime.job_service().store.get_item(workspace, JOB_ID[workspace], "000000"))
    assert found is not None
    return addresses_of(found)


def jobs(workspace: str) -> list[Any]:
    return asyncio.run(runtime.job_service().store.list_jobs(workspace)).items


def suppressed(workspace: str) -> list[tuple[str, SuppressionReason]]:
    page = asyncio.run(runtime.suppressions().list(workspace))
    return [(e.identity.key, e.reason) for e in page.items]


def audit(workspace: str) -> list[Any]:
    return asyncio.run(runtime.audit_log().query(AuditQuery(workspace))).items


def received(
    applied: int = 0, duplicates: int = 0, ignored: int = 0, provider: str = "ses"
) -> dict[str, Any]:
    return {"status": "received", "provider": provider, "applied": applied, "duplicates": duplicates,
            "ignored": ignored, "subscription": None}  # fmt: skip


# --- Amazon SES ---------------------------------------------------------------------------------------------


def test_an_ses_hard_bounce_has_every_effect_once(signer: SnsSigner) -> None:
    body = sns(signer, ses_bounce([BOUNCED]), "0000-msg-1")
    assert post("ses", body) == (200, received(applied=1))

    assert item(WS) == {BOUNCED: UNDELIVERABLE, KEPT: ("active", "deliverable", "verified")}
    assert suppressed(WS) == [(email_identity(BOUNCED).key, SuppressionReason.BOUNCE)]
    cache = DynamoCache("leadenrich", boto3.client("dynamodb"))
    assert asyncio.run(cache.get("v1:pb:acme.com")) is not None  # the pattern is doubted
    assert asyncio.run(cache.get(f"v1:ev:{BOUNCED}")) is None  # no verdict about the address was written
    requeued = [j for j in jobs(WS) if j.options.tags == (REQUEUE_TAG,)]
    assert len(requeued) == 1 and requeued[0].counters.total == 1
    [entry] = audit(WS)
    assert (entry.action, entry.actor, entry.target) == (
        "bounce.hard",
        "webhook",
        email_identity(BOUNCED).key,
    )
    assert entry.job_id == requeued[0].job_id and entry.source_ip == "54.240.217.8"
    assert entry.detail["provider"] == "ses" and entry.detail["event_id"] == "0000-msg-1"

    # SNS retries the same message: recorded once, no second effect.
    assert post("ses", body) == (200, received(duplicates=1))
    assert len(jobs(WS)) == 2 and len(audit(WS)) == 1

    # The bystander workspace: items, list, jobs and trail as they were.
    assert item(OTHER) == addresses_of_result()
    assert suppressed(OTHER) == [] and len(jobs(OTHER)) == 1 and audit(OTHER) == []


def addresses_of_result() -> dict[str, tuple[str, str, str]]:
    return {
        e["email"]: (e["status"], e["hunter_status"], e["deliverability"]) for e in found_result()["emails"]
    }


def test_another_workspace_cannot_send_bounces_in_ws_s_name_nor_receive_them(signer: SnsSigner) -> None:
    ws_message = sns(signer, ses_bounce([BOUNCED]), "msg-x")
    status, answer = post("ses", ws_message, workspace=OTHER)  # WS's topic, posted to OTHER's URL
    assert status == 401 and answer["field"] == "body.TopicArn"
    other = signer.sign(sns_notification(ses_bounce([BOUNCED]), "msg-y") | {"TopicArn": OTHER_TOPIC})
    status, answer = post("ses", json.dumps(other).encode())  # OTHER's topic, posted to WS's URL
    assert status == 401 and answer["field"] == "body.TopicArn"
    assert post("sendgrid", sendgrid_batch(), workspace=OTHER)[0] == 404  # OTHER set no SendGrid key up
    assert post("ses", ws_message, workspace="no such workspace!")[0] == 404
    assert post("ses", ws_message, workspace=None)[1]["field"] == "query.workspace"
    assert item(WS)[BOUNCED] != UNDELIVERABLE and item(OTHER)[BOUNCED] != UNDELIVERABLE
    assert suppressed(WS) == suppressed(OTHER) == []


def test_sns_refusals_are_401_in_the_error_model_and_record_nothing(signer: SnsSigner) -> None:
    good = signer.sign(sns_notification(ses_bounce([BOUNCED]), "msg-r"))
    host = good | {"SigningCertURL": "https://sns.us-east-1.amazonaws.com.evil.example/c.pem"}
    stale = signer.sign(
        sns_notification(ses_bounce([BOUNCED]), "msg-r", at=datetime.now(UTC) - timedelta(days=2))
    )
    tampered = good | {"Message": json.dumps(ses_bounce([KEPT]))}
    answers = [post("ses", json.dumps(m).encode()) for m in (host, stale, tampered)]
    assert [(s, a["field"]) for s, a in answers] == [
        (401, "body.SigningCertURL"),
        (401, "body.Timestamp"),
        (401, "body.Signature"),
    ]
    assert answers[1][1]["message"] == "stale timestamp"
    assert post("ses", json.dumps(good).encode()) == (200, received(applied=1))  # the id was not taken


def test_a_subscription_to_the_workspace_s_topic_is_confirmed(signer: SnsSigner) -> None:
    before = len(signer.confirmed)
    status, answer = post("ses", json.dumps(signer.sign(sns_subscription())).encode())
    assert status == 200 and answer["subscription"] == "confirmed"
    assert len(signer.confirmed) == before + 1
    status, answer = post("ses", json.dumps(signer.sign(sns_subscription(OTHER_TOPIC))).encode())
    assert status == 401 and len(signer.confirmed) == before + 1  # never confirmed for another topic


def test_a_failure_after_the_record_is_a_500_and_the_retry_is_applied(
    signer: SnsSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = sns(signer, ses_bounce([BOUNCED]), "msg-500")
    # Supabase (where the found addresses of stored leads go) is configured and out: the marks fail.
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service-role-key")
    runtime.reset()
    status, answer = post("ses", body)
    assert status == 500 and answer["field"] is None and "retry" in answer["message"]
    for name in ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name)
    runtime.reset()
    assert post("ses", body) == (200, received(applied=1))  # not taken for a replay
    assert item(WS)[BOUNCED] == UNDELIVERABLE


# --- SendGrid and Postmark ---------------------------------------------------------------------------------


def test_a_signed_sendgrid_batch_applies_its_bounces_and_complaints() -> None:
    batch = sendgrid_batch(
        sendgrid_event("delivered", KEPT, "sg-0"),
        sendgrid_event("bounce", BOUNCED, "sg-1", reason="550 5.1.1 unknown", status="5.1.1", type="bounce"),
        sendgrid_event("spamreport", COMPLAINED, "sg-2"),
    )
    headers = sendgrid_headers(SENDGRID_PRIVATE, batch, int(time.time()))
    assert post("sendgrid", batch, headers) == (200, received(2, 0, 1, "sendgrid"))
    assert item(WS)[BOUNCED] == UNDELIVERABLE
    assert sorted(suppressed(WS)) == sorted(
        [
            (email_identity(BOUNCED).key, SuppressionReason.BOUNCE),
            (email_identity(COMPLAINED).key, SuppressionReason.COMPLAINT),
        ]
    )
    assert post("sendgrid", batch, headers) == (200, received(0, 2, 1, "sendgrid"))
    status, answer = post("sendgrid", batch, sendgrid_headers(sendgrid_keys()[0], batch, int(time.time())))
    assert (status, answer["field"]) == (401, "header.x-twilio-email-event-webhook-signature")
    stale = sendgrid_headers(SENDGRID_PRIVATE, batch, int(time.time()) - 2 * 86400)
    assert post("sendgrid", batch, stale)[1]["message"] == "stale timestamp"
    # A batch larger than the standard route's 256 KB is taken (SendGrid's reach 768 KB); over 1 MB is not.
    large = sendgrid_batch(
        *(sendgrid_event("open", KEPT, f"sg-o{n}", useragent="x" * 300) for n in range(900))
    )
    assert 256 * 1024 < len(large) < 1024 * 1024
    headers = sendgrid_headers(SENDGRID_PRIVATE, large, int(time.time()))
    assert post("sendgrid", large, headers) == (200, received(0, 0, 900, "sendgrid"))
    status, answer = post("sendgrid", large * 3, headers)
    assert (status, answer["field"]) == (413, "body")


def test_a_postmark_bounce_behind_the_password_is_applied_once() -> None:
    body = postmark_bounce(BOUNCED, record_id=4242)
    assert post("postmark", body, basic_auth(POSTMARK_PASSWORD)) == (200, received(1, provider="postmark"))
    assert item(WS)[BOUNCED] == UNDELIVERABLE
    assert post("postmark", body, basic_auth(POSTMARK_PASSWORD)) == (200, received(0, 1, provider="postmark"))
    status, answer = post("postmark", body, basic_auth("not-the-password-0123456789"))
    assert (status, answer["field"]) == (401, "header.authorization")
    assert [e.action for e in audit(WS)] == ["bounce.hard"]


def test_no_address_and_no_secret_reaches_the_logs(
    signer: SnsSigner, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    post("ses", sns(signer, ses_bounce([BOUNCED]), "msg-log"))
    post("postmark", postmark_bounce(COMPLAINED, 7, "SpamComplaint"), basic_auth(POSTMARK_PASSWORD))
    post("postmark", postmark_bounce(KEPT), basic_auth("wrong-password-0123456789abc"))
    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "bounce webhook accepted" in logged and "bounce webhook refused" in logged
    for secret in (BOUNCED, COMPLAINED, KEPT, POSTMARK_PASSWORD, SENDGRID_PUBLIC):
        assert secret not in logged
