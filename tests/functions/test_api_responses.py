"""Every response docs/openapi.json declares, produced for real and held to the document.

Given the handlers on moto (and the local gateway in front of them for what API Gateway answers itself),
when each declared (route, status) is provoked, then each answer is the declared body and headers
(`openapi_conformance.check`), and no declared pair is left unexercised but the 429 of the two routes no
workspace's request rate covers (`GET /health`, the webhooks): only API Gateway's throttle sends those, and
neither the function nor the local gateway does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest

import handle_api
import handle_authorizer
import handle_webhook
from enrich_tools.local.gateway import create_app
from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.sqs_queue import create_queues
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus, SourcedLead
from leadenrich.jobs.ports import CounterDelta, EnrichableCount, LeadStats
from leadenrich.privacy.review import ItemPolicy
from leadenrich.webhooks import signing
from tests.support.lambda_events import Context, http_event
from tests.support.openapi_conformance import check, document
from tests.support.simulator import base_config

TABLE = "leadenrich-responses"
UPLOADS = "leadenrich-responses-uploads"  # the object store of uploads and exports (S3 on moto)
PROVIDER_SECRET = "whsec_" + base64.b64encode(b"provider-secret-key-0123456789ab").decode()
UNKNOWN_KEY = "le_" + "A" * 43
# Declared, and not produced here: API Gateway's throttle (25 requests a second, bursts of 50) on the routes
# without a workspace. Every keyed route's 429 is produced, by the workspace's request rate.
THROTTLE_ONLY = {("GET", "/health", 429), ("POST", "/webhooks/{provider}", 429)}
Pair = tuple[str, str, int]
# A valid body for the routes that need one (the others take none).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/jobs"): {"domains": ["acme.com"]},
    ("PATCH", "/jobs/{job_id}"): {"paused": True},
    ("POST", "/jobs/bulk"): {"job_ids": ["job_nope"], "action": "cancel"},
    ("PUT", "/settings"): {"cache_retention_days": 30},
    ("POST", "/erasures"): {"email": "ada@acme.com"},
    ("POST", "/suppressions"): {"entries": [{"domain": "initech.example"}]},
    ("POST", "/contacts/review"): {"approve": ["job_x.000000.0.00000000"]},
    ("POST", "/buffer/push"): {"namespace": "campaign-1", "leads": [{"domain": "acme-robotics.com"}]},
    ("POST", "/buffer/next"): {"namespace": "campaign-1"},
    ("PUT", "/cursor/{namespace}"): {"state": {"page": 1}},
    ("POST", "/enrich"): {"email": "sarah.obrien@acme-robotics.com"},
    ("POST", "/leads"): {"lead": {"domain": "acme-robotics.com"}},
    ("POST", "/uploads"): {"size_bytes": 1000, "filename": "leads.csv"},
}
NO_CONTACT = "job_x.000000.0.00000000"  # a well-formed contact id no item has
NO_EXPORT = "exp_" + "0" * 32  # a well-formed export id no export has


@pytest.fixture(autouse=True)
def stack(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API and webhook Lambdas' environment from template.yaml, on moto."""
    create_table(boto3.client("dynamodb"), TABLE)
    queue_url, dlq_url = create_queues(boto3.client("sqs"), "leadenrich-responses", visibility_timeout=30)
    boto3.client("s3").create_bucket(Bucket=UPLOADS)
    for name, value in {
        "UPLOAD_BUCKET": UPLOADS,
        "TABLE_NAME": TABLE,
        "QUEUE_URL": queue_url,
        "DEAD_LETTER_QUEUE_URL": dlq_url,
        "SERIALIZE_AWS_CALLS": "true",
        "HUNTER_API_KEY": "test-hunter-key",  # GET /health reports the provider keys present
        "ALLOW_LOCAL_WEBHOOKS": "true",
        "WEBHOOK_PROVIDER_SECRETS": json.dumps({"standard": PROVIDER_SECRET}),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAILY_LEAD_QUOTA", raising=False)
    runtime.reset()
    yield
    runtime.reset()


def not_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the API at a table with the same index names on other keys: every read is refused."""
    key = [{"AttributeName": "id", "KeyType": "HASH"}]
    boto3.client("dynamodb").create_table(
        TableName="not-ours",
        KeySchema=key,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {"IndexName": name, "KeySchema": key, "Projection": {"ProjectionType": "ALL"}}
            for name in ("GSI1", "GSI2")
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("TABLE_NAME", "not-ours")
    runtime.reset()


class Seen:
    """The (METHOD, path template, status) of every answer checked."""

    def __init__(self) -> None:
        self.pairs: set[Pair] = set()

    def api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = handle_api.handler(http_event(method, path, **kwargs), Context())  # type: ignore[arg-type]
        return self.record(method, path, answer)

    def raw(self, method: str, path: str, body: str, **kwargs: Any) -> dict[str, Any]:
        event = http_event(method, path, **kwargs)
        event["body"] = body
        answer = handle_api.handler(event, Context())  # type: ignore[arg-type]
        return self.record(method, path, answer)

    def webhook(self, provider: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        path = f"/webhooks/{provider}"
        event = http_event("POST", path, headers=headers, workspace=None)
        event["body"] = body.decode()
        event["pathParameters"] = {"provider": provider}
        return self.record("POST", path, handle_webhook.handler(event, Context()))  # type: ignore[arg-type]

    def http(self, method: str, path: str, response: httpx.Response) -> None:
        answer = {
            "statusCode": response.status_code,
            "headers": dict(response.headers),
            "body": response.text,
        }
        self.record(method, path, answer)

    def record(self, method: str, path: str, answer: dict[str, Any]) -> dict[str, Any]:
        template, status = check(method, path, answer)
        self.pairs.add((method, template, status))
        return answer


def declared() -> set[Pair]:
    return {
        (method.upper(), path, int(status))
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


def concrete(template: str, job_id: str) -> str:
    return (
        template.replace("{job_id}", job_id)
        .replace("{provider}", "standard")
        .replace("{key}", "d:nope.example")
        .replace("{contact_id}", NO_CONTACT)
        .replace("{namespace}", "campaign-1")
        .replace("{export_id}", NO_EXPORT)
    )


class FakeLeads:
    """A Supabase lead source standing in for the real one (`tests/adapters/supabase` runs that): every lead
    is stored already, with an id."""

    def register(self, workspace_id: str, leads: Sequence[Lead]) -> AsyncGenerator[list[SourcedLead], None]:
        async def pages() -> AsyncGenerator[list[SourcedLead], None]:
            yield [SourcedLead(f"lead-{n}", lead) for n, lead in enumerate(leads)]

        return pages()

    async def count_enrichable(
        self,
        workspace_id: str,
        *,
        after_id: str | None = None,
        reenrich_after_days: int = 0,
        through_id: str | None = None,
    ) -> EnrichableCount:
        return EnrichableCount(with_domain=5, missing_email=3, recent=1, recent_missing_email=1)


class FakeStats:
    async def stats(self, workspace_id: str) -> LeadStats:
        return LeadStats(4, 3, 1, 2, 5, {"hunter_direct": {"active": 2, "invalid": 1}}, 81.5, 90.0)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed(body: bytes, event_id: str) -> dict[str, str]:
    return signing.sign_headers(PROVIDER_SECRET, event_id, int(time.time()), body)


def gateway(
    seen: Seen, authorizer: Callable[..., Any], handler: Callable[..., Any], key: str | None
) -> list[int]:
    """Every operation through the local gateway with `key`: what API Gateway answers itself. Returns the
    statuses."""
    app = create_app(handler, authorizer=authorizer, webhook=handler)
    headers = {"X-API-Key": key} if key else {}
    operations = sorted({(m, t) for m, t, _ in declared()})

    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            return [
                await client.request(
                    m, concrete(t, "job_x"), headers=headers, json={} if m == "POST" else None
                )
                for m, t in operations
            ]

    responses = asyncio.run(send())
    for (method, template), response in zip(operations, responses, strict=True):
        seen.http(method, concrete(template, "job_x"), response)
    return [response.status_code for response in responses]


def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the function failed")


def test_every_declared_response_is_produced_and_is_the_documented_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = Seen()
    routes = sorted({(m, t) for m, t, _ in declared() if not t.startswith("/webhooks/")})

    # Successes, with every optional part present: a webhook_url (callbacks), Supabase's selection.
    seen.api("GET", "/health")
    service = runtime.job_service()
    service.leads, service.lead_stats = FakeLeads(), FakeStats()  # type: ignore[assignment]
    hook = {"webhook_url": "https://hooks.example.com/x", "tags": ["t"]}
    job = json.loads(seen.api("POST", "/jobs", body={"leads": [{"domain": "acme.com"}], **hook})["body"])
    assert job["selection"]["leads"] == 1
    seen.api("POST", "/jobs", body={"process_all": True, "dry_run": True})
    job_id = job["job_id"]
    seen.api("PATCH", f"/jobs/{job_id}", body={"tags": ["u"], "max_credits": 50})  # before it is cancelled
    for method, template in routes:
        if method not in ("POST", "PATCH") or template == "/dlq/redrive":
            seen.api(method, concrete(template, job_id))
    seen.api("POST", f"/jobs/{job_id}/retry")
    assert seen.api("POST", "/uploads", body=BODIES[("POST", "/uploads")])["statusCode"] == 201
    assert seen.api("POST", f"/jobs/{job_id}/exports")["statusCode"] == 201
    exports_written_across_requests(seen, monkeypatch)
    seen.api("POST", "/dlq/redrive")
    seen.api("POST", "/jobs/bulk", body={"job_ids": [job_id, "job_nope"], "action": "pause"})
    assert json.loads(seen.api("GET", f"/jobs/{job_id}")["body"])["callbacks"] == []
    assert seen.api("PUT", "/settings", body=BODIES[("PUT", "/settings")])["statusCode"] == 200
    erasure = BODIES[("POST", "/erasures")]
    assert seen.api("POST", "/erasures", body=erasure)["statusCode"] == 201  # erased and suppressed
    assert seen.api("POST", "/erasures", body=erasure)["statusCode"] == 200  # a repeat
    suppressed = json.loads(seen.api("POST", "/suppressions", body=BODIES[("POST", "/suppressions")])["body"])
    assert seen.api("DELETE", f"/suppressions/{suppressed['entries'][0]['key']}")["statusCode"] == 200
    contacts_decided(seen)
    buffer_answers(seen, monkeypatch)
    for _ in range(2):  # made, then replayed (`Idempotent-Replayed`)
        leads = seen.api(
            "POST", "/leads", body=BODIES[("POST", "/leads")], headers={"idempotency-key": "l-1"}
        )
        assert leads["statusCode"] == 202 and leads["headers"]["Location"].startswith("/jobs/")

    # A change the job's status does not allow (409): the job is cancelled.
    seen.api("DELETE", f"/jobs/{job_id}")
    assert seen.api("PATCH", f"/jobs/{job_id}", body={"paused": True})["statusCode"] == 409

    # What every route refuses before routing, and the function's own 401.
    for method, template in routes:
        path = concrete(template, "job_nope")
        seen.raw(method, path, "x" * (handle_api.MAX_BODY_BYTES + 1))
        seen.raw(method, path, "[" * 1000 + "]" * 1000)
        if template != "/health":
            seen.api(method, path, workspace=None)
            if "{job_id}" in template:
                seen.api(method, path, body=BODIES.get((method, template)))  # 404
    seen.api("POST", "/jobs", body={"domains": ["acme.com"]}, headers={"content-type": "text/csv"})  # 415
    seen.api("POST", "/erasures", body={"email": "ada@acme.com"}, headers={"content-type": "text/csv"})  # 415
    seen.api("POST", "/leads", body=BODIES[("POST", "/leads")], headers={"content-type": "text/csv"})  # 415
    seen.api(
        "POST", "/uploads", body=BODIES[("POST", "/uploads")], headers={"content-type": "text/csv"}
    )  # 415

    # Supabase not configured (501), the daily quota (429), Supabase failing (503), the store failing (500).
    runtime.reset()
    seen.api("GET", "/stats")
    monkeypatch.delenv("UPLOAD_BUCKET")  # no object store (501)
    runtime.reset()
    assert seen.api("POST", "/uploads", body=BODIES[("POST", "/uploads")])["statusCode"] == 501
    assert seen.api("POST", f"/jobs/{job_id}/exports")["statusCode"] == 501
    assert seen.api("POST", f"/jobs/{job_id}/exports/{NO_EXPORT}")["statusCode"] == 501
    assert seen.api("GET", f"/jobs/{job_id}/exports/{NO_EXPORT}")["statusCode"] == 501
    monkeypatch.setenv("UPLOAD_BUCKET", UPLOADS)
    runtime.reset()
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "1")
    runtime.reset()
    seen.api("POST", "/jobs", body={"domains": ["acme.com", "globex.io"]})
    assert (
        seen.api("POST", "/leads", body={"leads": [{"domain": "acme.com"}, {"domain": "globex.io"}]})[
            "statusCode"
        ]
        == 429
    )
    monkeypatch.delenv("DAILY_LEAD_QUOTA")

    # The workspace's request rate (429) on every keyed route: its one request back every 1,000 s, spent.
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "0.001")
    monkeypatch.setenv("WORKSPACE_REQUEST_BURST", "1")
    runtime.reset()
    assert seen.api("GET", "/metrics", workspace="busy")["statusCode"] == 200
    for method, template in routes:
        if template != "/health":
            body = BODIES.get((method, template))
            limited = seen.api(method, concrete(template, job_id), body=body, workspace="busy")
            assert limited["statusCode"] == 429 and int(limited["headers"]["Retry-After"]) > 0
            assert json.loads(limited["body"])["quota"] == "workspace_request_rate"
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "0")
    for name, value in {
        "JOB_STORE": "supabase",
        "SUPABASE_URL": f"http://127.0.0.1:{closed_port()}",
        "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    assert seen.api("POST", "/jobs", body={"domains": ["acme.com"]})["statusCode"] == 503  # Supabase's leads
    assert seen.api("GET", "/stats")["statusCode"] == 503
    assert (
        seen.api("POST", "/leads", body=BODIES[("POST", "/leads")])["statusCode"] == 503
    )  # Supabase's leads
    for name in ("JOB_STORE", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name)
    runtime.reset()

    # The webhook function: accepted, a replay, malformed, unsigned, unknown provider, too large.
    event = json.dumps({"type": "verification.completed", "data": {"job_id": job_id}}).encode()
    seen.webhook("standard", event, signed(event, "evt_1"))
    seen.webhook("standard", event, signed(event, "evt_1"))
    seen.webhook("standard", b'{"type": 3}', signed(b'{"type": 3}', "evt_2"))
    seen.webhook("standard", event, {})
    seen.webhook("acme", event, signed(event, "evt_3"))
    large = b'{"a": "' + b"x" * (handle_webhook.MAX_BODY_BYTES + 1) + b'"}'
    seen.webhook("standard", large, signed(large, "evt_4"))

    # API Gateway's own answers, as the local gateway sends them: 401 (no key), 403 (refused key), 500.
    assert 401 in gateway(seen, handle_authorizer.handler, handle_api.handler, None)
    assert 403 in gateway(seen, handle_authorizer.handler, handle_api.handler, UNKNOWN_KEY)
    gateway(seen, broken, handle_api.handler, UNKNOWN_KEY)
    gateway(seen, handle_authorizer.handler, broken, None)

    # The function's own 500 for an unexpected failure: a table whose keys are not ours refuses every
    # request (a ValidationException is the deployment's fault, not an outage).
    not_ours(monkeypatch)
    for method, template in routes:
        if template != "/health":
            seen.api(method, concrete(template, job_id), body=BODIES.get((method, template)))
    presigning(seen)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    runtime.reset()

    # An outage (503 with Retry-After): the table and the dead-letter queues are gone, on every route.
    boto3.client("dynamodb").delete_table(TableName=TABLE)
    sqs = boto3.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        if "dlq" in url.lower() or "dead" in url.lower():
            sqs.delete_queue(QueueUrl=url)
    for method, template in routes:
        seen.api(method, concrete(template, job_id), body=BODIES.get((method, template)))
    presigning(seen)
    seen.webhook("standard", event, signed(event, "evt_5"))

    missing = declared() - seen.pairs - THROTTLE_ONLY
    assert missing == set(), f"declared, never produced: {sorted(missing)}"
    assert declared() - seen.pairs == THROTTLE_ONLY


def presigning(seen: Seen) -> None:
    """`POST /uploads` reads no table itself (a presigned URL is signed in the function), nor does reading
    an export or continuing one that is not there, so their 500 and 503 are the request rate's, as deployed
    (on by default): taken from the table before the route runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "10")
        seen.api("POST", "/uploads", body=BODIES[("POST", "/uploads")])
        seen.api("POST", f"/jobs/job_x/exports/{NO_EXPORT}")
        seen.api("GET", f"/jobs/job_x/exports/{NO_EXPORT}")


