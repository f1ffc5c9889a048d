"""Bounce feedback through the webhook function: `POST /webhooks/{ses|sendgrid|postmark}?workspace=<id>`
(docs/bounces.md). `handle_webhook` sends these providers here after the method and body checks.

1. The workspace the URL names, and its settings: no valid `workspace`, or a workspace that did not set the
   provider up (no SNS topic, SendGrid key or Postmark password), is 404.
2. The provider's own verification with the workspace's material (`leadenrich.webhooks.bounces`): 401
   when it fails (naming the header or field), 400 for a verified body that is not what the provider sends.
3. An SNS subscription confirmation is confirmed (its SubscribeURL fetched: the topic is the workspace's);
   an unsubscription is noted. Nothing is recorded for either.
4. Each event id is recorded once (`EventLog.record_event`, as `{provider}:{workspace}`): a replay has no
   second effect. The new events' effects are applied (`leadenrich.bounces.service`); when that fails,
   their records are removed and the answer is 500, so the provider's retry is handled.

Logs name the provider, the workspace and counts, never an address, a header or the body.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from leadenrich import runtime
from leadenrich.auth.keys import valid_workspace
from leadenrich.http_errors import error_body
from leadenrich.supabase.client import close_supabase_clients
from leadenrich.webhooks.inbound import MalformedEvent

if TYPE_CHECKING:
    from leadenrich.bounces.models import BounceEvent
    from leadenrich.privacy.ports import WorkspaceSettings

logger = Logger(child=True)

BOUNCE_PROVIDERS = frozenset({"ses", "sendgrid", "postmark"})  # `webhooks.bounces.BOUNCE_ADAPTERS`' names
# SendGrid posts its events in batches of up to 768 KB; the other providers' bodies are a few KB.
MAX_BODY_BYTES = 1024 * 1024

Answer = tuple[int, BaseModel | dict[str, Any]]


class BounceFeedback(BaseModel):
    """A sending tool's bounce feedback, received: what was applied, seen before, or not bounce feedback."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["received"]
    provider: str
    applied: int = Field(description="bounces and complaints seen for the first time, and applied")
    duplicates: int = Field(description="events whose id was seen before: nothing more is done")
    ignored: int = Field(description="events that are not bounce feedback (deliveries, opens, ...)")
    subscription: Literal["confirmed", "unconfirmed", "unsubscribed"] | None = Field(
        default=None, description="an SNS subscription to a topic of the workspace's, confirmed (or not)"
    )


def workspace_of(event: dict[str, Any]) -> str | None:
    """The `workspace` query parameter, when it is a workspace id."""
    query = event.get("queryStringParameters") or {}
    workspace = str(query.get("workspace") or "")
    return workspace if valid_workspace(workspace) else None


def _refused(status: int, message: str, field: str | None) -> Answer:
    return status, error_body(message, field)


async def receive(
    provider: str, workspace: str | None, headers: dict[str, str], body: bytes, source_ip: str | None
) -> Answer:
    """The module docstring's steps; the answer's status and body."""
    from leadenrich import runtime_bounces
    from leadenrich.webhooks.bounces import Unverified, bounce_adapter

    not_set_up = f"bounce feedback from {provider} is not set up for this workspace (docs/bounces.md)"
    if workspace is None:
        return _refused(404, not_set_up, "query.workspace")
    try:
        settings = await runtime.workspace_settings().get(workspace)
        adapter = bounce_adapter(provider, settings, runtime_bounces.sns_client())
        if adapter is None:
            return _refused(404, not_set_up, "query.workspace")
        try:
            delivery = await adapter.read(headers, body, time.time())
        except Unverified as exc:
            logger.warning(
                "bounce webhook refused",
                extra={
                    "provider": provider,
                    "workspace_id": workspace,
                    "field": exc.field,
                    "stale": exc.stale,
                },
            )
            return _refused(401, "stale timestamp" if exc.stale else str(exc), exc.field)
        except MalformedEvent as exc:
            return _refused(400, str(exc), exc.field)
        answer = BounceFeedback(status="received", provider=provider, applied=0, duplicates=0, ignored=0)
        if delivery.subscribe_url is not None:
            confirmed = await runtime_bounces.sns_client().confirm(delivery.subscribe_url)
            logger.info("sns subscription", extra={"workspace_id": workspace, "confirmed": confirmed})
            answer.subscription = "confirmed" if confirmed else "unconfirmed"
            return 200, answer
        if delivery.unsubscribed:
            logger.info("sns unsubscription", extra={"workspace_id": workspace})
            answer.subscription = "unsubscribed"
            return 200, answer
        answer.ignored = delivery.ignored
        answer.applied, answer.duplicates = await _record_and_apply(
            provider, workspace, delivery.by_event_id(), settings, source_ip
        )
    finally:
        await close_supabase_clients()
    logger.info(
        "bounce webhook accepted",
        extra={
            "provider": provider,
            "workspace_id": workspace,
            "applied": answer.applied,
            "duplicates": answer.duplicates,
            "ignored": answer.ignored,
        },
    )
    return 200, answer


async def _record_and_apply(
    provider: str,
    workspace: str,
    grouped: dict[str, list[BounceEvent]],
    settings: WorkspaceSettings,
    source_ip: str | None,
) -> tuple[int, int]:
    """(events applied, events seen before)."""
    from leadenrich import runtime_bounces

    log = runtime.webhooks().log
    recorded_as = f"{provider}:{workspace}"  # a provider's ids are unique per account, not across them
    recorded: list[str] = []
    new: list[BounceEvent] = []
    duplicates = 0
    for event_id, events in grouped.items():
        kinds = ",".join(sorted({e.kind.value for e in events}))
        summary = {"type": f"bounce.{kinds}", "workspace_id": workspace}
        if await log.record_event(recorded_as, event_id, summary):
            recorded.append(event_id)
            new += events
        else:
            duplicates += len(events)
    if not new:
        return 0, duplicates
    try:
        await runtime_bounces.bounce_service().apply(workspace, provider, new, settings, source_ip=source_ip)
    except Exception:
        for event_id in recorded:  # not applied: the provider's retry must not be taken for a replay
            await log.forget_event(recorded_as, event_id)
        raise
    return len(new), duplicates


__all__ = ["BOUNCE_PROVIDERS", "MAX_BODY_BYTES", "BounceFeedback", "receive", "workspace_of"]
