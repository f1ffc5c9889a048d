"""Everything one running simulator holds: config, world, ledger, throttles, attempt counts and in-flight
work.

One object shared by the route handlers (through `app.state.sim`) and by `SimulatorServer`, so a test can
read the ledger or change a knob while the server thread answers requests.

`reset()` starts a new generation (kept by the ledger). A handler notes the generation when its request
arrives and writes nothing (ledger, 202 countdowns, stored responses) if a reset happened meanwhile, so a
request still in flight from a previous test never charges the fresh ledger.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enrich_tools.simulator.clock import SimClock
from enrich_tools.simulator.config import WORLD_KNOBS, SimConfig
from enrich_tools.simulator.faults import Dice
from enrich_tools.simulator.ledger import Ledger
from enrich_tools.simulator.ratelimit import SlidingWindows, TokenBuckets
from enrich_tools.simulator.world import World


@dataclass
class StoredResponse:
    """An Agent API response kept for `GET /v1/responses/{id}`; `polls_left` counts pending answers."""

    api_key: str
    final: dict[str, Any]
    polls_left: int = 0


@dataclass
class SimState:
    config: SimConfig
    world: World
    ledger: Ledger = field(default_factory=Ledger)
    hunter_windows: SlidingWindows = field(default_factory=SlidingWindows)
    perplexity_buckets: TokenBuckets = field(default_factory=TokenBuckets)
    pending_202: dict[str, int] = field(default_factory=dict)  # email -> 202 answers still to give
    settled_emails: set[str] = field(default_factory=set)  # verifications that already finished
    schemas_seen: set[str] = field(default_factory=set)
    responses: dict[str, StoredResponse] = field(default_factory=dict)
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)  # (endpoint, input) -> requests seen
    clock: SimClock = field(init=False)
    ids: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._reseed()

    @classmethod
    def create(cls, config: SimConfig | None = None, world: World | None = None) -> SimState:
        config = config or SimConfig()
        return cls(config=config, world=world or build_world(config))

    def _reseed(self) -> None:
        self.clock = SimClock(self.config, random.Random(f"latency|{self.config.seed}"))
        self.ids = random.Random(f"ids|{self.config.seed}")

    def reset(self) -> None:
        """Forget usage and in-flight work (ledger, throttles, 202 polls, attempt counts, schema cache) and
        start a new generation; keep the world."""
        self.ledger.reset()
        self.hunter_windows.reset()
        self.perplexity_buckets.reset()
        self.pending_202.clear()
        self.settled_emails.clear()
        self.schemas_seen.clear()
        self.responses.clear()
        self.attempts.clear()
        self._reseed()

    @property
    def generation(self) -> int:
        """Which reset we are in; a handler notes it on arrival (see `wire.counted`)."""
        return self.ledger.generation

    def current(self, generation: int) -> bool:
        """Whether no reset happened since `generation` was noted, i.e. the request may still write."""
        return self.ledger.generation == generation

    def dice(self, endpoint: str, *subject: object) -> Dice:
        """The fault decisions for this request: keyed by its input and its attempt number for that input."""
        text = json.dumps(subject, sort_keys=True, ensure_ascii=False, default=str)
        attempt = self.attempts.get((endpoint, text), 0)
        self.attempts[(endpoint, text)] = attempt + 1
        return Dice(self.config.seed, endpoint, text, attempt)

    def apply_config(self, changes: Mapping[str, object]) -> set[str]:
        """Validate and apply knob changes (ConfigError names a bad knob); rebuild the world if needed."""
        changed = self.config.apply(changes)
        if changed & WORLD_KNOBS:
            self.world = build_world(self.config)
        if "seed" in changed:
            self._reseed()
        return changed

    def replace_config(self, config: SimConfig) -> set[str]:
        return self.apply_config(config.to_json())

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.ids.getrandbits(96):024x}"

    def billing_period(self) -> str:
        return self.clock.today().strftime("%Y-%m")


def build_world(config: SimConfig) -> World:
    as_of = config.fixed_date or datetime.now(UTC).date()
    wrong_share = config.perplexity_wrong_share
    return World.generate(config.seed, config.companies, as_of=as_of, wrong_share=wrong_share)
