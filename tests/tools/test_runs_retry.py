"""Following jobs through an API that stumbles: `Tracker.poll` and `follow` (enrich_tools.local.runs) retry a
poll the API could not answer (status 0, 429, 5xx) and raise any other error at once; and a poll stops a
run only on a provider switch-off that happened during it, not on one from before it began.

The client is a small fake answering like the jobs API (`get_job`, `list_items`), so no stack is needed.
A retried poll waits RETRY_DELAYS (1 s, then 2 s) in real time.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, cast

import pytest

from enrich_tools.local.client import ApiClient, ApiError
from enrich_tools.local.results import Record
from enrich_tools.local.rows import CsvRow
from enrich_tools.local.runs import RETRY_DELAYS, Submitted, Tracker, follow

JOB = "job-1"
ROWS = [
    CsvRow(
        line=n + 2,
        domain=f"d{n}.com",
        external_id=f"x{n}",
        lead={"domain": f"d{n}.com", "external_id": f"x{n}"},
    )
    for n in range(2)
]
SWITCHED_OFF = "hunter switched off: /domain-search: usage limit for the billing period reached (429)"


def item(n: int, status: str = "found", reason: str | None = None) -> dict[str, Any]:
    return {"item_id": f"{n:06d}", "status": status, "lead": ROWS[n].lead, "reason": reason, "emails": []}


class FakeApi:
    """The jobs API of one job: `get_job` and `list_items` answer from `items`, after raising the errors
    queued for them, one per call."""

    def __init__(self, items: list[dict[str, Any]], fail: dict[str, list[ApiError]] | None = None) -> None:
        self.items = items
        self.fail = fail or {}
        self.calls: Counter[str] = Counter()

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail.get(name):
            raise self.fail[name].pop(0)

    def get_job(self, job_id: str) -> dict[str, Any]:
        self._call("get_job")
        processed = sum(i["status"] != "queued" for i in self.items)
        done = processed == len(self.items)
        counters = {"total": len(self.items), "processed": processed}
        return {"job_id": job_id, "status": "completed" if done else "running", "counters": counters}

    def list_items(
        self, job_id: str, *, limit: int, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        self._call("list_items")
        return {"items": list(self.items), "cursor": None}


def as_client(api: FakeApi) -> ApiClient:
    return cast(ApiClient, api)  # duck-typed: the tracker only calls get_job and list_items


def tracker(records: list[Record]) -> Tracker:
    return Tracker([Submitted(JOB, list(ROWS))], records.append)


def test_a_poll_is_retried_through_answers_the_api_could_not_give() -> None:
    """Given an API that answers 503 to the job twice and cannot be reached once for its items, a poll
    still returns the job's view and reports both finished leads, once each."""
    api = FakeApi(
        [item(0), item(1, "not_found")],
        fail={"get_job": [ApiError(503, "busy"), ApiError(503, "busy")], "list_items": [ApiError(0, "down")]},
    )
    records: list[Record] = []

    views, stopped = tracker(records).poll(as_client(api))

    assert views[JOB]["status"] == "completed" and stopped is None
    assert [(r["external_id"], r["status"]) for r in records] == [("x0", "found"), ("x1", "not_found")]
    assert api.calls == Counter(get_job=3, list_items=2)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_an_error_of_the_callers_making_is_raised_at_once(status: int) -> None:
    api = FakeApi([item(0), item(1)], fail={"get_job": [ApiError(status, "no")]})
    began = time.monotonic()
    with pytest.raises(ApiError) as raised:
        follow(as_client(api), [Submitted(JOB, list(ROWS))], timeout=30, poll=0.01)
    assert raised.value.status == status
    assert api.calls == Counter(get_job=1)  # not asked again
    assert time.monotonic() - began < RETRY_DELAYS[0]  # and not waited for


def test_a_throttled_poll_is_retried_and_following_goes_on_to_the_end() -> None:
    api = FakeApi([item(0), item(1)], fail={"list_items": [ApiError(429, "slow down")]})
    records: list[Record] = []

    followed = follow(
        as_client(api), [Submitted(JOB, list(ROWS))], timeout=30, poll=0.01, on_record=records.append
    )

    assert followed.views[JOB]["status"] == "completed"
    assert not followed.timed_out and followed.stopped is None
    assert [r["external_id"] for r in records] == ["x0", "x1"]


def test_only_a_switch_off_seen_after_the_first_poll_stops_the_run() -> None:
    """A resumed run's first poll reports what finished before it began: a lead that failed there as
    "switched off" must not stop it. One that finishes so during the run does."""
    api = FakeApi([item(0, "failed", SWITCHED_OFF), item(1, "queued")])
    records: list[Record] = []
    follower = tracker(records)

    _, first = follower.poll(as_client(api))
    api.items[1] = item(1, "failed", SWITCHED_OFF)
    _, second = follower.poll(as_client(api))

    assert first is None
    assert second == SWITCHED_OFF
    assert [(r["external_id"], r["status"]) for r in records] == [("x0", "failed"), ("x1", "failed")]
