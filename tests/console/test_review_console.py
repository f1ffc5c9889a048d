"""The console's Review panel in a real headless Chromium, over the embedded local stack (its own, as
`enrich local up` runs it: the gateway with the deployed authorizer, SQLite state in a tmp dir, the provider
simulator): a workspace with `review_required` sees its found addresses wait, approves one, rejects the
other, and the job's items then show the approved one only."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from enrich_tools.local.stack import LocalStack, StackOptions
from leadenrich import runtime
from leadenrich.privacy.ports import WorkspaceSettings
from tests.support.browser import off_thread

ENVIRONMENT = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
)
FOUND = ("acme-robotics.com", "brightlane.co.uk")  # the simulator's: one decision-maker's address each

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("review-state"),
        tick_seconds=3600,  # the test runs the processor
        handler_log_level=logging.WARNING,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name in ENVIRONMENT:
            patch.delenv(name, raising=False)
        running = LocalStack(options)
        off_thread(running.start)
        try:
            yield running
        finally:
            off_thread(running.stop)


def test_the_review_panel_approves_and_rejects_the_addresses_that_wait(page: Page, stack: LocalStack) -> None:
    assert stack.api_key
    settings = WorkspaceSettings(review_required=True)  # the stack's key is the workspace "default"'s
    off_thread(lambda: asyncio.run(runtime.workspace_settings().put("default", settings)))
    with httpx.Client(base_url=stack.url, timeout=30, headers={"X-API-Key": stack.api_key}) as api:
        created = api.post("/jobs", json={"domains": list(FOUND)})
        assert created.status_code == 202, created.text
        job_id = created.json()["job_id"]
        for _ in range(5):
            off_thread(stack.tick)
            if api.get(f"/jobs/{job_id}").json()["status"] == "completed":
                break
        waiting = api.get(f"/jobs/{job_id}/items").json()["items"]
        assert [(i["emails"], i.get("held_for_review")) for i in waiting] == [([], 1), ([], 1)]

        page.goto(f"{stack.url}/console")
        page.fill("#api-key", stack.api_key)
        page.get_by_role("button", name="Open").click()
        rows = page.locator("#review-body tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#review-empty")).to_be_hidden()
        first = rows.nth(0)
        expect(first).to_contain_text("acme-robotics.com")
        expect(first).to_contain_text("legitimate_interest")
        approved = first.locator(".email").inner_text()

        first.get_by_role("button", name="Approve").click()
        expect(page.locator("#notice")).to_have_text(re.compile(rf"^{re.escape(approved)} approved$"))
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_contain_text("brightlane.co.uk")
        rows.nth(0).get_by_role("button", name="Reject").click()
        expect(page.locator("#notice")).to_contain_text("rejected")
        expect(rows).to_have_count(0)
        expect(page.locator("#review-empty")).to_be_visible()

        shown = api.get(f"/jobs/{job_id}/items").json()["items"]
        assert [[e["email"] for e in i["emails"]] for i in shown] == [[approved], []]
        assert shown[0]["emails"][0]["review"] == "approved"
        assert api.get("/contacts").json()["contacts"] == []
