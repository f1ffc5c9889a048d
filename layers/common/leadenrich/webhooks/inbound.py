"""Provider webhooks in: a registry of adapters (name -> verify the signature, parse the event), and the
router that takes an event to the items it concerns.

No provider we call sends webhooks today (Hunter has none for verification or finder results, Perplexity
none for either API: `docs/webhooks.md`), so the one adapter shipped is `standard`: events signed the
Standard Webhooks way, for a proxy that polls a provider, or for a future provider that signs that way.

Adding a provider is one adapter class and one line in `ADAPTERS`:

    class AcmeAdapter:
        name = "acme"
        def __init__(self, secret: str) -> None: ...
        def verify(self, headers, body, now) -> None: ...   # raise SignatureError / StaleTimestamp
        def parse(self, headers, body) -> InboundEvent: ...  # raise MalformedEvent

and the provider's secret under its name in WEBHOOK_PROVIDER_SECRETS. A provider without a secret is not
served (404), so a half-configured adapter can never accept unsigned events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from leadenrich import jsonguard
from leadenrich.jobs.models import ItemStatus, WorkMessage
from leadenrich.jobs.ports import JobStore, WorkQueue
from leadenrich.webhooks import signing

_ID_MAX = 128


class MalformedEvent(ValueError):
    """A verified body that is not an event this adapter understands (400); names the field only, as the
    API's error model does (`field`: `body`, `body.data.job_id`, `header.webhook-id`...), never a value."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InboundEvent:
    """What an adapter makes of a provider's event. It names what it concerns: a workspace, job and item
    (a result for work we asked for), or an address (a result about an email); `data` is the rest."""

    event_id: str
    type: str
    workspace_id: str | None = None
    job_id: str | None = None
    item_id: str | None = None
    email: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, str]:
        """What is recorded: no address, no payload."""
        named = {"type": self.type, "workspace_id": self.workspace_id, "job_id": self.job_id}
        return {k: v for k, v in {**named, "item_id": self.item_id}.items() if v}


class ProviderAdapter(Protocol):
    name: str

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Raise signing.SignatureError (or StaleTimestamp) unless the raw body is signed by the provider."""
        ...

    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent: ...


def _text(value: object, name: str, field: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= _ID_MAX:
        raise MalformedEvent(f"{name}: expected a string of 1-{_ID_MAX} characters", field)
    return value


class StandardAdapter:
    """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` over the raw body.

    Body: `{"type": "...", "data": {"workspace_id": ..., "job_id": ..., "item_id": ..., "email": ...}}`; the
    event id is the `webhook-id` header (what the signature covers)."""

    name = "standard"

    def __init__(self, secret: str, tolerance: int = signing.DEFAULT_TOLERANCE_SECONDS) -> None:
        signing.secret_key(secret)  # malformed secrets fail at start, naming no value
        self._secret = secret
        self._tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        signing.verify(self._secret, headers, body, now=now, tolerance=self._tolerance)

    def parse(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        try:
            payload = jsonguard.loads(body)  # nesting limited before parsing: never a RecursionError
        except jsonguard.JsonTooDeep as exc:
            raise MalformedEvent(f"body: {exc}") from None
        except ValueError:
            raise MalformedEvent("body: not JSON") from None
        if not isinstance(payload, dict):
            raise MalformedEvent("body: expected a JSON object")
        data = payload.get("data") or {}
        if not isinstance(data, dict):
            raise MalformedEvent("data: expected an object", "body.data")
        return InboundEvent(
            event_id=_text(headers.get("webhook-id"), "webhook-id", "header.webhook-id", required=True) or "",
            type=_text(payload.get("type"), "type", "body.type", required=True) or "",
            workspace_id=_text(data.get("workspace_id"), "data.workspace_id", "body.data.workspace_id"),
            job_id=_text(data.get("job_id"), "data.job_id", "body.data.job_id"),
            item_id=_text(data.get("item_id"), "data.item_id", "body.data.item_id"),
            email=_text(data.get("email"), "data.email", "body.data.email"),
            data={k: v for k, v in data.items() if k not in ("workspace_id", "job_id", "item_id", "email")},
        )


# name -> factory from the provider's secret
ADAPTERS: dict[str, Callable[[str], ProviderAdapter]] = {"standard": StandardAdapter}


def adapter_for(provider: str, secrets: Mapping[str, str]) -> ProviderAdapter | None:
    """The provider's adapter, or None when it is unknown or has no secret configured (both 404)."""
    factory = ADAPTERS.get(provider)
    secret = secrets.get(provider)
    if factory is None or not secret:
        return None
    return factory(secret)


class EventRouter:
    """Takes a recorded event to the item it names. Today's route: an event for a deferred (or queued)
    item makes it run now: a fresh message for the item is sent, and the processor's conditional claim
    makes the older, still-delayed message a harmless duplicate. Events naming only an address, or an
    item that is running or finished, are recorded and not routed."""

    def __init__(self, store: JobStore, queue: WorkQueue) -> None:
        self.store = store
        self.queue = queue

    async def route(self, event: InboundEvent) -> str:
        if not (event.workspace_id and event.job_id and event.item_id):
            return "unrouted"
        item = await self.store.get_item(event.workspace_id, event.job_id, event.item_id)
        if item is None:
            return "unknown item"
        if item.status not in (ItemStatus.DEFERRED, ItemStatus.QUEUED):
            return f"item {item.status.value}: nothing to resume"
        job = await self.store.get_job(item.workspace_id, item.job_id)  # its priority: the band to send to
        if job is None:
            return "unknown item"
        await self.queue.send([WorkMessage.for_item(job, item.item_id)])
        return "resumed"
