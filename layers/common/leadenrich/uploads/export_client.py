"""The caller's side of an export (docs/uploads.md "Exports"): `POST /jobs/{job_id}/exports`, then
`POST /jobs/{job_id}/exports/{export_id}` until the answer is `ready`. For the `enrich` command and scripts:
the HTTP client is theirs (`post(path)` answers the JSON body of a 2xx and raises on anything else, retrying
a 503 if it likes), so this module holds only the loop's rules: follow the export's id, and give up when
several requests in a row could not write a single part (a deployment whose requests are too short).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

MAX_STALLED = 5  # requests in a row that wrote nothing before giving up

Post = Callable[[str], Mapping[str, Any]]


class ExportStalled(RuntimeError):
    """Requests in a row wrote nothing: the deployment's requests are too short for one part."""


def export_path(job_id: str, export_id: str | None = None) -> str:
    """Where to start an export (no id) or continue one."""
    path = f"/jobs/{quote(job_id, safe='')}/exports"
    return f"{path}/{quote(export_id, safe='')}" if export_id else path


def export_until_ready(
    post: Post,
    job_id: str,
    *,
    max_stalled: int = MAX_STALLED,
    on_progress: Callable[[Mapping[str, Any]], None] | None = None,
) -> Mapping[str, Any]:
    """Start an export of the job's results and continue it until it is ready; the ready answer (`url`,
    `rows`, `bytes`...). `on_progress` sees every answer still `writing` (rows so far, for a progress line).
    ExportStalled after `max_stalled` answers in a row that added no row."""
    answer = post(export_path(job_id))
    stalled = 0
    while answer.get("state") != "ready":
        if on_progress is not None:
            on_progress(answer)
        stalled = stalled + 1 if not answer.get("rows_added") else 0
        if stalled >= max_stalled:
            raise ExportStalled(
                f"{stalled} requests in a row wrote nothing of export {answer.get('export_id')} "
                f"({answer.get('rows', 0):,} rows so far): the API's requests are too short for one part"
            )
        answer = post(export_path(job_id, str(answer["export_id"])))
    return answer


__all__ = ["MAX_STALLED", "ExportStalled", "Post", "export_path", "export_until_ready"]
