"""Which jobs a store may pause, resume, reschedule or cancel, and whose items it may claim: the job state
rules every `JobStore` applies (as `item_rules` holds the items').

The adapters bind these sets into their own conditional writes (a DynamoDB condition expression, an SQL
`WHERE`), so the three stores agree on every transition; what is refused before any write (an empty pause
reason, a page size out of range) is refused here, with the messages the API shows (`field: reason`).

    pause     pending | running -> paused, with a reason
    resume    paused -> running, or pending when the job never started (`started_at` unset)
    update    options and due time, while pending | running | paused and the due time is the expected one
    cancel    pending | running | paused -> cancelled (the pause reason cleared)
    fail      pending -> failed, `completed_at` set and the due time cleared (its input could not be read)
    claim     an item of a job that is neither cancelled nor paused
    release   the due time cleared, only while it is still the value the caller read
"""

from __future__ import annotations

from datetime import datetime

from leadenrich.jobs.models import JobStatus

PAUSABLE = frozenset({JobStatus.PENDING, JobStatus.RUNNING})
RESUMABLE = JobStatus.PAUSED
UPDATABLE = frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.PAUSED})
CANCELLABLE = UPDATABLE
FAILABLE = JobStatus.PENDING  # a job made from an upload fails while its file is being read, never after
# A claim takes no item of these jobs: a cancelled job's items are skipped, a paused job's wait for resume.
HOLDS_ITEMS = frozenset({JobStatus.CANCELLED, JobStatus.PAUSED})
MAX_REASON_CHARS = 200  # reasons are codes (PAUSED_BY_CALLER, BUDGET_REACHED), never prose or data


def check_reason(reason: str) -> None:
    """A pause reason is a short non-empty code: it is stored on the job and shown by the API."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason: must be a non-empty string")
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"reason: at most {MAX_REASON_CHARS} characters")


def resumed_status(started_at: datetime | None) -> JobStatus:
    """Where a resume takes a paused job: back to running, or to pending if no item ever started it (so
    the first claim still starts it, once)."""
    return JobStatus.RUNNING if started_at is not None else JobStatus.PENDING


__all__ = [
    "CANCELLABLE",
    "FAILABLE",
    "HOLDS_ITEMS",
    "MAX_REASON_CHARS",
    "PAUSABLE",
    "RESUMABLE",
    "UPDATABLE",
    "check_reason",
    "resumed_status",
]
