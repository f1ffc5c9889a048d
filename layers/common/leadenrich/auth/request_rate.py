"""The per-workspace request rate of the API: one workspace cannot take the whole stage's throttle.

API Gateway throttles the stage as a whole (25 requests a second, bursts of 50); an HTTP API has no usage
plans and no per-client throttle. So each workspace gets a token bucket of its own: `per_second` tokens
refilled a second, `burst` held, one taken per request to a keyed route. A request that finds the bucket
empty takes nothing (a caller that keeps retrying does not push its own schedule back) and raises
`RequestRateExceeded`: the API answers 429 with `Retry-After` = the seconds until a token is back.

The bucket is the provider rate limiter's GCRA (`leadenrich.engine.ratelimit.reserve`, its minute bucket
with no spacing), kept by the same adapters (`aws.dynamo_limiter` in the shared table, `sqlite.limiter` in
the embedded file) under the key `API#{workspace}`: every API process reads and writes one row per
workspace, so the limit holds however many Lambda instances serve it.

The Lambda authorizer cannot do this: API Gateway caches its answer per key for 300 s, so it sees at most
one request in five minutes per key, and it can only allow or refuse (403), not say when to come back.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadenrich.settings_errors import SettingsError

if TYPE_CHECKING:
    from leadenrich.engine.ratelimit import Limit

DEFAULT_PER_SECOND = 10.0
DEFAULT_BURST = 20


def bucket_key(workspace_id: str) -> str:
    """The limiter key of a workspace's requests (a row `RATE#API#{workspace}` in the table)."""
    return f"API#{workspace_id}"


class RequestRateSettings(BaseModel):
    """WORKSPACE_REQUESTS_PER_SECOND (0 turns the limit off) and WORKSPACE_REQUEST_BURST."""

    model_config = ConfigDict(frozen=True)

    workspace_requests_per_second: float = Field(default=DEFAULT_PER_SECOND, ge=0, allow_inf_nan=False)
    workspace_request_burst: int = Field(default=DEFAULT_BURST, ge=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RequestRateSettings:
        """From the environment; a SettingsError names the variable that is wrong."""
        env = os.environ if env is None else env
        names = {field: field.upper() for field in cls.model_fields}
        values = {field: env[var] for field, var in names.items() if env.get(var)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise SettingsError(f"{names[str(first['loc'][0])]}: {first['msg']}") from None

    @property
    def off(self) -> bool:
        return self.workspace_requests_per_second == 0

    @property
    def limit(self) -> Limit:
        """The bucket as the limiters' model: no spacing between requests (a client's parallel requests are
        fine), the minute bucket refilled at the rate and holding the burst."""
        from leadenrich.engine.ratelimit import Limit

        per_second = self.workspace_requests_per_second
        return Limit(per_second=math.inf, per_minute=60 * per_second, burst=self.workspace_request_burst)


class RequestRateExceeded(Exception):
    """The workspace's bucket is empty; `retry_after_seconds` (at least 1) until a token is back."""

    def __init__(self, per_second: float, burst: int, retry_after_seconds: int) -> None:
        super().__init__(
            f"request rate exceeded: a workspace may send {per_second:g} requests a second to the API "
            f"(bursts of {burst}); retry in {retry_after_seconds} s"
        )
        self.per_second = per_second
        self.burst = burst
        self.retry_after_seconds = retry_after_seconds


class RequestBuckets(Protocol):
    async def take(self, key: str, limit: Limit) -> float:
        """Take one token of `key`'s bucket now: 0.0 when taken; otherwise nothing is taken and the answer
        is the seconds until one is back."""
        ...


class WorkspaceRequestRate:
    """What the API asks before a keyed route runs."""

    def __init__(self, buckets: RequestBuckets, settings: RequestRateSettings) -> None:
        self._buckets = buckets
        self.settings = settings
        self._limit = settings.limit

    async def admit(self, workspace_id: str) -> None:
        """Take one request from the workspace's bucket; RequestRateExceeded (nothing taken) when empty."""
        wait = await self._buckets.take(bucket_key(workspace_id), self._limit)
        if wait > 0:
            s = self.settings
            retry_after = max(1, math.ceil(wait))
            raise RequestRateExceeded(s.workspace_requests_per_second, s.workspace_request_burst, retry_after)


__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_PER_SECOND",
    "RequestBuckets",
    "RequestRateExceeded",
    "RequestRateSettings",
    "WorkspaceRequestRate",
    "bucket_key",
]
