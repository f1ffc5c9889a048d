"""Queue windows: a job's first items at creation, then each leading item's successors at its first outcome.

What must hold for every job size and window: each item is sent exactly once (no item stranded, so the
job can complete; no item sent twice in a run without crashes), and no leader sends past the job's end.
"""

from __future__ import annotations

import pytest

from leadenrich.jobs.window import GROUP, first_count, successors


def ids(n: int, width: int = 6) -> list[str]:
    return [f"{i:0{width}d}" for i in range(n)]


@pytest.mark.parametrize("window", [1, 3, 9, 10, 11, 25, 50, 99, 100])
def test_every_item_is_sent_exactly_once_whatever_the_size_and_window(window: int) -> None:
    for total in range(0, 260):
        sent = ids(total)[: first_count(total, window)]
        for item_id in ids(total):
            sent += successors(item_id, window, total)
        assert sorted(sent) == ids(total), (total, window)
        assert len(sent) == len(set(sent)), (total, window)


def test_only_every_groupth_item_leads_and_it_sends_one_batch() -> None:
    assert successors("000000", 50, 10_000) == ids(60)[50:]
    assert successors("000010", 50, 10_000) == ids(70)[60:]
    assert all(successors(f"{i:06d}", 50, 10_000) == [] for i in range(1, GROUP))
    assert successors("009950", 50, 10_000) == []  # past the end: the first 50 were sent at creation
    assert successors("009940", 50, 10_000) == ids(10_000)[9990:]
    assert len(successors("000000", 50, 10_000)) == GROUP  # one SendMessageBatch


def test_ids_keep_the_jobs_width() -> None:
    assert successors("0000000", 50, 2_000_000) == ids(60, width=7)[50:]


def test_without_a_window_everything_is_sent_at_creation() -> None:
    assert first_count(10_000, None) == 10_000
    assert successors("000000", None, 10_000) == []
    assert first_count(10, 50) == 10 and first_count(10_000, 50) == 50
