"""`job.cancelled` and `job.paused` end to end on moto and the simulator: the API Lambda cancels and pauses
jobs, the processor Lambda's callback share sends the events to a loopback receiver, signed, once each.

The API only owes them (one outbox write, `CallbackDispatcher.enqueue`), so no API request waits on a
receiver; the next processor run delivers them (docs/webhooks.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from leadenrich.webhooks import signing
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config

WORKSPACE = "ws-events"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"job-events-signing-key-012345678").decode()


class Receiver:
    """A loopback endpoint that records every request and answers 204."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def receiver(
    simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Receiver]:
    extra = {
        "ALLOW_LOCAL_WEBHOOKS": "true",
        "WEBHOOK_SIGNING_SECRETS": json.dumps({WORKSPACE: SIGNING_SECRET}),
    }
    lambda_env_on_moto(simulator, monkeypatch, extra)
    running = Receiver()
    yield running
    running.close()
    runtime.reset()


def api(method: str, path: str, body: object | None = None) -> tuple[int, Any]:
    status, answer, _ = call(method, path, body=body, workspace=WORKSPACE)
    return status, answer


def test_cancelled_and_paused_jobs_are_told_by_the_next_processor_run_never_by_the_api(
    receiver: Receiver,
) -> None:
    hook = {"webhook_url": receiver.url, "webhook_events": ["job.cancelled", "job.paused"]}
    _, to_cancel = api("POST", "/jobs", {"domains": list(SHOWCASE_DOMAINS[:3]), **hook})
    _, to_pause = api("POST", "/jobs", {"domains": list(SHOWCASE_DOMAINS[:3]), **hook})
    _, quiet = api("POST", "/jobs", {"domains": [SHOWCASE_DOMAINS[0]], "webhook_url": receiver.url})
    for job in (to_cancel, quiet):
        assert api("DELETE", f"/jobs/{job['job_id']}")[0] == 200
    assert api("DELETE", f"/jobs/{to_cancel['job_id']}")[0] == 200  # cancelled again: no second event
    status, shown = api("PATCH", f"/jobs/{to_pause['job_id']}", {"paused": True})
    assert status == 200 and shown["status"] == "paused"
    assert receiver.requests == []  # no API request waited on the receiver

    handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]  # nothing is owed twice

    events = []
    for headers, body in receiver.requests:
        event = json.loads(body)
        assert signing.verify(SIGNING_SECRET, headers, body, now=time.time()) == event["id"]
        events.append(event)
    assert sorted((e["type"], e["data"]["job_id"], e["data"]["status"]) for e in events) == sorted(
        [
            ("job.cancelled", to_cancel["job_id"], "cancelled"),
            ("job.paused", to_pause["job_id"], "paused"),
        ]
    )  # the quiet job did not ask for job.cancelled
    (pause,) = [e for e in events if e["type"] == "job.paused"]
    assert pause["data"]["paused_reason"] == "paused_by_caller"
    attempts = asyncio.run(runtime.webhooks().log.attempts(WORKSPACE, to_cancel["job_id"]))
    assert [(a["attempt"], a["delivered"]) for a in attempts] == [(1, True)]
    _, detail = api("GET", f"/jobs/{to_cancel['job_id']}")
    assert detail["callbacks"] == attempts  # shown with the job, like a completion's attempts
