"""Cursors a caller made up are refused as cursors (BadCursor, a 422 naming `query.cursor`), whatever they
hold, never a 500: found while building the audit trail's cursor (a time with no UTC equivalent)."""

from __future__ import annotations

import pytest

from leadenrich.jobs.encoding import BadCursor, after_job, encode_cursor


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"])
def test_a_jobs_cursor_with_a_time_that_is_no_instant_is_refused(at: str) -> None:
    made_up = encode_cursor({"list": "jobs", "ws": "ws1", "at": at, "id": "job_1"})
    with pytest.raises(BadCursor):
        after_job(made_up, "ws1")
