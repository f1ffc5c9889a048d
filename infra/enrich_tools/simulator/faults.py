"""Failure injection that replays: one seeded generator, one draw per decision, in request order.

Every decision draws exactly once whatever its probability, so turning one share on does not shift the
outcome of the other decisions for the same request sequence.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Dice:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"faults|{seed}")

    def chance(self, probability: float) -> bool:
        return self._rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        return options[self._rng.randrange(len(options))]

    def fraction(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high)
