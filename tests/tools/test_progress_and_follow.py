"""The pieces `enrich run` is made of, without a stack: the progress line, the frontier that reports each
finished item once, the default timeout, the exit codes and the preflight's quota reading."""

from __future__ import annotations

import io
import random
from collections import Counter
from typing import Any

import pytest

from enrich_tools.local import progress as progress_module
from enrich_tools.local.follow import TERMINAL_ITEM_STATUSES, JobFrontier
from enrich_tools.local.preflight import quota_problem
from enrich_tools.local.progress import LOG_EVERY_SECONDS, MIN_DONE_FOR_ETA, Progress, Tally
from enrich_tools.local.reporting import FAILED, INTERRUPTED, OK, PARTIAL, USAGE, exit_code
from enrich_tools.local.timeouts import BASE_SECONDS, default_timeout
from leadenrich.engine.ratelimit import LIMITS, Limit, parse_limits

# --- the progress line -------------------------------------------------------------------------------------


class FakeClock:
    """Stands in for the `time` module inside progress.py: the test moves the clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(progress_module, "time", fake)
    return fake


def test_the_line_shows_counts_credits_and_dollars(clock: FakeClock) -> None:
    progress = Progress(io.StringIO(), 40)
    line = progress.line(Tally(processed=10, found=7, credits=12.5, dollars=0.4149), now=clock.now + 75)
    assert line.startswith("[" + "#" * 6 + "-" * 18 + "] 10/40 done, 7 found | ")
    assert "Hunter 12.5 credits, Perplexity $0.41 | 1m15s" in line


def test_the_eta_shows_once_a_few_leads_are_done_at_their_pace(clock: FakeClock) -> None:
    """Given a run of 10 leads, when fewer than MIN_DONE_FOR_ETA are done there is no ETA; once that many
    are, the ETA is the leads left at the pace so far."""
    progress = Progress(io.StringIO(), 10)
    progress.update(Tally(processed=0))
    assert MIN_DONE_FOR_ETA == 3
    assert "ETA" not in progress.line(Tally(processed=2), now=clock.now + 20)
    # 3 done in 30 s: 7 left take 70 s.
    assert progress.line(Tally(processed=3), now=clock.now + 30).endswith("| 30s, ETA 1m10s")
    # Finished: no ETA.
    assert "ETA" not in progress.line(Tally(processed=10), now=clock.now + 90)


def test_leads_done_before_a_resumed_run_do_not_count_towards_the_pace(clock: FakeClock) -> None:
    progress = Progress(io.StringIO(), 100)
    progress.update(Tally(processed=60))  # a resumed run: 60 were done before it started
    assert "ETA" not in progress.line(Tally(processed=62), now=clock.now + 10)
    # 4 done here in 40 s (not 64): 36 left take 360 s.
    assert progress.line(Tally(processed=64), now=clock.now + 40).endswith(", ETA 6m00s")


def test_not_a_terminal_at_most_one_line_per_interval_unless_finished(clock: FakeClock) -> None:
    stream = io.StringIO()
    progress = Progress(stream, 5)
    progress.update(Tally(processed=0))
    clock.now += 1
    progress.update(Tally(processed=1))  # changed, but within LOG_EVERY_SECONDS of the last line
    clock.now += 1
    progress.update(Tally(processed=2))
    assert len(stream.getvalue().splitlines()) == 1
    clock.now += LOG_EVERY_SECONDS
    progress.update(Tally(processed=3))
    progress.update(Tally(processed=3))  # unchanged: nothing new to say
    clock.now += LOG_EVERY_SECONDS
    progress.update(Tally(processed=3))  # the interval passed, but nothing changed
    assert [line.split("] ")[1][:3] for line in stream.getvalue().splitlines()] == ["0/5", "3/5"]
    clock.now += 0.5
    progress.update(Tally(processed=5, found=4))  # finished: printed at once, whatever the interval
    progress.finish()
    text = stream.getvalue()
    lines = text.splitlines()
    assert len(lines) == 3 and "5/5 done, 4 found" in lines[-1]
    assert "\r" not in text and "\033[" not in text  # a log gets plain lines, no redraws
    assert text.endswith("\n")


def test_not_a_terminal_a_change_held_back_by_the_interval_is_logged_when_it_passes(clock: FakeClock) -> None:
    stream = io.StringIO()
    progress = Progress(stream, 5)
    progress.update(Tally(processed=0))
    clock.now += 1
    progress.update(Tally(processed=4, found=4))  # within the interval: held back
    clock.now += LOG_EVERY_SECONDS
    progress.update(Tally(processed=4, found=4))  # the fifth lead is a straggler: no change for minutes
    assert "4/5 done" in stream.getvalue()


def test_on_a_terminal_the_line_is_redrawn_in_place(clock: FakeClock) -> None:
    stream = Terminal()
    progress = Progress(stream, 3)
    progress.update(Tally(processed=0))
    clock.now += 0.1
    progress.update(Tally(processed=1))
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().count("\033[K") == 2
    assert "\n" not in stream.getvalue()
    progress.finish()
    assert stream.getvalue().endswith("\033[K\n")


# --- the frontier: each finished item reported once, reading as few pages as possible ----------------------


class FakeItems:
    """An in-memory `ItemPages`: one job's items in input order, pages of `limit` behind opaque cursors,
    every call counted."""

    def __init__(self, count: int, job_id: str = "job_1") -> None:
        self.job_id = job_id
        self.statuses = ["queued"] * count
        self.calls: list[int] = []  # the offset each list_items call read from
        self._cursors: dict[str, int] = {}

    def finish(self, *indexes: int, status: str = "found") -> None:
        for index in indexes:
            self.statuses[index] = status

    def list_items(
        self, job_id: str, *, limit: int, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        assert job_id == self.job_id and status is None
        start = 0 if cursor is None else self._cursors[cursor]
        self.calls.append(start)
        end = start + limit
        items = [
            {"item_id": str(i), "status": s, "lead": {"domain": f"d{i}.com"}}
            for i, s in enumerate(self.statuses[start:end], start=start)
        ]
        following = None
        if end < len(self.statuses):
            following = f"opaque-{random.getrandbits(64):016x}"  # a new token each time, as an API may
            self._cursors[following] = end
        return {"items": items, "cursor": following}

    @property
    def terminal(self) -> int:
        return sum(status in TERMINAL_ITEM_STATUSES for status in self.statuses)

    def poll(self, frontier: JobFrontier, page_size: int) -> tuple[list[int], int]:
        """One poll as `follow` makes it: the reported indexes and the pages read."""
        before = len(self.calls)
        fresh = frontier.new_outcomes(self, self.terminal, page_size=page_size)
        return [int(item["item_id"]) for item in fresh], len(self.calls) - before


def test_a_poll_with_nothing_new_finished_reads_nothing() -> None:
    items, frontier = FakeItems(10), JobFrontier("job_1")
    assert items.poll(frontier, 4) == ([], 0)
    items.finish(0, 1)
    assert items.poll(frontier, 4) == ([0, 1], 1)
    assert items.poll(frontier, 4) == ([], 0)  # the counter has not moved since: no call at all


def test_finished_items_are_reported_once_in_input_order_reading_a_page_or_two() -> None:
    """Given 10 items in pages of 4, when they finish near the frontier each poll reads 1-2 pages."""
    items, frontier = FakeItems(10), JobFrontier("job_1")
    items.finish(2, 0, 1)  # finished out of order: reported in input order
    assert items.poll(frontier, 4) == ([0, 1, 2], 1)
    items.finish(5, 3, 4)  # across the first page's end: pages 1 and 2
    assert items.poll(frontier, 4) == ([3, 4, 5], 2)
    items.finish(7, 6)  # the first page was complete: the poll starts at the second
    assert items.poll(frontier, 4) == ([6, 7], 1)
    assert items.calls[-1] == 4
    items.finish(8, 9)
    assert items.poll(frontier, 4) == ([8, 9], 1)
    assert items.calls[-1] == 8
    assert items.poll(frontier, 4) == ([], 0)


def test_items_finished_after_the_counter_was_read_are_reported_too_and_not_again() -> None:
    items, frontier = FakeItems(6), JobFrontier("job_1")
    items.finish(0, 1, 2)
    fresh = frontier.new_outcomes(items, 1, page_size=10)  # the counter said 1; three are done by now
    assert [item["item_id"] for item in fresh] == ["0", "1", "2"]
    assert frontier.new_outcomes(items, 3, page_size=10) == []


def test_a_straggler_holds_the_frontier_back_but_nothing_is_missed() -> None:
    """Given item 1 deferred while the others finish, polls read from its page on (more pages, as the
    module says), report each other item once, and report the straggler when it finally ends; the frontier
    then catches up and polls cost a page again."""
    items, frontier = FakeItems(15), JobFrontier("job_1")
    items.finish(0, 2)
    assert items.poll(frontier, 3) == ([0, 2], 1)
    items.finish(*range(3, 9))
    assert items.poll(frontier, 3) == ([3, 4, 5, 6, 7, 8], 3)
    assert items.calls[-3] == 0  # it starts at the straggler's page again
    items.finish(1, status="failed")
    assert items.poll(frontier, 3) == ([1], 1)
    items.finish(9, 10, 11)
    assert items.poll(frontier, 3) == ([9, 10, 11], 3)  # one catch-up read over the pages done meanwhile
    items.finish(12, 13, 14)
    assert items.poll(frontier, 3) == ([12, 13, 14], 1)
    assert items.calls[-1] == 12


@pytest.mark.parametrize("seed", range(20))
def test_every_item_is_reported_exactly_once_whatever_the_order(seed: int) -> None:
    rng = random.Random(seed)
    count, page_size = rng.randint(1, 60), rng.randint(1, 7)
    items, frontier = FakeItems(count), JobFrontier("job_1")
    order = list(range(count))
    rng.shuffle(order)  # any finishing order, stragglers included
    seen: list[int] = []
    while order:
        items.finish(*[order.pop() for _ in range(min(len(order), rng.randint(0, 4)))], status="not_found")
        reported, _ = items.poll(frontier, page_size)
        assert reported == sorted(reported)
        seen.extend(reported)
    seen.extend(items.poll(frontier, page_size)[0])
    assert sorted(seen) == list(range(count)) and len(seen) == len(set(seen))


def test_a_long_job_finishing_in_order_costs_a_page_or_two_per_poll() -> None:
    items, frontier = FakeItems(1000), JobFrontier("job_1")
    most = 0
    for start in range(0, 1000, 7):
        items.finish(*range(start, min(start + 7, 1000)))
        reported, pages = items.poll(frontier, 50)
        assert reported == list(range(start, min(start + 7, 1000)))
        most = max(most, pages)
    assert most == 2 and len(items.calls) < 1000 // 7 + 25


# --- the default timeout -----------------------------------------------------------------------------------


def test_the_default_timeout_grows_with_the_leads() -> None:
    assert default_timeout(0, LIMITS) == BASE_SECONDS
    ten, thousand = default_timeout(10, LIMITS), default_timeout(1000, LIMITS)
    assert BASE_SECONDS < ten < thousand
    # The help text's "about an hour per 1,000 leads at Perplexity's tier-0 pace" (1.26 s a call).
    assert 55 * 60 <= thousand - BASE_SECONDS <= 70 * 60


def test_the_default_timeout_shrinks_with_higher_limits() -> None:
    faster = parse_limits("perplexity.responses=2/150, hunter.discover=5/150")  # Discover: as slow at tier 0
    fastest = {key: Limit(per_second=100, per_minute=6000) for key in LIMITS}
    tier0, tier1, unlimited = (default_timeout(1000, limits) for limits in (LIMITS, faster, fastest))
    assert tier0 > tier1 > unlimited > BASE_SECONDS
    assert default_timeout(1000, {}) > BASE_SECONDS  # no limits known: still time per lead


# --- exit codes --------------------------------------------------------------------------------------------


def test_the_documented_exit_codes_are_these_numbers() -> None:
    assert (OK, FAILED, USAGE, PARTIAL, INTERRUPTED) == (0, 1, 2, 3, 130)


@pytest.mark.parametrize(
    ("counts", "problem", "expected"),
    [
        pytest.param({"found": 3, "not_found": 2, "invalid": 1}, None, OK, id="every-lead-answered"),
        pytest.param({"skipped": 2, "found": 1}, None, OK, id="skipped-counts-as-answered"),
        pytest.param({"failed": 4}, None, FAILED, id="every-lead-failed"),
        pytest.param({"failed": 4}, "timed out after 5 s", FAILED, id="all-failed-and-timed-out"),
        pytest.param({}, None, FAILED, id="nothing-at-all"),
        pytest.param({"found": 3, "failed": 1}, None, PARTIAL, id="some-failed"),
        pytest.param({"found": 3}, "stopped: hunter switched off: quota", PARTIAL, id="stopped-early"),
        pytest.param({"not_found": 2}, "timed out after 5 s", PARTIAL, id="timed-out"),
        pytest.param({"invalid": 2, "failed": 2}, None, PARTIAL, id="invalid-rows-are-answers"),
    ],
)
def test_exit_code(counts: dict[str, int], problem: str | None, expected: int) -> None:
    assert exit_code(Counter(counts), problem) == expected


def test_a_snapshot_with_pending_leads_is_not_done() -> None:
    assert exit_code(Counter({"found": 2, "pending": 3}), None) == PARTIAL


# --- the preflight's reading of Hunter's /account ----------------------------------------------------------


def test_searches_used_up_stop_the_run() -> None:
    problem = quota_problem({"searches": {"used": 500, "available": 500}, "verifications": {"used": 0}})
    assert problem is not None and "no search credits left" in problem
    assert quota_problem({"searches": {"used": 501, "available": 500}}) is not None
    assert quota_problem({"searches": {"used": "25", "available": "25"}}) is not None  # strings, as JSON


def test_searches_left_let_the_run_go_whatever_the_verifications() -> None:
    assert quota_problem({"searches": {"used": 499.5, "available": 500}}) is None
    spent_verifications = {
        "searches": {"used": 0, "available": 500},
        "verifications": {"used": 1000, "available": 1000},
    }
    assert quota_problem(spent_verifications) is None


def test_a_shared_credits_pool_counts_instead_of_searches() -> None:
    searches_spent = {"searches": {"used": 50, "available": 50}, "credits": {"used": 10.5, "available": 100}}
    assert quota_problem(searches_spent) is None
    pool_spent = {"searches": {"used": 0, "available": 50}, "credits": {"used": 100, "available": 100}}
    problem = quota_problem(pool_spent)
    assert problem is not None and "no search credits left" in problem


@pytest.mark.parametrize(
    "requests",
    [
        {},
        {"searches": None},
        {"searches": "unlimited"},
        {"searches": {"used": 3}},
        {"searches": {"used": None, "available": 0}},
        {"searches": {"used": "n/a", "available": 0}},
        {"credits": {"available": 0}, "searches": {"used": 1, "available": 10}},
    ],
)
def test_an_account_answer_without_a_readable_bucket_does_not_stop_the_run(requests: dict[str, Any]) -> None:
    assert quota_problem(requests) is None
