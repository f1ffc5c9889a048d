"""Per-key throttles on the real monotonic clock: sliding windows for Hunter, token buckets for Perplexity.

Hunter documents requests per second and per minute per key and endpoint (providers.md §1.8): a sliding
window log answers exactly "more than N in the last W seconds". Perplexity describes a continuously
refilling bucket per tier (RPM plus QPS), so it gets two token buckets and reports them in
`X-RateLimit-*` headers. Both ignore `time_scale` on purpose (see config.py).
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


class SlidingWindows:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, str], list[float]] = {}

    def admit(self, bucket: tuple[str, str], limits: Sequence[tuple[int, float]]) -> float | None:
        """Record and admit a request (None), or return the seconds until one of `limits` frees a slot.

        `limits` holds (max requests, window seconds) pairs; refused requests are not recorded.
        """
        now = self._clock()
        hits = self._hits.setdefault(bucket, [])
        longest = max((window for _, window in limits), default=0.0)
        del hits[: bisect.bisect_right(hits, now - longest)]
        wait = 0.0
        for count, window in limits:
            inside = len(hits) - bisect.bisect_right(hits, now - window)
            if inside >= count:
                wait = max(wait, hits[len(hits) - count] + window - now)
        if wait > 0:
            return wait
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()


@dataclass
class _Bucket:
    minute: float
    second: float
    at: float


@dataclass(frozen=True)
class BucketVerdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the next request would be admitted

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


@dataclass
class TokenBuckets:
    clock: Callable[[], float] = time.monotonic
    _state: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, rpm: int, qps: float) -> BucketVerdict:
        now = self.clock()
        burst = max(1.0, qps)
        state = self._state.get(key) or _Bucket(float(rpm), burst, now)
        elapsed = max(0.0, now - state.at)
        state.minute = min(float(rpm), state.minute + elapsed * rpm / 60.0)
        state.second = min(burst, state.second + elapsed * qps)
        state.at = now
        self._state[key] = state
        allowed = state.minute >= 1.0 and state.second >= 1.0
        if allowed:
            state.minute -= 1.0
            state.second -= 1.0
        wait = max(
            (1.0 - state.minute) * 60.0 / rpm if state.minute < 1.0 else 0.0,
            (1.0 - state.second) / qps if state.second < 1.0 else 0.0,
        )
        return BucketVerdict(allowed, rpm, int(state.minute), max(1, math.ceil(wait)) if wait > 0 else 0)

    def reset(self) -> None:
        self._state.clear()
