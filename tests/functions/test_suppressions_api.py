"""`GET/POST/DELETE /suppressions` through the API Lambda on moto, every answer held to docs/openapi.json (the
conftest's `openapi_conformance`): a workspace adds to, lists and removes from its own list only, bad
entries are a 422 naming the entry and field with nothing added, and what the API adds is what the
processor's screen reads, on each backend the runtime builds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadenrich import runtime
from leadenrich.aws.dynamo_suppression import DynamoSuppressionList
from leadenrich.engine.screen import Address, Domain, Person, Subject
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason
from leadenrich.privacy.suppression import MAX_ENTRIES, WorkspaceScreen
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.api_stack import call

ENTRIES = [
    {"email": "Ada.Lovelace@Acme.com"},
    {"first_name": "Grace", "last_name": "Hopper", "domain": "https://www.globex.io/team"},
    {"domain": "INITECH.example"},
]


def add(entries: list[dict[str, Any]], workspace: str = "acme") -> tuple[int, Any]:
    status, body, _ = call("POST", "/suppressions", workspace=workspace, body={"entries": entries})
    return status, body


def listed(workspace: str = "acme", **query: str) -> Any:
    status, body, _ = call("GET", "/suppressions", workspace=workspace, query=query or None)
    assert status == 200
    return body


def test_a_workspace_adds_and_lists_its_entries_masked(stack: None) -> None:
    status, body = add(ENTRIES)
    assert status == 200 and body["added"] == 3
    assert [(e["kind"], e["label"]) for e in body["entries"]] == [
        ("email", "a***@acme.com"),
        ("person", "g. h. @ globex.io"),
        ("domain", "initech.example"),
    ]
    keys = [e["key"] for e in body["entries"]]
    assert keys[0] == email_identity("ada.lovelace@acme.com").key and keys[2] == "d:initech.example"
    page = listed()
    assert {e["key"] for e in page["suppressions"]} == set(keys) and page["cursor"] is None
    assert {e["reason"] for e in page["suppressions"]} == {"manual"}
    assert "lovelace" not in str(page).lower() and "hopper" not in str(page).lower()

    status, again = add([ENTRIES[0], {"email": "ada.lovelace@acme.com"}, {"domain": "hooli.example"}])
    assert status == 200 and again["added"] == 1  # the address twice, and already listed
    assert len(listed()["suppressions"]) == 4
    assert listed("globex")["suppressions"] == []  # acme's list is acme's own


def test_listing_pages_with_a_cursor_of_the_workspace_s_own(stack: None) -> None:
    add([{"domain": f"company{n}.example"} for n in range(5)])
    first = listed(limit="2")
    assert len(first["suppressions"]) == 2 and first["cursor"]
    seen = [e["key"] for e in first["suppressions"]]
    cursor = first["cursor"]
    while cursor:
        page = listed(limit="2", cursor=cursor)
        seen += [e["key"] for e in page["suppressions"]]
        cursor = page["cursor"]
    assert sorted(seen) == sorted(f"d:company{n}.example" for n in range(5))
    status, body, _ = call("GET", "/suppressions", workspace="globex", query={"cursor": first["cursor"]})
    assert status == 422 and body["field"] == "query.cursor"


@pytest.mark.parametrize(
    ("entries", "field", "words"),
    [
        (
            [{"domain": "a.com"}, {"domain": "b.com"}, {"domain": "c.com"}, {"email": "ada at acme"}],
            "body.entries.3.email",
            "address",
        ),
        ([{"email": "ada@localhost"}], "body.entries.0.email", "domain"),
        (
            [{"domain": "a.com"}, {"first_name": "Ada", "last_name": "Lovelace"}],
            "body.entries.1.domain",
            "required",
        ),
        ([{"first_name": "Ada", "domain": "acme.com"}], "body.entries.0.last_name", "required"),
        ([{"email": "ada@acme.com", "domain": "acme.com"}], "body.entries.0.domain", "not with email"),
        ([{}], "body.entries.0", "empty"),
        ([{"phone": "+44 20 7946 0000"}], "body.entries.0.phone", ""),
        ([{"domain": "not a domain"}], "body.entries.0.domain", ""),
        ([], "body.entries", ""),
        ([{"domain": "a.com"}] * (MAX_ENTRIES + 1), "body.entries", "1000"),
    ],
)
def test_a_bad_entry_is_named_and_nothing_is_added(
    stack: None, entries: list[dict[str, Any]], field: str, words: str
) -> None:
    status, body = add(entries)
    assert status == 422 and body["field"] == field, body
    assert words in body["message"].replace(",", "")
    assert "ada at acme" not in body["message"] and "Lovelace" not in body["message"]  # never echoed
    assert listed()["suppressions"] == []


def test_a_workspace_removes_its_own_entries_and_nothing_else(stack: None) -> None:
    _, body = add(ENTRIES)
    _, theirs = add([ENTRIES[0]], workspace="globex")
    key = body["entries"][0]["key"]
    asyncio.run(  # a 451: on the service-wide list, which no workspace can lift
        runtime.suppressions().add(
            [
                Suppression(
                    SERVICE_WIDE,
                    email_identity("zoe@acme.com"),
                    SuppressionReason.OPTED_OUT,
                    datetime.now(UTC),
                )
            ]
        )
    )
    status, removed, _ = call("DELETE", f"/suppressions/{key}", workspace="acme")
    assert status == 200 and removed == {"key": key, "removed": True}
    assert call("DELETE", f"/suppressions/{key}", workspace="acme")[0] == 404  # gone already
    service_wide = email_identity("zoe@acme.com").key
    for missing in (service_wide, "d:unknown.example", "x" * 400):
        status, error, _ = call("DELETE", f"/suppressions/{missing}", workspace="acme")
        assert status == 404 and error["field"] is None
    assert [e["key"] for e in listed("globex")["suppressions"]] == [theirs["entries"][0]["key"]]  # kept
    status, _, _ = call("DELETE", "/suppressions/d%3Ainitech.example", workspace="acme")  # encoded, as sent
    assert status == 200
    assert asyncio.run(runtime.suppressions().suppressed("acme", [service_wide])) == {service_wide}


def test_without_the_authorizer_s_workspace_it_is_401(stack: None) -> None:
    for method, path in (
        ("GET", "/suppressions"),
        ("POST", "/suppressions"),
        ("DELETE", "/suppressions/d:a.com"),
    ):
        status, body, _ = call(method, path, workspace=None, body={"entries": [{"domain": "a.com"}]})
        assert status == 401 and body["message"] == "Unauthorized"


def test_what_the_api_adds_the_processor_s_screen_reads(stack: None) -> None:
    add(ENTRIES)
    screen = runtime.processor().screen
    assert screen is not None
    acme, globex = screen("acme"), screen("globex")
    assert isinstance(acme, WorkspaceScreen)
    subjects: list[Subject] = [
        Address("ada.lovelace@acme.com"),
        Person("grace", "HOPPER", "globex.io"),
        Domain("initech.example"),
        Domain("acme.com"),
    ]
    assert asyncio.run(acme.suppressed(subjects)) == set(subjects[:3])
    assert asyncio.run(globex.suppressed(subjects)) == set()


def test_the_lists_follow_the_rate_limiter(
    stack: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert isinstance(runtime.suppressions(), DynamoSuppressionList)
    monkeypatch.setenv("JOB_STORE", "supabase")  # jobs in Supabase: the lists stay in the table
    runtime.reset()
    assert isinstance(runtime.suppressions(), DynamoSuppressionList)
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.delenv("JOB_STORE")
    runtime.reset()
    assert isinstance(runtime.suppressions(), SqliteSuppressionList)
    status, body = add([{"domain": "acme.com"}])
    assert status == 200 and body["added"] == 1
    assert listed()["suppressions"][0]["key"] == "d:acme.com"