def exports_written_across_requests(seen: Seen, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export of two pages (1,001 items) given no time share: one page a request, never a whole 5 MiB
    part, so the start and a continuation answer 202 and GET reads it `writing`; given time, it is written
    (201) and GET reads it `ready`."""
    store = runtime.job_service().store
    job = Job("default", "job_export", JobStatus.RUNNING, datetime.now(UTC))
    items = [Item("default", "job_export", f"{n:06d}", Lead(domain=f"d{n}.example")) for n in range(1001)]
    asyncio.run(store.create_job(job, items))
    monkeypatch.setenv("EXPORT_REQUEST_SECONDS", "0")
    runtime.reset()
    started = seen.api("POST", "/jobs/job_export/exports")
    assert started["statusCode"] == 202
    location = started["headers"]["Location"]
    assert seen.api("POST", location)["statusCode"] == 202
    assert json.loads(seen.api("GET", location)["body"])["state"] == "writing"
    monkeypatch.delenv("EXPORT_REQUEST_SECONDS")
    runtime.reset()
    assert seen.api("POST", location)["statusCode"] == 201
    assert json.loads(seen.api("GET", location)["body"])["state"] == "ready"


def contacts_decided(seen: Seen) -> None:
    """The approval workflow's answers: two addresses pending review (an item finished as the processor
    stamps it), one approved, one rejected, then refused the other way (409), a malformed id (422), an
    unknown one (404), and the bulk form."""
    store = runtime.job_service().store
    job = Job("default", "job_review", JobStatus.PENDING, datetime.now(UTC))
    asyncio.run(store.create_job(job, [Item("default", "job_review", "000000", Lead(domain="acme.de"))]))
    claimed = asyncio.run(
        store.claim_item(
            "default", "job_review", "000000", token="t", lease_until=datetime.now(UTC), now=datetime.now(UTC)
        )
    )
    assert claimed is not None
    emails = [
        FoundEmail(
            e,
            EmailSource.HUNTER_DIRECT,
            95,
            EmailType.PRIMARY,
            HunterStatus.DELIVERABLE,
            EmailStatus.ACTIVE,
            None,
            Method.DOMAIN_SEARCH,
            Deliverability.VERIFIED,
        )
        for e in ("ada@acme.de", "bob@acme.de")
    ]
    record = ItemPolicy(review_required=True).stamp(
        EnrichmentResult("acme.de", LeadStatus.FOUND, emails).as_record()
    )
    finished = store.finish_item(
        claimed,
        ItemStatus.FOUND,
        reason=None,
        result=record,
        delta=CounterDelta(found=1),
        now=datetime.now(UTC),
    )
    assert asyncio.run(finished)
    listed = json.loads(seen.api("GET", "/contacts", query={"review": "pending"})["body"])
    first, second = (contact["contact_id"] for contact in listed["contacts"])
    assert seen.api("POST", f"/contacts/{first}/approve")["statusCode"] == 200
    assert seen.api("POST", f"/contacts/{second}/reject")["statusCode"] == 200
    assert seen.api("POST", f"/contacts/{second}/approve")["statusCode"] == 409
    assert seen.api("POST", f"/contacts/{first}/reject")["statusCode"] == 409
    for decision in ("approve", "reject"):
        assert seen.api("POST", f"/contacts/not-a-contact/{decision}")["statusCode"] == 422
        assert seen.api("POST", f"/contacts/{NO_CONTACT}/{decision}")["statusCode"] == 404
    review = seen.api("POST", "/contacts/review", body={"approve": [first], "reject": [NO_CONTACT]})
    outcomes = [r["outcome"] for r in json.loads(review["body"])["results"]]
    assert outcomes == ["approved", "not_found"]


def buffer_answers(seen: Seen, monkeypatch: pytest.MonkeyPatch) -> None:
    """The buffer's and `POST /enrich`'s own answers, with the provider simulator as Hunter: a lead pushed
    and served (enriched), none left, a cursor stored, a person found; the workspace's budget spent (402);
    no provider configured (501)."""
    with SimulatorServer(base_config()) as sim:
        monkeypatch.setenv("HUNTER_API_KEY", "sim-hunter-key")
        monkeypatch.setenv("HUNTER_API_BASE_URL", sim.hunter_base_url)
        runtime.reset()
        for method, template in (
            ("POST", "/buffer/push"),
            ("POST", "/buffer/next"),
            ("POST", "/buffer/next"),
        ):
            assert seen.api(method, template, body=BODIES[(method, template)])["statusCode"] == 200
        stored = seen.api("PUT", "/cursor/campaign-1", body=BODIES[("PUT", "/cursor/{namespace}")])
        assert stored["statusCode"] == 200
        assert seen.api("POST", "/enrich", body=BODIES[("POST", "/enrich")])["statusCode"] == 200
        for method in ("GET", "PUT"):  # a namespace no route takes
            answered = seen.api(method, "/cursor/\u00d7\u00f8", body=BODIES[("PUT", "/cursor/{namespace}")])
            assert answered["statusCode"] == 404
        caps = runtime.spend_caps()
        asyncio.run(caps.set_monthly_credits("default", 1))
        other = {"email": "daniel.kim@acme-robotics.com"}
        assert seen.api("POST", "/enrich", body=other)["statusCode"] == 402  # the found profile spent it
        asyncio.run(caps.set_monthly_credits("default", None))
    monkeypatch.delenv("HUNTER_API_BASE_URL")
    monkeypatch.delenv("HUNTER_API_KEY")
    runtime.reset()
    assert seen.api("POST", "/enrich", body=other)["statusCode"] == 501
    monkeypatch.setenv("HUNTER_API_KEY", "test-hunter-key")
    runtime.reset()


def test_the_conformance_check_refuses_what_the_document_does_not_say() -> None:
    """Given answers that differ from the document, when checked, then each is refused (the check is not
    vacuous)."""
    json_headers = {"Content-Type": "application/json"}
    wrong = [
        ("GET", "/health", {"statusCode": 200, "headers": json_headers, "body": '{"status": "fine"}'}),
        ("GET", "/health", {"statusCode": 418, "headers": json_headers, "body": '{"status": "ok"}'}),
        ("GET", "/health", {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}),
        ("GET", "/jobs/j", {"statusCode": 404, "headers": json_headers, "body": '{"message": "gone"}'}),
        (
            "POST",
            "/jobs",
            {
                "statusCode": 503,
                "headers": json_headers,
                "body": '{"message": "m", "field": null, "errors": []}',
            },
        ),
        (
            "PUT",
            "/jobs",
            {
                "statusCode": 405,
                "headers": json_headers,
                "body": '{"message": "m", "field": null, "errors": []}',
            },
        ),
        ("PUT", "/jobs", {"statusCode": 200, "headers": json_headers, "body": "{}"}),
    ]
    for method, path, answer in wrong:
        with pytest.raises(AssertionError):
            check(method, path, answer)
    healthy = '{"status": "ok", "checked_at": "2026-12-07T08:00:00+00:00", "dependencies": {}}'
    ok = {"statusCode": 200, "headers": json_headers, "body": healthy}
    assert check("GET", "/health", ok) == ("/health", 200)
