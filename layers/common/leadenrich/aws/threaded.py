"""boto3 calls off the event loop, serialised when the backend is moto.

boto3 is synchronous: each call runs in a worker thread so the processor's other items keep going. moto is
not thread-safe. Its DynamoDB restores a copy of the whole table when a transaction is cancelled, undoing
other threads' writes; its SQS checks that a message is visible and marks it received in two steps, so two
threads receiving at once can both take the same message (two processors then got 61 deliveries of 60
messages). So over moto (`serialize_calls=True`) every adapter takes its service's process-wide lock around
each call. moto's services keep separate state, so DynamoDB, SQS and S3 calls do not wait for each other.
Real AWS needs none of this.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

_T = TypeVar("_T")

EMULATOR_LOCK = threading.Lock()  # moto's DynamoDB: shared by every DynamoDB adapter of the process
SQS_EMULATOR_LOCK = threading.Lock()  # moto's SQS: shared by every SQS queue of the process
S3_EMULATOR_LOCK = threading.Lock()  # moto's S3: shared by every bucket adapter of the process


class ThreadedClient:
    """Base of the boto3 adapters: `await self._call("get_item", ...)`. An adapter of another service than
    DynamoDB names that service's lock in `emulator_lock`."""

    emulator_lock: ClassVar[threading.Lock] = EMULATOR_LOCK

    def __init__(self, client: Any, *, serialize_calls: bool = False) -> None:
        self._client = client
        self._lock: threading.Lock | None = self.emulator_lock if serialize_calls else None

    @property
    def serialized(self) -> bool:
        """Whether calls take the emulator's lock (moto)."""
        return self._lock is not None

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        method = getattr(self._client, operation)
        return await self._run(lambda: method(**kwargs))

    async def _run(self, work: Callable[[], _T]) -> _T:
        """`work` (boto3 calls, and reading what they return: an S3 body) in a worker thread, under the
        emulator's lock when there is one."""
        lock = self._lock
        if lock is None:
            return await asyncio.to_thread(work)

        def locked() -> _T:
            with lock:
                return work()

        return await asyncio.to_thread(locked)
