"""The operator console in a real headless Chromium, over the embedded local stack as `enrich local up` runs
it: the local gateway with the deployed authorizer in front of the API function, the SQLite state in a tmp
dir, the provider simulator.

One stack serves the module. Its processor runs only when a test says so (`Console.tick`), at most 6 items a
run, so a test sees a job part-way before it sees it done. With `CONSOLE_SCREENSHOT` set (`make
console-screenshot`) the last test also writes the console's screenshot there (docs/console.png).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from enrich_tools.local.stack import LocalStack, StackOptions
from enrich_tools.simulator import SHOWCASE_DOMAINS
from leadenrich import runtime
from leadenrich.auth.keys import NewKey, create_key
from tests.support.browser import off_thread

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
)
WEBMAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com", "gmx.com")
# 12 items: found, found, found, risky (a catch-all domain), then 8 refused as webmail or disposable.
DOMAINS = (*SHOWCASE_DOMAINS[:4], *WEBMAIL, "mailinator.com")
UNKNOWN_KEY = "le_" + "A" * 43

expect.set_options(timeout=15_000)


@dataclass
class Console:
    """The module's stack, an API client on its key, and what the tests do to it besides the page."""

    stack: LocalStack
    api: httpx.Client

    @property
    def url(self) -> str:
        return f"{self.stack.url}/console"

    @property
    def key(self) -> str:
        assert self.stack.api_key
        return self.stack.api_key

    def tick(self) -> dict[str, Any]:
        """One processor run, now."""
        summary: dict[str, Any] = off_thread(self.stack.tick)
        return summary

    def drain(self) -> None:
        """Processor runs until one finds nothing to do (what earlier tests left in the queue), so a test
        that counts a run's items counts only its own."""
        for _ in range(20):
            if not self.tick()["received"]:
                return
        raise AssertionError("the queue did not drain in 20 processor runs")

    def finish(self, job_id: str, key: str | None = None) -> None:
        """Processor runs until the job is done."""
        for _ in range(20):
            if self.job(job_id, key)["status"] in ("completed", "failed", "cancelled"):
                return
            self.tick()
        raise AssertionError(f"{job_id} did not finish in 20 processor runs")

    def key_for(self, workspace: str) -> NewKey:
        """A key of another workspace, minted through the stack's key store as `enrich keys create` does."""

        async def mint() -> NewKey:
            return await create_key(runtime.key_store(), workspace, "console test", datetime.now(UTC))

        return off_thread(lambda: asyncio.run(mint()))

    def revoke(self, key_id: str) -> None:
        """As `enrich keys revoke` does."""
        off_thread(lambda: asyncio.run(runtime.key_store().revoke(key_id, datetime.now(UTC))))

    def create(self, domains: tuple[str, ...], key: str | None = None, **options: Any) -> str:
        answer = self.api.post(
            "/jobs", json={"domains": list(domains), **options}, headers={"X-API-Key": key or self.key}
        )
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["job_id"]
        return job_id

    def job(self, job_id: str, key: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self.api.get(f"/jobs/{job_id}", headers={"X-API-Key": key or self.key}).json()
        return found

    def simulator(self, **knobs: float) -> None:
        """Change the provider simulator's knobs (its control route, as its own tests do)."""
        assert self.stack.engine_settings is not None
        base = self.stack.engine_settings.hunter_api_base_url.rsplit("/v2", 1)[0]
        assert httpx.patch(f"{base}/_sim/config", json=knobs).status_code == 200


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("console-state"),
        tick_seconds=3600,  # the first scheduled run an hour in: the tests run the processor
        max_items_per_run=6,
        handler_log_level=logging.WARNING,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name in ENVIRONMENT:
            patch.delenv(name, raising=False)
        stack = LocalStack(options)
        off_thread(stack.start)  # it mints its key with asyncio.run (tests/support/browser.py)
        try:
            assert stack.api_key
            headers = {"X-API-Key": stack.api_key}
            with httpx.Client(base_url=stack.url, timeout=30, headers=headers) as api:
                yield Console(stack, api)
        finally:
            off_thread(stack.stop)


def sign_in(page: Page, console: Console, key: str | None = None) -> None:
    page.goto(console.url)
    page.fill("#api-key", key or console.key)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#console")).to_be_visible()


def row(page: Page, job_id: str) -> Locator:
    return page.locator(f'#jobs-body tr[data-job-id="{job_id}"]')


def progress(page: Page, job_id: str) -> Locator:
    return row(page, job_id).get_by_role("progressbar")


def test_a_refused_key_is_said_and_never_kept(page: Page, console: Console) -> None:
    page.goto(console.url)
    expect(page.locator("#sign-in")).to_be_visible()
    page.fill("#api-key", UNKNOWN_KEY)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#sign-in-error")).to_contain_text("403 Forbidden")
    expect(page.locator("#sign-in-error")).to_contain_text("refused this key")
    expect(page.locator("#console")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_a_job_made_on_the_page_is_followed_to_100_percent(page: Page, console: Console) -> None:
    console.drain()
    sign_in(page, console)
    page.fill("#new-job-domains", "\n".join(DOMAINS))
    page.select_option("#new-job-priority", "2")
    page.fill("#new-job-tags", "console-test")
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#notice")).to_contain_text("created with 12 items")
    found = re.search(r"Job (\S+) created", page.locator("#notice").inner_text())
    assert found
    job_id = found.group(1)
    expect(progress(page, job_id)).to_have_attribute("aria-valuenow", "0")
    expect(row(page, job_id).locator("td").nth(3)).to_have_text("2")  # the priority chosen
    expect(row(page, job_id)).to_contain_text("console-test")

    console.tick()  # 6 of the 12 items
    expect(progress(page, job_id)).to_have_attribute("aria-valuenow", "50")
    expect(row(page, job_id)).to_contain_text("6 / 12")
    console.tick()
    expect(progress(page, job_id)).to_have_attribute("aria-valuenow", "100")
    expect(row(page, job_id).locator(".status")).to_have_text("completed")
    expect(row(page, job_id)).to_contain_text("credits")
    assert console.job(job_id)["status"] == "completed"


def test_a_jobs_items_page_and_filter_with_their_tiers_and_reasons(page: Page, console: Console) -> None:
    job_id = console.create(DOMAINS)
    console.finish(job_id)
    sign_in(page, console)
    row(page, job_id).get_by_role("button", name="Items").click()
    items = page.locator("#items-body tr")
    expect(page.locator("#items-title")).to_have_text(f"Items of job {job_id}")
    expect(items).to_have_count(10)
    expect(page.locator("#items-next")).to_be_enabled()
    page.locator("#items-next").click()
    expect(items).to_have_count(2)
    expect(page.locator("#items-page")).to_have_text("Page 2")
    page.locator("#items-prev").click()
    expect(items).to_have_count(10)

    page.select_option("#items-status", "found")
    expect(items).to_have_count(3)
    expect(items.locator(".tier-verified")).to_have_count(3)
    expect(items.first).to_contain_text(f"@{DOMAINS[0]}")
    page.select_option("#items-status", "risky")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("catch_all")
    page.select_option("#items-status", "invalid")
    expect(items).to_have_count(8)
    expect(items.first.locator(".reason")).to_contain_text("is a webmail domain, not a company's")
    expect(page.locator("#items-next")).to_be_disabled()


def test_a_job_is_cancelled_from_the_page(page: Page, console: Console) -> None:
    job_id = console.create(SHOWCASE_DOMAINS[:3])
    sign_in(page, console)
    expect(row(page, job_id).locator(".status")).to_have_text("pending")
    row(page, job_id).get_by_role("button", name="Cancel").click()
    row(page, job_id).get_by_role("button", name="Confirm cancel").click()  # a second click confirms
    expect(row(page, job_id).locator(".status")).to_have_text("cancelled")
    expect(page.locator("#notice")).to_contain_text(f"Job {job_id} cancelled")
    expect(row(page, job_id).get_by_role("button", name="Cancel")).to_have_count(0)
    assert console.job(job_id)["status"] == "cancelled"


def test_a_job_is_paused_and_resumed_from_the_page(page: Page, console: Console) -> None:
    probe = console.api.post("/jobs/bulk", json={"job_ids": ["job_none"], "action": "pause"})
    if probe.status_code in (404, 405):
        pytest.skip("POST /jobs/bulk is not served yet: the Pause and Resume buttons call it")
    job_id = console.create(SHOWCASE_DOMAINS[:2])
    sign_in(page, console)
    row(page, job_id).get_by_role("button", name="Pause").click()
    expect(row(page, job_id).locator(".status")).to_contain_text("paused")
    assert console.job(job_id)["status"] == "paused"
    row(page, job_id).get_by_role("button", name="Resume").click()
    expect(row(page, job_id).locator(".status")).not_to_contain_text("paused")
    console.finish(job_id)
    expect(row(page, job_id).locator(".status")).to_have_text("completed")


def test_dead_letters_are_listed_and_redriven(page: Page, console: Console) -> None:
    console.simulator(share_5xx=1.0)  # every Hunter call fails: one attempt each, then the DLQ
    try:  # domains no other test asked about: no cached answer spares them the failing call
        job_id = console.create(("dead-letter-one.com", "dead-letter-two.com"), max_attempts=1)
        console.finish(job_id)
    finally:
        console.simulator(share_5xx=0.0)
    sign_in(page, console)
    dead = page.locator(f'#dlq-body tr[data-job-id="{job_id}"]')
    expect(dead).to_have_count(2)
    expect(dead.first).to_contain_text("attempts exhausted")
    expect(row(page, job_id).get_by_role("button", name="Retry")).to_be_visible()
    page.get_by_role("button", name="Redrive dead letters").click()
    expect(page.locator("#notice")).to_contain_text("2 dead letters back in the queue")
    expect(page.locator("#dlq-body tr")).to_have_count(0)
    expect(page.locator("#dlq-empty")).to_be_visible()
    console.drain()  # the redriven items run again, and now succeed
    expect(row(page, job_id).locator(".status")).to_have_text("completed")
    expect(row(page, job_id).get_by_role("button", name="Retry")).to_have_count(0)


def test_another_workspaces_jobs_never_appear(page: Page, chromium: Browser, console: Console) -> None:
    other_key = console.key_for("other-workspace").secret
    theirs = console.create(SHOWCASE_DOMAINS[:1], key=other_key, tags=["other-workspace"])
    ours = console.create(SHOWCASE_DOMAINS[1:2])
    console.finish(theirs, other_key)
    console.finish(ours)
    assert console.api.get(f"/jobs/{theirs}").status_code == 404  # the API itself: not ours to see
    sign_in(page, console)
    expect(row(page, ours)).to_be_visible()
    shown = set(page.locator("#jobs-body tr").evaluate_all("rows => rows.map(r => r.dataset.jobId)"))
    assert theirs not in shown and theirs not in page.content() and "other-workspace" not in page.content()

    context = chromium.new_context()
    try:
        other = context.new_page()
        sign_in(other, console, other_key)
        expect(row(other, theirs)).to_be_visible()
        listed = other.locator("#jobs-body tr").evaluate_all("rows => rows.map(r => r.dataset.jobId)")
        assert listed == [theirs]
        assert ours not in other.content()
    finally:
        context.close()


def test_a_key_revoked_while_the_page_is_open_signs_the_tab_out(page: Page, console: Console) -> None:
    made = console.key_for("revoked-workspace")
    sign_in(page, console, made.secret)
    expect(page.locator("#jobs-empty")).to_be_visible()  # a workspace of its own: no jobs
    console.revoke(made.key.key_id)
    expect(page.locator("#sign-in")).to_be_visible()  # the next refresh is refused
    expect(page.locator("#sign-in-error")).to_contain_text("Signed out: HTTP 403 Forbidden")
    expect(page.locator("#console")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_key_stays_in_the_tab_only_until_sign_out(page: Page, console: Console) -> None:
    sign_in(page, console)
    assert page.input_value("#api-key") == ""  # not left in the form
    page.reload()
    expect(page.locator("#console")).to_be_visible()  # the tab's session storage kept it
    stored = page.evaluate("[sessionStorage.length, localStorage.length, document.cookie]")
    assert stored == [1, 0, ""]
    assert page.context.cookies() == []
    expect(page.locator("#jobs-body tr").first).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.locator("#jobs-body tr")).to_have_count(0)
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()


def test_the_last_hour_is_charted_and_the_console_pictured(
    page: Page, console: Console, tmp_path: Path
) -> None:
    """Runs after the others, so the hour has work in it; a job part-way makes a bar below 100 %."""
    console.drain()
    halfway = console.create(DOMAINS, tags=["campaign-q3"], priority=1)
    console.tick()
    sign_in(page, console)
    expect(progress(page, halfway)).to_have_attribute("aria-valuenow", "50")
    buckets = page.locator("#chart g.bucket")
    expect(buckets).to_have_count(12)
    processed = int(page.locator("#figures .figure strong").first.inner_text())
    charted = buckets.evaluate_all("bars => bars.map(b => Number(b.dataset.processed))")
    assert processed > 0 and sum(charted) == processed
    expect(page.locator("#chart polyline.rate")).to_have_count(1)
    expect(page.locator("#simulated")).to_be_visible()

    row(page, halfway).get_by_role("button", name="Items").click()
    expect(page.locator("#items-body tr")).to_have_count(10)
    picture = tmp_path / "console.png"
    page.screenshot(path=str(picture), full_page=True)
    assert picture.read_bytes().startswith(b"\x89PNG")
    wanted = os.environ.get("CONSOLE_SCREENSHOT")
    if wanted:
        shutil.copyfile(picture, ROOT / wanted)
