"""A point in time by which work must stop; every provider call's timeout is bounded by it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from leadenrich.engine.providers.outcomes import DeadlineReached


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def unbounded(cls) -> Deadline:
        return cls(float("inf"))

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def timeout(self, cap: float, *, minimum: float = 0.5) -> float:
        """The timeout for one call: at most `cap`, never past the deadline.

        Raises DeadlineReached when less than `minimum` seconds are left, because a call that cannot
        finish would only waste a paid request.
        """
        left = self.remaining()
        if left < minimum:
            raise DeadlineReached(f"{max(left, 0.0):.2f}s left, need {minimum:.2f}s")
        return min(cap, left)
