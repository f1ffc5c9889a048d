"""One shared httpx client per process, and the helpers both provider clients use to read answers.

The client is keyed by event loop: a Lambda that runs `asyncio.run` per invocation gets a fresh loop each
time, and pooled connections must not cross loops. Within one loop every call shares the pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any

import httpx

from leadenrich.deadline import Deadline
from leadenrich.engine.models import Provider
from leadenrich.engine.ports import MIN_CALL_SECONDS
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.redaction import redact_query

_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)

USER_AGENT = "leadenrich/0.1 (+https://github.com/leadenrich)"


class RedactQueryFilter(logging.Filter):
    """httpx logs each request's URL at INFO; ours carry addresses and names in the query: redact them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
            logger.addFilter(RedactQueryFilter())


def shared_http_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            follow_redirects=False,
        )
        _CLIENTS[loop] = client
    return client


async def close_shared_http_client() -> None:
    client = _CLIENTS.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is HTML, empty, truncated or not an object."""
    if not response.content:
        return None
    try:
        parsed = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for these APIs, and a default delay serves as well


TRANSPORT_RETRY_AFTER = 30.0


class ProviderHttp:
    """What both provider clients share: key, base URL, HTTP client, and transport failures classified."""

    provider: Provider
    key_variable: str

    def __init__(self, api_key: str, *, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        if not api_key:
            raise ValueError(f"{self.key_variable} is empty")
        install_log_redaction()
        self._key = api_key
        self._base = base_url.rstrip("/")
        self._http = http

    async def _send(
        self,
        method: str,
        path: str,
        *,
        deadline: Deadline,
        cap: float,
        minimum: float = MIN_CALL_SECONDS,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, bounded by `cap` and by the deadline; cut at the deadline, it is DeadlineReached."""
        seconds = deadline.timeout(cap, minimum=minimum)
        cut_by_deadline = seconds < cap
        http = self._http or shared_http_client()
        try:
            # httpx's timeouts bound each phase and each read separately (a body trickling in a byte at a
            # time never trips them); the outer bound holds the whole exchange to the deadline.
            async with asyncio.timeout(seconds):
                return await http.request(method, self._base + path, timeout=httpx.Timeout(seconds), **kwargs)
        except (httpx.TimeoutException, TimeoutError) as exc:
            if cut_by_deadline:
                raise DeadlineReached(f"{path} cut at the deadline after {seconds:.1f}s", sent=True) from exc
            raise ProviderProblem(
                self.provider, Outcome.TRANSIENT, f"{path} timed out", retry_after=TRANSPORT_RETRY_AFTER
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderProblem(
                self.provider,
                Outcome.TRANSIENT,
                f"{path} transport error: {type(exc).__name__}",
                retry_after=TRANSPORT_RETRY_AFTER,
            ) from exc
