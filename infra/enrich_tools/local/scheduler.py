"""The local EventBridge rule: calls the processor, one run at a time.

Two ways to fire it:
- every `interval` seconds, as `rate(1 minute)` does deployed (`enrich local up --tick S`): a run that
  overruns its slot is never overlapped by the next; missed slots collapse into one run right after it;
- back to back while work is due (`interval` None, the local default): after each run the scheduler asks
  `due()` how many seconds until a message becomes visible, runs again at once when one is, sleeps until
  it is otherwise, and looks again every `POLL_SECONDS` for work that an API call just enqueued. Each run
  is still one invocation with its own budget, so the processor's code path is the deployed one; only the
  idle time between runs is gone. A run every `IDLE_TICK_SECONDS` still happens without work, for the
  callbacks whose retry is due.

The processor tolerates overlap (conditional writes), but locally two runs would only race over one file
for no throughput gain, so runs never overlap.
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

POLL_SECONDS = 0.2  # how soon work enqueued by the API is noticed when idle
IDLE_TICK_SECONDS = 60.0  # a run without work now and then: callbacks' retries come due too
BACKOFF_SECONDS = 1.0  # after a run that failed or found nothing it was told was due: no busy loop


class Scheduler:
    def __init__(
        self,
        tick: Callable[[], Any],
        interval: float | None,
        due: Callable[[], float | None] | None = None,
    ) -> None:
        if interval is not None and interval <= 0:
            raise ValueError("the tick interval must be positive")
        if interval is None and due is None:
            raise ValueError("back-to-back runs need a `due` function")
        self._tick = tick
        self.interval = interval
        self._due = due
        self._lock = threading.Lock()  # held for the whole of a run: manual and scheduled runs alike
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.errors = 0

    def start(self) -> Scheduler:
        if self._thread is None:
            self._stopping.clear()
            loop = self._periodic if self.interval is not None else self._eager
            self._thread = threading.Thread(target=loop, name="local-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Returns after the run in progress, if any, has finished: nothing runs on after the stack."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def tick(self) -> Any:
        """Run once now (waiting for a running one first); a failing run is logged, not raised, as a
        Lambda error would be, so the schedule keeps going. None when it failed."""
        with self._lock:
            self.ticks += 1
            try:
                return self._tick()
            except Exception:
                self.errors += 1
                log.exception("processor run failed")
                return None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No run starts inside the block (one already running finishes first)."""
        with self._lock:
            yield

    def _periodic(self) -> None:
        assert self.interval is not None
        next_at = time.monotonic() + self.interval  # like a new rate() rule: the first run one interval in
        while not self._stopping.wait(max(0.0, next_at - time.monotonic())):
            self.tick()
            next_at = max(next_at + self.interval, time.monotonic())

    def _eager(self) -> None:
        assert self._due is not None
        idle_at = time.monotonic() + IDLE_TICK_SECONDS
        while not self._stopping.is_set():
            try:
                wait = self._due()
            except Exception:
                log.exception("cannot read the queue's next due time")
                wait = None
            if (wait is not None and wait <= 0) or time.monotonic() >= idle_at:
                summary = self.tick()
                idle_at = time.monotonic() + IDLE_TICK_SECONDS
                if summary is None or not summary.get("received"):
                    self._stopping.wait(BACKOFF_SECONDS if wait is not None and wait <= 0 else 0)
                continue
            pause = POLL_SECONDS if wait is None else min(POLL_SECONDS, wait)
            self._stopping.wait(pause)

    def __enter__(self) -> Scheduler:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
