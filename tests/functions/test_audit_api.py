"""The audit trail through the API Lambda on moto (docs/privacy.md "Audit trail").

Given the real handler (and the real authorizer for the key), each data-changing operation and each read
of results leaves exactly one entry, naming the API key's id and never the key, its target and the
caller's address; failed, refused, dry-run and replayed requests and plain reads leave none; `GET /audit`
lists a workspace's own entries only, filtered and in pages; an operation the table does not name is still
recorded, and a failure to write an entry is logged without changing the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

import api_audit
import handle_api
import handle_authorizer
from api_audit import ACTIONS, Audited, note, record_audit, register
from leadenrich import runtime
from leadenrich.auth.keys import create_key
from leadenrich.privacy.ports import AuditEntry, AuditQuery, WorkspaceSettings
from tests.functions.test_api_responses import FakeLeads
from tests.functions.test_authorizer import authorizer_event
from tests.support.api_stack import TABLE
from tests.support.lambda_events import Context, http_event

pytestmark = pytest.mark.usefixtures("stack")

CALLER_IP = "198.51.100.23"


def entries(workspace: str = "default") -> list[AuditEntry]:
    """Every entry of the workspace, newest first, read through the port (every page)."""

    async def read() -> list[AuditEntry]:
        log, query, found = runtime.audit_log(), AuditQuery(workspace, limit=1000), []
        while True:
            page = await log.query(query)
            found += page.items
            if page.cursor is None:
                return found
            query = replace(query, cursor=page.cursor)

    return asyncio.run(read())


def send(method: str, path: str, workspace: str = "default", **kwargs: Any) -> tuple[int, Any]:
    """The API handler with a caller address of our own."""
    event = http_event(method, path, workspace=workspace, **kwargs)
    event["requestContext"]["http"]["sourceIp"] = CALLER_IP
    response = handle_api.handler(event, Context())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def test_every_action_and_every_read_of_results_is_recorded_once() -> None:
    status, job = send("POST", "/jobs", body={"domains": ["acme.com"]}, headers={"idempotency-key": "k1"})
    assert status == 202
    job_id = job["job_id"]
    steps: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("PATCH", f"/jobs/{job_id}", {"tags": ["q3"], "max_credits": 50}, 200),
        ("GET", f"/jobs/{job_id}/items", None, 200),
        ("POST", f"/jobs/{job_id}/retry", None, 202),
        ("POST", "/dlq/redrive", None, 202),
        ("POST", "/jobs/bulk", {"job_ids": [job_id, "job_nope"], "action": "pause"}, 200),
        ("DELETE", f"/jobs/{job_id}", None, 200),
    ]
    for method, path, body, expected in steps:
        assert send(method, path, body=body)[0] == expected, (method, path)

    recorded = list(reversed(entries()))  # oldest first
    assert [e.action for e in recorded] == [
        "job.create",
        "job.update",
        "results.read",
        "job.retry",
        "dlq.redrive",
        "jobs.bulk",
        "job.cancel",
    ]
    for e in recorded:
        assert (e.workspace_id, e.actor, e.source_ip) == ("default", "key_default", CALLER_IP)
    by_action = {e.action: e for e in recorded}
    assert (by_action["job.create"].target, by_action["job.create"].job_id) == (job_id, job_id)
    assert by_action["job.create"].detail == {"kind": "enrichment", "items": 1}
    assert by_action["job.update"].detail == {"fields": ["max_credits", "tags"]}  # names, not values
    assert by_action["results.read"].detail == {"items": 1, "status": None, "page": "first"}
    assert by_action["job.retry"].detail == {"requeued": 0}
    assert (by_action["dlq.redrive"].target, by_action["dlq.redrive"].job_id) == ("", None)
    bulk = by_action["jobs.bulk"]
    assert (bulk.target, bulk.job_id) == ("", None)
    assert bulk.detail == {"action": "pause", "job_ids": [job_id, "job_nope"], "done": [job_id]}
    assert all(by_action[a].target == job_id for a in ("job.update", "results.read", "job.cancel"))


def test_the_largest_bulk_action_fits_in_its_entry() -> None:
    job_ids = [f"{n:03d}".ljust(64, "x") for n in range(100)]  # 100 ids of the longest kind
    assert send("POST", "/jobs/bulk", body={"job_ids": job_ids, "action": "cancel"})[0] == 200
    [recorded] = entries()
    assert recorded.detail == {"action": "cancel", "job_ids": job_ids, "done": []}


def test_what_changes_nothing_is_not_recorded() -> None:
    status, job = send("POST", "/jobs", body={"domains": ["acme.com"]}, headers={"idempotency-key": "k1"})
    assert status == 202 and len(entries()) == 1
    job_id = job["job_id"]
    assert send("POST", "/jobs", body={"domains": ["acme.com"]}, headers={"idempotency-key": "k1"})[0] == 202
    runtime.job_service().leads = FakeLeads()  # type: ignore[assignment]  # a stored lead source: dry runs
    assert send("POST", "/jobs", body={"process_all": True, "dry_run": True})[0] == 200
    for path in ("/jobs", f"/jobs/{job_id}", "/metrics", "/budget", "/audit"):
        assert send("GET", path)[0] == 200, path  # reads without results, and the trail itself
    assert send("DELETE", "/jobs/job_nope")[0] == 404
    assert send("PATCH", f"/jobs/{job_id}", body={"priority": 9})[0] == 422
    assert send("GET", "/jobs/job_nope/items")[0] == 404
    send("DELETE", f"/jobs/{job_id}")
    assert send("PATCH", f"/jobs/{job_id}", body={"paused": True})[0] == 409  # a refused change
    assert [e.action for e in entries()] == ["job.cancel", "job.create"]


def test_the_key_s_id_is_recorded_and_never_the_key() -> None:
    made = asyncio.run(create_key(runtime.key_store(), "acme", "ci", datetime.now(UTC)))
    secret, key_id = made.secret, made.key.key_id
    authorized = handle_authorizer.handler(authorizer_event(secret), Context())  # type: ignore[arg-type]
    assert authorized["isAuthorized"] is True
    event = http_event("POST", "/jobs", body={"domains": ["acme.com"]}, workspace=None)
    event["headers"]["x-api-key"] = secret
    event["requestContext"]["authorizer"] = {"lambda": authorized["context"]}
    answer = handle_api.handler(event, Context())  # type: ignore[arg-type]
    assert answer["statusCode"] == 202
    [recorded] = entries("acme")
    assert recorded.actor == key_id
    audit_rows = [
        row
        for row in boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
        if row["PK"]["S"].endswith("#AUDIT")
    ]
    assert len(audit_rows) == 1
    text = json.dumps(audit_rows)
    assert key_id in text
    for part in (secret, secret[3:], secret[-20:], made.key.prefix):
        assert part not in text


def test_a_key_shaped_actor_is_never_recorded() -> None:
    """Defence in depth: were an authorizer ever to put a key where the key id goes, it is not stored."""
    event = http_event("POST", "/dlq/redrive")
    secret = "le_" + "A" * 43
    event["requestContext"]["authorizer"]["lambda"]["key_id"] = secret
    assert handle_api.handler(event, Context())["statusCode"] == 202  # type: ignore[arg-type]
    [recorded] = entries()
    assert recorded.actor == "unknown"
    assert secret not in json.dumps(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


def test_get_audit_lists_the_workspace_s_own_entries_filtered_and_in_pages() -> None:
    job_ids = [send("POST", "/jobs", body={"domains": [f"d{n}.com"]})[1]["job_id"] for n in range(3)]
    for job_id in job_ids:
        send("GET", f"/jobs/{job_id}/items")
    send("POST", "/jobs", body={"domains": ["other.com"]}, workspace="globex")

    status, page = send("GET", "/audit", query={"limit": "4"})
    assert status == 200 and len(page["entries"]) == 4 and page["cursor"]
    assert page["entries"][0]["action"] == "results.read" and page["entries"][0]["target"] == job_ids[2]
    first = page["entries"][0]
    assert set(first) == {"entry_id", "at", "actor", "action", "target", "job_id", "source_ip", "detail"}
    status, rest = send("GET", "/audit", query={"limit": "4", "cursor": page["cursor"]})
    assert status == 200 and rest["cursor"] is None
    listed = page["entries"] + rest["entries"]
    assert len(listed) == 6 and len({e["entry_id"] for e in listed}) == 6

    status, reads = send("GET", "/audit", query={"action": "results.read", "job_id": job_ids[0]})
    assert [(e["action"], e["job_id"]) for e in reads["entries"]] == [("results.read", job_ids[0])]
    assert send("GET", "/audit", query={"target": job_ids[1]})[1]["entries"][1]["action"] == "job.create"
    assert send("GET", "/audit", query={"actor": "key_nobody"})[1]["entries"] == []
    middle = listed[2]["at"]
    since = send("GET", "/audit", query={"since": middle})[1]["entries"]
    until = send("GET", "/audit", query={"until": middle})[1]["entries"]
    assert [e["entry_id"] for e in since + until] == [e["entry_id"] for e in listed]  # no gap, no overlap

    _, theirs = send("GET", "/audit", workspace="globex")
    assert [e["action"] for e in theirs["entries"]] == ["job.create"]
    assert all(e["actor"] == "key_globex" for e in theirs["entries"])
    status, refused = send("GET", "/audit", workspace="globex", query={"cursor": page["cursor"]})
    assert status == 422 and refused["field"] == "query.cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "201"}, "query.limit"),
        ({"since": "yesterday"}, "query.since"),
        ({"until": "0"}, "query.until"),  # pydantic reads a number as epoch seconds: not a date-time
        ({"since": "2026-11-22T10:00:00Z", "until": "2026-11-22T10:00:00Z"}, "query.until"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "query.since"),
        ({"until": "9999-12-31T23:59:59-01:00"}, "query.until"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"action": ""}, "query.action"),
        ({"cursor": "x" * 2049}, "query.cursor"),
    ],
)
def test_bad_audit_queries_are_a_422_naming_the_parameter(query: dict[str, str], field: str) -> None:
    status, body = send("GET", "/audit", query=query)
    assert (status, body["field"]) == (422, field)


# --- the recorder on a resolver of its own, with routes of its own (/test/...) --------------------------


def resolver_with_routes() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    app.use(middlewares=[record_audit])

    def ok() -> Response[str]:
        return Response(200, content_types.APPLICATION_JSON, json.dumps({"ok": True}))

    @app.post("/test/things/<thing_id>/approve")
    def approve(thing_id: str) -> Response[str]:
        return ok()

    @app.post("/test/erasures")
    def erase() -> Response[str]:
        note(app, target="e:0123abcd", erased=3)  # a hashed identity, never the address
        return ok()

    @app.put("/test/settings")
    def settings() -> Response[str]:
        note(app, oversized="x" * 40_000)  # more than an entry's detail may hold: its write fails
        return ok()

    @app.get("/test/contacts")
    def contacts() -> Response[str]:
        return ok()

    return app


def resolve(app: APIGatewayHttpResolver, method: str, path: str) -> int:
    answer = app.resolve(http_event(method, path, body={}), Context())  # type: ignore[arg-type]
    status: int = answer["statusCode"]
    return status


def test_an_operation_without_a_name_is_recorded_with_its_method_and_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api_audit, "ACTIONS", dict(ACTIONS))  # `register` below is undone after the test
    app = resolver_with_routes()
    assert resolve(app, "POST", "/test/things/t_1/approve") == 200
    assert resolve(app, "GET", "/test/contacts") == 200  # a read the table does not name: not recorded
    [unnamed] = entries()
    assert (unnamed.action, unnamed.target) == ("POST /test/things/{thing_id}/approve", "t_1")

    register("post", "/test/things/{thing_id}/approve", Audited("thing.approve"))
    register("POST", "/test/erasures", Audited("erasure.create"))
    register("GET", "/test/contacts", Audited("contacts.export"))
    for method, path in (
        ("POST", "/test/things/t_2/approve"),
        ("POST", "/test/erasures"),
        ("GET", "/test/contacts"),
    ):
        assert resolve(app, method, path) == 200
    newest = entries()[:3]
    assert [(e.action, e.target, e.detail) for e in newest] == [
        ("contacts.export", "", {}),
        ("erasure.create", "e:0123abcd", {"erased": 3}),
        ("thing.approve", "t_2", {}),
    ]


def test_an_entry_that_cannot_be_written_is_logged_and_the_answer_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = resolver_with_routes()
    with caplog.at_level(logging.ERROR):
        assert resolve(app, "PUT", "/test/settings") == 200
    assert entries() == []
    [record] = [r for r in caplog.records if r.getMessage() == "audit entry not written"]
    assert vars(record)["error"] == "ValueError"
    kept = vars(record)["audit"]
    assert (kept["action"], kept["workspace_id"], kept["actor"]) == (
        "PUT /test/settings",
        "default",
        "key_default",
    )


def test_an_entry_expires_after_the_workspace_s_audit_retention() -> None:
    """The TTL is the entry's time plus the workspace's `audit_retention_days` (a year unless set)."""
    asyncio.run(runtime.workspace_settings().put("short", WorkspaceSettings(audit_retention_days=30)))
    for workspace in ("default", "short"):
        assert send("POST", "/dlq/redrive", workspace=workspace)[0] == 202
    for workspace, days in (("default", 365), ("short", 30)):
        [recorded] = entries(workspace)
        [row] = [
            row
            for row in boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
            if row["PK"]["S"] == f"WS#{workspace}#AUDIT"
        ]
        assert int(row["expires_at"]["N"]) == int((recorded.at + timedelta(days=days)).timestamp())


def test_the_embedded_stack_keeps_the_trail_in_its_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    runtime.reset()
    status, job = send("POST", "/jobs", body={"domains": ["acme.com"]})
    assert status == 202
    status, page = send("GET", "/audit")
    assert status == 200
    assert [(e["action"], e["target"], e["actor"]) for e in page["entries"]] == [
        ("job.create", job["job_id"], "key_default")
    ]
    stored = runtime.database().read().execute("SELECT action, job_id FROM audit").fetchall()
    assert [tuple(row) for row in stored] == [("job.create", job["job_id"])]


def test_a_rule_that_fails_costs_its_entry_and_never_the_answer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(exchange: api_audit.Exchange) -> dict[str, Any]:
        raise KeyError("a field the answer does not have")

    monkeypatch.setattr(api_audit, "ACTIONS", dict(ACTIONS))
    register("POST", "/test/erasures", Audited("erasure.create", detail=broken))
    with caplog.at_level(logging.ERROR):
        assert resolve(resolver_with_routes(), "POST", "/test/erasures") == 200
    assert entries() == []
    [record] = [r for r in caplog.records if r.getMessage() == "audit entry not built"]
    assert (vars(record)["error"], vars(record)["route"]) == ("KeyError", "POST /test/erasures")
