"""Every knob of the provider simulator, in one mutable dataclass.

Defaults describe a clean, realistic provider: latencies and rate limits from providers.md, no injected
failures (every failure share is 0). Tests and benchmarks switch failures on explicitly, so a run says what
it exercised. Knobs can change at runtime (`PATCH /_sim/config` or `SimulatorServer.configure`); the
handlers read them on every request.

Time: `time_scale` multiplies every simulated latency (0 makes the simulator answer at once). Rate-limit
windows deliberately ignore it and always run on the real monotonic clock: a scaled window of zero length
would disable throttling, which is exactly what a benchmark must not silently lose. Tests use small limits
instead of fast clocks.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args, get_origin

LatencyRange = tuple[float, float]

# Knobs that change the synthetic world itself; changing one regenerates it.
WORLD_KNOBS = frozenset({"seed", "companies", "perplexity_wrong_share", "fixed_date"})


class ConfigError(ValueError):
    """A knob name or value that the simulator cannot accept; `knob` names it for the 400 answer."""

    def __init__(self, knob: str, message: str) -> None:
        super().__init__(f"{knob}: {message}")
        self.knob = knob
        self.message = message


@dataclass
class SimConfig:
    """Knobs of the simulator. Shares are probabilities in [0, 1]; latencies are (min, max) seconds."""

    # --- the synthetic world
    seed: int = 7
    companies: int = 400
    perplexity_wrong_share: float = 0.15
    fixed_date: date | None = None  # None: the real UTC date

    # --- time
    time_scale: float = 1.0
    latency_domain_search: LatencyRange = (0.2, 1.5)
    latency_email_finder: LatencyRange = (0.3, 2.5)
    latency_email_verifier: LatencyRange = (0.5, 4.0)
    latency_email_count: LatencyRange = (0.1, 0.4)
    latency_account: LatencyRange = (0.05, 0.2)
    latency_companies_find: LatencyRange = (0.2, 1.0)
    latency_discover: LatencyRange = (0.3, 1.5)
    latency_before_202: float = 20.0  # Hunter works ~20 s on a verification before answering 202
    latency_perplexity: LatencyRange = (1.0, 3.0)
    latency_perplexity_preset: LatencyRange = (3.0, 8.0)
    schema_first_use_delay: float = 0.0  # providers.md: 10-30 s on a new schema; off by default

    # --- keys
    hunter_api_keys: tuple[str, ...] = ("sim-hunter-key",)
    perplexity_api_keys: tuple[str, ...] = ("sim-pplx-key",)
    accept_any_key: bool = True
    html_401: bool = False

    # --- Hunter billing
    billing_plan: Literal["data_platform", "unified"] = "data_platform"
    free_plan: bool = False
    search_credits: float = 5000.0
    verification_credits: float = 10000.0
    quota_mode: Literal["402", "429"] = "429"
    duplicate_requests_free: bool = True

    # --- Hunter rate limits (per key and endpoint; real time)
    rate_limit_mode: Literal["403", "429"] = "403"
    retry_after: bool = True
    domain_search_rps: int = 15
    domain_search_rpm: int = 500
    email_finder_rps: int = 15
    email_finder_rpm: int = 500
    email_verifier_rps: int = 10
    email_verifier_rpm: int = 300
    email_count_rps: int = 15
    email_count_rpm: int = 500
    companies_find_rps: int = 15  # company enrichment: as most endpoints (providers.md §1.8)
    companies_find_rpm: int = 500
    discover_rps: int = 5
    discover_rpm: int = 50

    # --- Hunter injected failures
    share_202: float = 0.0
    polls_202: int = 2
    # A Retry-After (seconds) on each 202; 0: none, as Hunter sends (the client then suggests its own 15 s).
    # Tests set it to keep a deferral they wait out in real time short.
    retry_after_202: int = 0
    share_222: float = 0.0
    share_unknown: float = 0.0
    share_5xx: float = 0.0
    share_html_5xx: float = 0.5  # of the injected 5xx, the share with an HTML proxy body

    # --- Perplexity
    perplexity_rpm: int = 50
    perplexity_qps: float = 1.0
    perplexity_share_failed: float = 0.0
    perplexity_share_5xx: float = 0.0
    share_fenced: float = 0.0
    share_truncated: float = 0.0
    share_think: float = 0.0
    background_polls: int = 2
    legacy_retired_on: date = field(default_factory=lambda: date(2026, 9, 27))

    def to_json(self) -> dict[str, Any]:
        """The knobs as JSON values (dates as ISO strings, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def checked_changes(self, changes: typing.Mapping[str, object]) -> dict[str, Any]:
        """Validate and coerce `changes` (JSON-ish values) without applying them; raises ConfigError."""
        hints = typing.get_type_hints(SimConfig)
        names = {f.name for f in dataclasses.fields(self)}
        coerced: dict[str, Any] = {}
        for name, raw in changes.items():
            if name not in names:
                raise ConfigError(name, "unknown knob")
            coerced[name] = _coerce(name, hints[name], raw)
        return coerced

    def apply(self, changes: typing.Mapping[str, object]) -> set[str]:
        """Validate all of `changes`, then set them; returns the names whose value changed."""
        coerced = self.checked_changes(changes)
        changed = {name for name, value in coerced.items() if getattr(self, name) != value}
        for name, value in coerced.items():
            setattr(self, name, value)
        return changed

    def copy(self) -> SimConfig:
        return dataclasses.replace(self)


_SHARE_PREFIXES = ("share_", "perplexity_share_")
_NON_NEGATIVE_INTS = {"companies", "polls_202", "retry_after_202", "background_polls"}


def _coerce(name: str, hint: Any, raw: object) -> Any:
    """One knob value from JSON to its declared type, with range checks that keep the simulator sane."""
    value = _coerce_type(name, hint, raw)
    if (name.startswith(_SHARE_PREFIXES) or name == "perplexity_wrong_share") and not 0.0 <= value <= 1.0:
        raise ConfigError(name, "must be between 0 and 1")
    if name in _NON_NEGATIVE_INTS and value < 0:
        raise ConfigError(name, "must not be negative")
    if name.endswith(("_rps", "_rpm", "_qps")) and value <= 0:
        raise ConfigError(name, "must be positive")
    if name in {"time_scale", "latency_before_202", "schema_first_use_delay"} and value < 0:
        raise ConfigError(name, "must not be negative")
    if name in {"search_credits", "verification_credits"} and value < 0:
        raise ConfigError(name, "must not be negative")
    return value


def _coerce_type(name: str, hint: Any, raw: object) -> Any:
    origin = get_origin(hint)
    if hint is bool:
        if not isinstance(raw, bool):
            raise ConfigError(name, "must be a boolean")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(name, "must be an integer")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ConfigError(name, "must be a number")
        return float(raw)
    if hint is date:
        if isinstance(raw, date):
            return raw
        if not isinstance(raw, str):
            raise ConfigError(name, "must be an ISO date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ConfigError(name, "must be an ISO date (YYYY-MM-DD)") from None
    if origin is Literal:
        allowed = get_args(hint)
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if raw not in allowed:
            raise ConfigError(name, f"must be one of {', '.join(map(str, allowed))}")
        return raw
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        inner = [arg for arg in get_args(hint) if arg is not type(None)]
        return _coerce_type(name, inner[0], raw)
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(raw, list | tuple):
            raise ConfigError(name, "must be a list")
        if len(args) == 2 and args[1] is Ellipsis:
            if not all(isinstance(item, str) for item in raw):
                raise ConfigError(name, "must be a list of strings")
            return tuple(raw)
        if len(raw) != len(args):
            raise ConfigError(name, f"must be a list of {len(args)} numbers")
        pair = tuple(_coerce_type(name, arg, item) for arg, item in zip(args, raw, strict=True))
        if any(item < 0 for item in pair) or pair[0] > pair[1]:
            raise ConfigError(name, "must be [min, max] with 0 <= min <= max")
        return pair
    raise ConfigError(name, "cannot be set at runtime")  # pragma: no cover - every field is covered above
