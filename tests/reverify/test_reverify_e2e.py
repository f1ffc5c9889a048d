"""Re-verification end to end on moto and the simulator over real HTTP: a job finds and verifies an address
and asked for `address.changed`; time passes (the sweep's clock); the person leaves the company (the
simulator's departures); the daily sweep's verification job runs through the processor and Hunter now says
invalid; the next day's run writes the new verdict into the stored result, audits it once, and the job's
receiver gets one signed `address.changed` naming the address, both verdicts and the job."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

import handle_api
import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime, runtime_reverify
from leadenrich.aws.dynamo_schema import row_key
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import AuditQuery, WorkspaceSettings
from leadenrich.reverify.service import ACTION
from leadenrich.reverify.views import AddressChangedEvent
from leadenrich.webhooks import signing
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, http_event
from tests.support.simulator import base_config
from tests.webhooks.test_webhook_flow import Receiver

WS = "ws-decay"
SECRET = "whsec_" + base64.b64encode(b"reverify-signing-key-0123456789ab").decode()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def clock(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    extra = {"ALLOW_LOCAL_WEBHOOKS": "true", "WEBHOOK_SIGNING_SECRETS": json.dumps({WS: SECRET})}
    lambda_env_on_moto(simulator, monkeypatch, extra)
    clock = Clock()
    monkeypatch.setattr(runtime_reverify, "CLOCK", clock)
    yield clock
    runtime.reset()


def process() -> dict[str, Any]:
    return handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]


def stored(job_id: str) -> dict[str, dict[str, Any]]:
    """Every address the job's items hold, by address."""
    items = asyncio.run(runtime.job_service().store.list_items(WS, job_id)).items
    return {e["email"]: e for i in items for e in (i.result or {}).get("emails", [])}


def test_an_address_that_now_bounces_is_updated_audited_and_called_back_once(
    clock: Clock, simulator: SimulatorServer
) -> None:
    with Receiver() as receiver:
        body = {
            "domains": list(SHOWCASE_DOMAINS[:1]),
            "webhook_url": receiver.url,
            "webhook_events": ["job.completed", "address.changed"],
        }
        answer = handle_api.handler(http_event("POST", "/jobs", body=body, workspace=WS), Context())  # type: ignore[arg-type]
        assert answer["statusCode"] == 202
        job_id = json.loads(answer["body"])["job_id"]
        assert process()["completed_jobs"] == [job_id]
        verified = sorted(e for e, entry in stored(job_id).items() if entry["verified_at"])
        assert verified, "a showcase domain yields a verified address"
        gone = next(e for e in verified if (simulator.world.mailbox_owner(e) or (None, None))[1])  # a person
        assert stored(job_id)[gone]["status"] == "active"
        assert len(receiver.requests) == 1  # job.completed

        asyncio.run(runtime.workspace_settings().put(WS, WorkspaceSettings(reverify_monthly_credits=3100)))
        departed = httpx.post(f"{simulator.base_url}/_sim/departures", json={"emails": [gone]})
        assert departed.json() == {"departed": [gone]}

        clock.now += timedelta(days=100)  # the sweep's time; the verification cache's 30 days are over too
        _forget_verifications(verified)
        first = process()  # the sweep's job is created and verified in the same run
        assert len(first["completed_jobs"]) == 1
        assert stored(job_id)[gone]["status"] == "active"  # not carried back yet

        clock.now += timedelta(days=1)
        process()
        after = stored(job_id)[gone]
        assert (after["status"], after["hunter_status"], after["deliverability"], after["verified_at"]) == (
            "inactive",
            "undeliverable",
            "undeliverable",
            None,
        )
        others = [e for e in verified if e != gone]
        assert all(stored(job_id)[e]["status"] == "active" for e in others)  # still valid: only re-dated
        entries = asyncio.run(runtime.audit_log().query(AuditQuery(WS, action=ACTION))).items
        assert [(e.target, e.job_id) for e in entries] == [
            (email_identity(gone).key, first["completed_jobs"][0])
        ]

        assert len(receiver.requests) == 2
        headers, raw = receiver.requests[1]
        assert signing.verify(SECRET, headers, raw, now=time.time())
        event = AddressChangedEvent.model_validate_json(raw)
        assert (event.type, event.data.email, event.data.job_id) == ("address.changed", gone, job_id)
        assert event.data.reverification_job_id == first["completed_jobs"][0]
        assert (event.data.previous.status, event.data.current.status) == ("active", "inactive")
        assert event.data.current.hunter_status == "undeliverable"

        clock.now += timedelta(minutes=5)
        runtime_reverify.reset()  # a fresh process looks again: nothing is sent or audited twice
        process()
        assert len(receiver.requests) == 2
        assert len(asyncio.run(runtime.audit_log().query(AuditQuery(WS, action=ACTION))).items) == 1


def _forget_verifications(emails: list[str]) -> None:
    """The cached verdicts expire after 30 days (`engine.cache`): the table's TTL deletes their rows."""
    for email in emails:
        key = row_key(f"CACHE#v1:ev:{email}", "CACHE")  # `aws.dynamo_cache`'s row of `ResultCache`'s key
        boto3.client("dynamodb").delete_item(TableName="leadenrich", Key=key)
