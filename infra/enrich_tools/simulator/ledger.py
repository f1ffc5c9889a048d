"""What the simulated providers have served and charged: calls, HTTP statuses, credits and Perplexity cost.

Hunter billing follows providers.md §1.10: Domain Search costs one search credit per 1-10 rows returned
and nothing for zero rows; Email Finder one search credit only when it returns an address; Email Verifier
one verification credit (plan "data_platform") or 0.5 (plan "unified") only for valid, invalid and
accept_all; 202 polls, 222, unknown, webmail and disposable are free; a request repeating an input that was
already charged in the same billing period (calendar month of the simulated date) is free when
`duplicate_requests_free` is on; Email Count and Account are free. Searches and verifications are
separate buckets on both plans. The ledger is thread-safe: the server thread writes, tests read.

`charge_within` checks the quota and charges in one step under the lock, so concurrent requests can never
spend more than is available. `reset()` starts a new generation; every write takes the generation its
request noted on arrival and is dropped when a reset happened since (a late request from before a reset
must not charge the fresh ledger).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Hashable
from typing import Any, Literal

Bucket = Literal["searches", "verifications"]


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._clear()

    def _clear(self) -> None:
        self._calls: Counter[str] = Counter()
        self._statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self._credits: defaultdict[str, float] = defaultdict(float)
        self._used: dict[Bucket, float] = {"searches": 0.0, "verifications": 0.0}
        self._charged_inputs: set[Hashable] = set()
        self._run_statuses: Counter[str] = Counter()
        self._pplx_cost = 0.0
        self._pplx_tokens = [0, 0]

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._clear()

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def _stale(self, generation: int | None) -> bool:
        """Whether a write was noted before the last reset (call with the lock held)."""
        return generation is not None and generation != self._generation

    # --- writes

    def record(self, endpoint: str, status: int, generation: int | None = None) -> None:
        """One answered request; `endpoint` is "<provider>.<name>", e.g. "hunter.email_verifier"."""
        with self._lock:
            if self._stale(generation):
                return
            self._calls[endpoint] += 1
            self._statuses[endpoint][status] += 1

    def already_charged(self, input_key: Hashable) -> bool:
        with self._lock:
            return input_key in self._charged_inputs

    def charge(
        self, endpoint: str, bucket: Bucket, amount: float, input_key: Hashable, generation: int | None = None
    ) -> None:
        if amount <= 0:
            return
        with self._lock:
            if not self._stale(generation):
                self._add_charge(endpoint, bucket, amount, input_key)

    def charge_within(
        self,
        endpoint: str,
        bucket: Bucket,
        amount: float,
        input_key: Hashable,
        *,
        available: float,
        needed: float,
        duplicates_free: bool,
        generation: int | None = None,
    ) -> bool:
        """Charge `amount` if `needed` (at least `amount`) is still available, atomically.

        True when the request may be answered: charged, free as a duplicate of a charged input, or noted
        before a reset (answered without writing). False when the quota refuses it; nothing is charged.
        """
        with self._lock:
            if self._stale(generation):
                return True
            if duplicates_free and input_key in self._charged_inputs:
                return True
            if self._used[bucket] + max(amount, needed) > available + 1e-9:
                return False
            if amount > 0:
                self._add_charge(endpoint, bucket, amount, input_key)
            return True

    def _add_charge(self, endpoint: str, bucket: Bucket, amount: float, input_key: Hashable) -> None:
        self._credits[endpoint] += amount
        self._used[bucket] += amount
        self._charged_inputs.add(input_key)

    def add_perplexity_run(
        self,
        run_status: str,
        cost: float,
        input_tokens: int,
        output_tokens: int,
        generation: int | None = None,
    ) -> None:
        with self._lock:
            if self._stale(generation):
                return
            self._run_statuses[run_status] += 1
            self._pplx_cost += cost
            self._pplx_tokens[0] += input_tokens
            self._pplx_tokens[1] += output_tokens

    # --- reads

    def used(self, bucket: Bucket) -> float:
        with self._lock:
            return self._used[bucket]

    def calls(self, endpoint: str | None = None) -> int:
        """Calls to one endpoint, to a provider ("hunter"), or to everything (None)."""
        with self._lock:
            return sum(n for name, n in self._calls.items() if _selected(name, endpoint))

    def status_count(self, endpoint: str | None, status: int) -> int:
        with self._lock:
            return sum(c[status] for name, c in self._statuses.items() if _selected(name, endpoint))

    def credits(self, endpoint: str | None = None) -> float:
        with self._lock:
            return sum(v for name, v in self._credits.items() if _selected(name, endpoint))

    @property
    def perplexity_cost(self) -> float:
        with self._lock:
            return self._pplx_cost

    def snapshot(self) -> dict[str, Any]:
        """Everything as JSON values: per-endpoint detail plus flat totals for quick reading."""
        with self._lock:
            return {
                "hunter_calls": sum(n for name, n in self._calls.items() if _selected(name, "hunter")),
                "perplexity_calls": sum(
                    n for name, n in self._calls.items() if _selected(name, "perplexity")
                ),
                "credits_search": as_number(self._used["searches"]),
                "credits_verification": as_number(self._used["verifications"]),
                "perplexity_cost_usd": round(self._pplx_cost, 6),
                "calls": dict(self._calls),
                "statuses": {name: {str(k): v for k, v in c.items()} for name, c in self._statuses.items()},
                "credits": {name: as_number(v) for name, v in self._credits.items()},
                "used": {bucket: as_number(v) for bucket, v in self._used.items()},
                "perplexity": {
                    "runs": dict(self._run_statuses),
                    "cost_usd": round(self._pplx_cost, 6),
                    "input_tokens": self._pplx_tokens[0],
                    "output_tokens": self._pplx_tokens[1],
                },
            }


def _selected(name: str, wanted: str | None) -> bool:
    return wanted is None or name == wanted or name.startswith(f"{wanted}.")


def as_number(value: float) -> float | int:
    """Whole credits as ints, half credits as floats (Hunter's own /account does the same)."""
    return int(value) if float(value).is_integer() else value
