"""Failure injection that replays per input, whatever the order or concurrency of the requests.

Every decision (a 5xx, a 202, a fenced answer...) draws from its own generator seeded by the world's seed,
the decision's name, the endpoint, the request's input and the attempt number for that input (the k-th
request for the same input draws anew, so a retried 5xx or 222 can succeed later). So:
- the same set of requests gets the same outcome per input sent one by one, shuffled or concurrently;
- turning one share on does not move the outcome of another decision;
- two strategies asking about the same address face the same faults on their k-th call about it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from enrich_tools.simulator.domains import stable_rng

T = TypeVar("T")


class Dice:
    """The fault decisions of one request: `(seed, endpoint, subject, attempt)` plus each decision's name."""

    def __init__(self, seed: int, endpoint: str, subject: str, attempt: int) -> None:
        self._key = (seed, endpoint, subject, attempt)

    def _rng(self, decision: str) -> random.Random:
        seed, endpoint, subject, attempt = self._key
        return stable_rng("faults", seed, decision, endpoint, attempt, subject)

    def chance(self, decision: str, probability: float) -> bool:
        return self._rng(decision).random() < probability

    def pick(self, decision: str, options: Sequence[T]) -> T:
        return options[self._rng(decision).randrange(len(options))]

    def fraction(self, decision: str, low: float, high: float) -> float:
        return self._rng(decision).uniform(low, high)
