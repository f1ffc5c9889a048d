"""Workspaces through the API handler: the workspace comes from the authorizer's context only, and one
workspace can neither see nor touch another's jobs (404, never 403: ids do not leak)."""

from __future__ import annotations

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from tests.support.api_stack import call
from tests.support.lambda_events import SCHEDULED_EVENT, Context
from tests.support.simulator import base_config

pytestmark = pytest.mark.usefixtures("stack")

PROTECTED = [
    ("POST", "/jobs"),
    ("GET", "/jobs"),
    ("GET", "/jobs/job_x"),
    ("GET", "/jobs/job_x/items"),
    ("DELETE", "/jobs/job_x"),
    ("POST", "/jobs/job_x/retry"),
    ("POST", "/dlq/redrive"),
    ("GET", "/metrics"),
    ("GET", "/stats"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_an_authorizer_context_every_route_but_health_is_a_401(method: str, path: str) -> None:
    body = {"domains": ["acme.com"]} if method == "POST" and path == "/jobs" else None
    status, answer, _ = call(method, path, workspace=None, body=body)
    assert (status, answer) == (401, {"message": "Unauthorized", "field": None, "errors": []})


def test_health_needs_no_key() -> None:
    status, health, _ = call("GET", "/health", workspace=None)
    assert (status, health["status"]) == (200, "ok")


def test_a_workspace_header_set_by_the_caller_is_ignored() -> None:
    spoof = {"x-workspace-id": "acme", "x-amzn-workspace": "acme"}
    assert call("GET", "/jobs", workspace=None, headers=spoof)[0] == 401
    _, job, _ = call("POST", "/jobs", workspace="acme", body={"domains": ["acme.com"]})
    status, listing, _ = call("GET", "/jobs", workspace="globex", headers=spoof)
    assert status == 200 and listing["jobs"] == []
    assert call("GET", f"/jobs/{job['job_id']}", workspace="globex", headers=spoof)[0] == 404


def test_workspace_b_can_neither_read_list_cancel_list_items_nor_retry_a_job_of_a() -> None:
    status, job, _ = call("POST", "/jobs", workspace="acme", body={"domains": ["acme.com", "globex.io"]})
    assert status == 202
    job_id = job["job_id"]
    for method, path in (
        ("GET", f"/jobs/{job_id}"),
        ("GET", f"/jobs/{job_id}/items"),
        ("DELETE", f"/jobs/{job_id}"),
        ("POST", f"/jobs/{job_id}/retry"),
    ):
        status, answer, _ = call(method, path, workspace="globex")
        assert status == 404, (method, path)
        # The same answer as for an id that exists nowhere: nothing tells B the job exists.
        assert answer == call(method, path.replace(job_id, "job_nope"), workspace="globex")[1] | {
            "message": answer["message"]
        }
        assert answer["message"] == f"job {job_id} not found"
    assert call("GET", "/jobs", workspace="globex")[1]["jobs"] == []
    assert call("GET", "/jobs", workspace="globex", query={"status": "pending"})[1]["jobs"] == []
    # A's job is untouched, and A sees it.
    status, mine, _ = call("GET", f"/jobs/{job_id}", workspace="acme")
    assert status == 200 and mine["status"] == "pending"
    assert [j["job_id"] for j in call("GET", "/jobs", workspace="acme")[1]["jobs"]] == [job_id]


def test_a_cursor_from_one_workspace_does_not_list_another() -> None:
    for _ in range(3):
        call("POST", "/jobs", workspace="acme", body={"domains": ["acme.com"]})
    status, page, _ = call("GET", "/jobs", workspace="acme", query={"limit": "1"})
    assert status == 200 and page["cursor"]
    status, answer, _ = call("GET", "/jobs", workspace="globex", query={"cursor": page["cursor"]})
    assert (status, answer["field"]) == (422, "query.cursor")  # a 4xx naming the field, never a 500
    assert call("GET", "/jobs", workspace="acme", query={"cursor": "garbage!"})[0] == 422


def test_retry_and_metrics_count_only_the_callers_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A's item fails (the provider refuses the key); B's retry of it is a 404 and requeues nothing, A's
    requeues it; B's metrics do not count A's items."""
    with SimulatorServer(base_config()) as simulator:
        simulator.configure(accept_any_key=False, hunter_api_keys=["the-right-key"])
        monkeypatch.setenv("HUNTER_API_KEY", "a-wrong-key")
        monkeypatch.setenv("HUNTER_API_BASE_URL", simulator.hunter_base_url)
        monkeypatch.delenv("PERPLEXITY_API_KEY", raising=False)
        _, job, _ = call("POST", "/jobs", workspace="acme", body={"domains": [SHOWCASE_DOMAINS[0]]})
        summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 1
    items = call("GET", f"/jobs/{job['job_id']}/items", workspace="acme")[1]["items"]
    assert [i["status"] for i in items] == ["failed"]
    assert call("POST", f"/jobs/{job['job_id']}/retry", workspace="globex")[0] == 404
    items = call("GET", f"/jobs/{job['job_id']}/items", workspace="acme")[1]["items"]
    assert [i["status"] for i in items] == ["failed"]  # B's attempt changed nothing
    assert call("GET", "/metrics", workspace="globex")[1]["items_processed_last_hour"] == 0
    assert call("GET", "/metrics", workspace="acme")[1]["items_processed_last_hour"] == 1
    status, retried, _ = call("POST", f"/jobs/{job['job_id']}/retry", workspace="acme")
    assert (status, retried["requeued"]) == (202, 1)
