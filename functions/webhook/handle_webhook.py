"""Webhook Lambda: `POST /webhooks/{provider}`, no API key: the provider's signature is the credential.

1. The provider's adapter (`leadenrich.webhooks.inbound.ADAPTERS`) and its secret: unknown or
   unconfigured provider 404.
2. The raw body (base64-decoded when API Gateway encoded it) verified with the timestamp tolerance: a bad or
   missing signature 401, a stale timestamp 401.
3. The event parsed (400 when malformed or nested past `leadenrich.jsonguard.MAX_DEPTH`; the body is at
   most `MAX_BODY_BYTES`, else 413) and recorded once by (provider, event id), a conditional put: a
   replay answers 200 and does nothing more.
4. Routed to the item it names (a deferred item runs now); when routing fails the record is removed and the
   answer is 500 (in the error body, the details in the log only), so the provider's retry is handled,
   not taken for a replay.
The sending tools' bounce feedback (`ses`, `sendgrid`, `postmark`) takes its own path after the method
check: `webhook_bounces` (per-workspace verification, then the bounce's effects; docs/bounces.md).
Logs name the provider, the event type and ids, never the body (it may carry addresses) or a secret.
Errors carry the API's one error body, `{"message", "field", "errors"}` (`leadenrich.http_errors`).

The answers are built from `Accepted`, `Duplicate` and `webhook_bounces.BounceFeedback`, and `document`
declares the route with them for `docs/openapi.json` (`enrich_tools.openapi` merges it into the API's
document), so the two cannot drift.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

import webhook_bounces
from leadenrich import runtime
from leadenrich.http_errors import ErrorBody, GatewayError, error_body
from leadenrich.lambda_logging import route_package_logs
from leadenrich.supabase.client import close_supabase_clients
from leadenrich.webhooks.inbound import EventRouter, InboundEvent, MalformedEvent, adapter_for
from leadenrich.webhooks.signing import SignatureError, StaleTimestamp

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger = Logger()
route_package_logs(logger)  # the package's log lines, with their `extra=` context, as this logger's JSON

MAX_BODY_BYTES = 256 * 1024


class Accepted(BaseModel):
    """The event is recorded and was routed (or found nothing to route to)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["accepted"]
    event_id: str
    routed: str = Field(
        description="resumed (a deferred or queued item runs now), unrouted (names no item), unknown item, "
        "or `item <status>: nothing to resume`"
    )


class Duplicate(BaseModel):
    """The event id was seen before: nothing more is done."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["duplicate"]
    event_id: str


def _answer(
    status: int, body: BaseModel | dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body.model_dump(mode="json") if isinstance(body, BaseModel) else body),
        "isBase64Encoded": False,
    }


def _refuse(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return _answer(status, error_body(message, field), headers)


def _provider(event: dict[str, Any]) -> str:
    """From the route's path parameter; the local gateway's catch-all route gives the raw path only."""
    params = event.get("pathParameters") or {}
    if params.get("provider"):
        return str(params["provider"])
    path = str(event.get("rawPath") or "")
    prefix = "/webhooks/"
    return path[len(prefix) :].strip("/") if path.startswith(prefix) else ""


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return str(body).encode("utf-8")


async def _record_and_route(provider: str, parsed: InboundEvent) -> dict[str, Any]:
    try:
        hooks = runtime.webhooks()
        if not await hooks.log.record_event(provider, parsed.event_id, parsed.summary()):
            logger.info("webhook replayed", extra={"provider": provider, "event_id": parsed.event_id})
            return _answer(200, Duplicate(status="duplicate", event_id=parsed.event_id))
        service = runtime.job_service()
        try:
            routed = await EventRouter(service.store, service.queue).route(parsed)
        except Exception:
            await hooks.log.forget_event(provider, parsed.event_id)
            raise
    finally:
        await close_supabase_clients()
    logger.info(
        "webhook accepted",
        extra={"provider": provider, "event_id": parsed.event_id, "type": parsed.type, "routed": routed},
    )
    return _answer(200, Accepted(status="accepted", event_id=parsed.event_id, routed=routed))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return _handle(event)
    except Exception as exc:
        # The event was not recorded (or its record was removed): the provider's retry will be handled.
        logger.exception("webhook failed", extra={"error": type(exc).__name__})
        return _refuse(500, "internal error: the event was not processed; retry it later")


def _bounce(provider: str, event: dict[str, Any]) -> dict[str, Any]:
    """A sending tool's bounce feedback (`webhook_bounces`), for the workspace the URL names."""
    try:
        body = _raw_body(event)
    except (binascii.Error, ValueError):
        return _refuse(400, "body: not valid base64", "body")
    if len(body) > webhook_bounces.MAX_BODY_BYTES:
        return _refuse(413, f"body: larger than {webhook_bounces.MAX_BODY_BYTES // 1024} KB", "body")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    source_ip = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    workspace = webhook_bounces.workspace_of(event)
    status, answer = asyncio.run(webhook_bounces.receive(provider, workspace, headers, body, source_ip))
    return _answer(status, answer)


