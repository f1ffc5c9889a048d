"""An async Supabase client whose HTTP requests are recorded (method, path, rows answered), for tests and the
benchmark that count requests and rows per request. The client is the real one (supabase-py over httpx);
only an httpx event hook is added."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from supabase import AsyncClient


@dataclass
class Exchange:
    method: str
    path: str  # e.g. /rest/v1/rpc/enrichable_leads
    rows_sent: int  # JSON array elements in the body's largest array parameter (0 when none)
    rows_answered: int | None = None  # rows of a JSON array answer; None for an object or an error


@dataclass
class RecordingConnect:
    """`Connect` for the Supabase adapters: one client per event loop, every request recorded.

    `on_request` runs before each request is sent (the streaming test counts live objects there)."""

    url: str
    key: str
    exchanges: list[Exchange] = field(default_factory=list)
    on_request: Callable[[], None] | None = None
    _clients: dict[asyncio.AbstractEventLoop, AsyncClient] = field(default_factory=dict)

    async def __call__(self) -> AsyncClient:
        from supabase import AsyncClientOptions, acreate_client

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            http = httpx.AsyncClient(
                timeout=30.0, event_hooks={"request": [self._request], "response": [self._response]}
            )
            client = await acreate_client(self.url, self.key, options=AsyncClientOptions(httpx_client=http))
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.postgrest.aclose()

    def calls(self, function: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith(f"/rpc/{function}")]

    async def _request(self, request: httpx.Request) -> None:
        if self.on_request is not None:
            self.on_request()
        sent = 0
        if request.content:
            body = json.loads(request.content)
            if isinstance(body, dict):
                sent = max((len(v) for v in body.values() if isinstance(v, list)), default=0)
        exchange = Exchange(request.method, request.url.path, sent)
        request.extensions["recorded_exchange"] = exchange
        self.exchanges.append(exchange)

    async def _response(self, response: httpx.Response) -> None:
        await response.aread()
        answer = response.json() if response.content else None
        exchange = response.request.extensions["recorded_exchange"]
        exchange.rows_answered = len(answer) if isinstance(answer, list) and response.is_success else None
