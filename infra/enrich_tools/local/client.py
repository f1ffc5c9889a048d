"""A small synchronous client for the jobs API, local or deployed: the `enrich jobs` commands use it.

Errors keep the API's own message and field, so the command line can show what the server said.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from enrich_tools.local.providers import SIMULATED_HEADER

API_KEY_HEADER = "X-API-Key"


class ApiError(RuntimeError):
    """The API answered with an error status, or could not be reached (status 0)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        where = f" ({field})" if field else ""
        super().__init__(f"{status} {message}{where}" if status else message)
        self.status = status
        self.message = message
        self.field = field


def _error_text(response: httpx.Response) -> str:
    """What a refused PUT says: S3's XML `<Message>`, the error model's `message`, or the status's name."""
    text = response.text
    if "<Message>" in text:
        return text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason_phrase or "error"


class ApiClient:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self.simulated = False  # set once any response says it came from simulated providers

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, f"cannot reach the API at {self.base_url}: {exc}") from exc
        if response.headers.get(SIMULATED_HEADER, "").lower() == "true":
            self.simulated = True
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error:
            detail = body if isinstance(body, dict) else {}
            message = str(detail.get("message") or response.reason_phrase or "error")
            raise ApiError(response.status_code, message, detail.get("field"))
        return body

    def create_job(
        self,
        leads: Sequence[dict[str, str]],
        tags: Sequence[str] = (),
        idempotency_key: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """POST /jobs with inline leads; `options` are more body fields (skip_existing, ...). With an
        idempotency key, a job made with that key before is returned instead of a new one."""
        body: dict[str, Any] = {"leads": list(leads)} | options
        if tags:
            body["tags"] = list(tags)
        return self.post_job(body, idempotency_key)

    def post_job(self, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /jobs with any body: the job (202, or 200 for a replayed idempotency key), or the counts
        of a dry run (200)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer: dict[str, Any] = self._call("POST", "/jobs", json=body, headers=headers)
        return answer

    def create_upload(self, size_bytes: int, filename: str, content_type: str) -> dict[str, Any]:
        """POST /uploads: where to PUT a file of `size_bytes` (`upload_id`, `url`, the `headers` to send)."""
        body = {"size_bytes": size_bytes, "filename": filename, "content_type": content_type}
        answer: dict[str, Any] = self._call("POST", "/uploads", json=body)
        return answer

    def put_file(self, url: str, headers: dict[str, str], path: Path, chunk_bytes: int = 1 << 20) -> None:
        """PUT the file at `path` to a presigned URL (S3's, or the local gateway's `/_blobs/`) with exactly
        the `headers` it was signed with, streamed a chunk at a time. The URL is its own credential: the
        API key is not sent."""

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as source:
                while chunk := source.read(chunk_bytes):
                    yield chunk

        try:
            with httpx.Client(timeout=self._http.timeout) as http:
                response = http.put(url, content=chunks(), headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(0, f"cannot upload the file: {exc}") from exc
        if response.is_error:
            raise ApiError(response.status_code, f"the upload was refused: {_error_text(response)}")

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", "/stats")
        return answer

    def get_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._call("GET", f"/jobs/{job_id}")
        return job

    def list_jobs(
        self, status: str | None = None, tag: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        params = {"status": status, "tag": tag, "limit": limit, "cursor": cursor}
        page: dict[str, Any] = self._call(
            "GET", "/jobs", params={k: v for k, v in params.items() if v is not None}
        )
        return page

    def list_items(
        self, job_id: str, *, limit: int = 1000, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """One page of a job's items, in input order."""
        params = {"limit": limit, "cursor": cursor, "status": status}
        page: dict[str, Any] = self._call(
            "GET", f"/jobs/{job_id}/items", params={k: v for k, v in params.items() if v is not None}
        )
        return page

    def iter_items(self, job_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every item of a job, in input order, across pages."""
        from enrich_tools.local.follow import all_items

        return all_items(self, job_id, page_size)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._call("DELETE", f"/jobs/{job_id}")
        return job

    def retry_job(self, job_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", f"/jobs/{job_id}/retry")
        return answer

    def redrive(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "/dlq/redrive")
        return answer

    def update_job(self, job_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """PATCH /jobs/{id}: the fields given change (priority, run_at, caps, webhook_url, tags, paused)."""
        job: dict[str, Any] = self._call("PATCH", f"/jobs/{job_id}", json=changes)
        return job

    def bulk(self, job_ids: Sequence[str], action: str) -> dict[str, Any]:
        """POST /jobs/bulk: one action on many jobs, one result each."""
        answer: dict[str, Any] = self._call(
            "POST", "/jobs/bulk", json={"job_ids": list(job_ids), "action": action}
        )
        return answer

    # --- the lead buffer and person enrichment (docs/buffer.md, docs/enrich.md) ----------------------------

    def buffer(
        self, method: str, path: str, body: dict[str, Any] | None = None, **query: str
    ) -> dict[str, Any]:
        """One of the buffer's routes (`/buffer/push`, `/buffer/next`, `/leads`, `/cursor/{namespace}`) or
        `POST /enrich`: its JSON answer."""
        params = {name: value for name, value in query.items() if value}
        answer: dict[str, Any] = self._call(method, path, json=body, params=params or None)
        return answer
