"""The local EventBridge rule: calls the processor every `interval` seconds, one tick at a time.

Unlike EventBridge, a tick that overruns its slot is never overlapped by the next: missed slots collapse
into one tick right after it. The processor tolerates overlap (conditional writes), but locally it would
only make two drains race over one moto backend for no throughput gain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, tick: Callable[[], Any], interval: float) -> None:
        if interval <= 0:
            raise ValueError("the tick interval must be positive")
        self._tick = tick
        self.interval = interval
        self._lock = threading.Lock()  # held for the whole of a tick: manual and scheduled ticks alike
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.errors = 0

    def start(self) -> Scheduler:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="local-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Returns after the tick in progress, if any, has finished: nothing runs on after the stack."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def tick(self) -> Any:
        """Run one tick now (waiting for a running one first); a failing tick is logged, not raised, as
        a Lambda error would be, so the schedule keeps going."""
        with self._lock:
            self.ticks += 1
            try:
                return self._tick()
            except Exception:
                self.errors += 1
                log.exception("processor tick failed")
                return None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No tick starts inside the block (one already running finishes first)."""
        with self._lock:
            yield

    def _loop(self) -> None:
        next_at = (
            time.monotonic() + self.interval
        )  # like a new rate() rule: the first tick is one interval in
        while not self._stopping.wait(max(0.0, next_at - time.monotonic())):
            self.tick()
            next_at = max(next_at + self.interval, time.monotonic())

    def __enter__(self) -> Scheduler:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
