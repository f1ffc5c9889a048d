"""Simulated time: scaled latency and the calendar date the providers believe it is.

Latency is scaled by `time_scale` so tests run at full speed; the date is fixed when `fixed_date` is set,
because billing periods, Hunter's "verified within a month" rule and Sonar's retirement all hang on it.
Rate limiting does not use this module: it runs on the real monotonic clock (see config.py).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime

from enrich_tools.simulator.config import LatencyRange, SimConfig


class SimClock:
    """Reads the live config on every call, so a PATCH of `time_scale` or `fixed_date` applies at once."""

    def __init__(self, config: SimConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng

    def use(self, config: SimConfig) -> None:
        self._config = config

    def today(self) -> date:
        return self._config.fixed_date or datetime.now(UTC).date()

    def draw(self, bounds: LatencyRange, cap: float | None = None) -> float:
        """Unscaled latency in seconds from a (min, max) range, optionally capped (Hunter's max_duration)."""
        low, high = bounds
        seconds = self._rng.uniform(low, high)
        return min(seconds, cap) if cap is not None else seconds

    async def sleep(self, seconds: float) -> None:
        scaled = seconds * self._config.time_scale
        if scaled > 0:
            await asyncio.sleep(scaled)
