"""boto3 calls off the event loop, serialised when the backend is moto.

boto3 is synchronous: each call runs in a worker thread so the processor's other items keep going. moto's
DynamoDB is not thread-safe (a cancelled transaction restores a copy of the whole table, undoing other
threads' writes), so over moto every DynamoDB adapter takes one process-wide lock around each call.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

EMULATOR_LOCK = threading.Lock()  # shared by every DynamoDB adapter of the process: one moto backend


class ThreadedClient:
    """Base of the DynamoDB adapters: `await self._call("get_item", ...)`."""

    def __init__(self, client: Any, *, serialize_calls: bool = False) -> None:
        self._client = client
        self._lock: threading.Lock | None = EMULATOR_LOCK if serialize_calls else None

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        method = getattr(self._client, operation)
        lock = self._lock
        if lock is None:
            return await asyncio.to_thread(method, **kwargs)

        def locked() -> Any:
            with lock:
                return method(**kwargs)

        return await asyncio.to_thread(locked)