def _handle(event: dict[str, Any]) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "POST")
    if method != "POST":
        return _refuse(405, "use POST", headers={"Allow": "POST"})
    provider = _provider(event)
    if provider in webhook_bounces.BOUNCE_PROVIDERS:
        return _bounce(provider, event)
    adapter = adapter_for(provider, runtime.webhooks().settings.provider_secrets)
    if adapter is None:
        return _refuse(404, "unknown webhook provider")
    try:
        body = _raw_body(event)
    except (binascii.Error, ValueError):
        return _refuse(400, "body: not valid base64", "body")
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, f"body: larger than {MAX_BODY_BYTES // 1024} KB", "body")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        adapter.verify(headers, body, time.time())
    except StaleTimestamp:
        logger.warning("webhook refused: stale timestamp", extra={"provider": provider})
        return _refuse(401, "stale timestamp", "header.webhook-timestamp")
    except SignatureError:
        logger.warning("webhook refused: bad signature", extra={"provider": provider})
        return _refuse(401, "invalid signature", "header.webhook-signature")
    try:
        parsed = adapter.parse(headers, body)
    except MalformedEvent as exc:
        return _refuse(400, str(exc), exc.field)
    return asyncio.run(_record_and_route(provider, parsed))


def document(resolver: APIGatewayHttpResolver) -> None:
    """Declare this function's route on `resolver`, for the OpenAPI document only (it never serves it)."""
    from aws_lambda_powertools.event_handler.openapi.models import Example
    from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

    def error(description: str) -> OpenAPIResponse:
        return {"description": description, "content": {"application/json": {"model": ErrorBody}}}

    route = resolver.post(
        "/webhooks/<provider>",
        operation_id="receiveWebhook",
        tags=["webhooks"],
        description="An event from a provider (or a proxy polling one), signed the Standard Webhooks way; or "
        "a sending tool's bounce feedback (`ses`, `sendgrid`, `postmark`) for the workspace `workspace` "
        "names, verified the way that tool documents with what the workspace's settings hold "
        "(docs/bounces.md). No API key: the provider's signature is the credential (docs/webhooks.md).",
        responses={
            200: {
                "description": "Recorded once by (provider, event id); a replay is `duplicate`, no effect",
                "content": {
                    "application/json": {"model": Accepted | Duplicate | webhook_bounces.BounceFeedback}
                },
            },
            400: error("The body is not valid base64, or not an event this provider's adapter reads"),
            401: error(
                "Missing or wrong signature, or a timestamp too far away (5 minutes; a day for bounce "
                "feedback, the providers' retry window); an SNS topic the workspace did not list"
            ),
            404: error(
                "Unknown provider, or one without a secret; for bounce feedback, no `workspace`, or a "
                "workspace that did not set the provider up"
            ),
            413: error(
                f"The body is larger than {MAX_BODY_BYTES // 1024} KB "
                f"({webhook_bounces.MAX_BODY_BYTES // 1024} KB for bounce feedback)"
            ),
            429: {
                "description": 'Throttled by API Gateway: `{"message": "Too Many Requests"}`',
                "content": {"application/json": {"model": GatewayError}},
            },
            500: {
                "description": "Routing failed: the event is not recorded, so the provider's retry is "
                'handled; or API Gateway\'s `{"message": "Internal Server Error"}` when the function failed',
                "content": {"application/json": {"model": GatewayError | ErrorBody}},
            },
        },
    )

    def receive_webhook(
        provider: str,
        event: dict[str, Any],
        workspace: str | None = None,
        webhook_id: str | None = None,
        webhook_timestamp: str | None = None,
        webhook_signature: str | None = None,
    ) -> None:
        raise NotImplementedError("documentation only: handler() serves this route")

    # The parameters' OpenAPI declarations, as objects: this module's annotations are strings, and Powertools'
    # parameter classes are imported here only, so that the function's cold start does not pay for them.
    receive_webhook.__annotations__ = {
        "provider": Annotated[
            str,
            Path(
                description="the adapter that verifies and reads the event: `standard`, or a sending "
                "tool's bounce feedback (`ses`, `sendgrid`, `postmark`)",
                openapi_examples={
                    "standard": Example(summary="Standard Webhooks", value="standard"),
                    "ses": Example(summary="Amazon SES bounces and complaints, over SNS", value="ses"),
                },
            ),
        ],
        "workspace": Annotated[
            str | None,
            Query(
                description="bounce feedback only: the workspace whose settings set the provider up",
                max_length=64,
            ),
        ],
        "event": Annotated[dict[str, Any], Body(description="the provider's event, as it signed it")],
        "webhook_id": Annotated[str | None, Header(alias="webhook-id", description="the event id")],
        "webhook_timestamp": Annotated[
            str | None, Header(alias="webhook-timestamp", description="seconds since the epoch")
        ],
        "webhook_signature": Annotated[
            str | None, Header(alias="webhook-signature", description="v1,<base64 HMAC-SHA256>")
        ],
        "return": None,
    }
    route(receive_webhook)
