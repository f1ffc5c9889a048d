"""The webhook services as the handlers use them, from the environment (with APP_SECRET_ARN's values).

- ALLOW_LOCAL_WEBHOOKS: true only in the local stack and tests; allows http callbacks and loopback
  addresses (nothing else: private and metadata addresses stay refused). Unset in AWS.
- WEBHOOK_SIGNING_SECRETS: `{"<workspace>": "whsec_..."}` signs each workspace's callbacks (`*`: any).
- WEBHOOK_PROVIDER_SECRETS: `{"<provider>": "whsec_..."}` verifies inbound provider webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from leadenrich.settings_errors import SettingsError
from leadenrich.webhooks import signing
from leadenrich.webhooks.outbound import CallbackDispatcher, CallbackSender, WebhookLog
from leadenrich.webhooks.ssrf import local_webhooks_allowed


@dataclass(frozen=True)
class WebhookSettings:
    allow_local: bool = False
    signing_secrets: dict[str, str] = field(default_factory=dict)
    provider_secrets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        try:
            return cls(
                allow_local=local_webhooks_allowed(env),
                signing_secrets=signing.secrets_map(
                    env.get("WEBHOOK_SIGNING_SECRETS"), "WEBHOOK_SIGNING_SECRETS"
                ),
                provider_secrets=signing.secrets_map(
                    env.get("WEBHOOK_PROVIDER_SECRETS"), "WEBHOOK_PROVIDER_SECRETS"
                ),
            )
        except ValueError as exc:
            raise SettingsError(str(exc)) from None


class EventLog(WebhookLog, Protocol):
    """The callbacks' log plus the inbound events' record (DynamoDB, or SQLite when embedded)."""

    async def record_event(self, provider: str, event_id: str, summary: dict[str, str]) -> bool:
        """True the first time (provider, event_id) is seen: a provider's retry is recorded once."""
        ...

    async def forget_event(self, provider: str, event_id: str) -> None: ...


@dataclass(frozen=True)
class Webhooks:
    """What the processor (callbacks out) and the webhook function (events in) use."""

    settings: WebhookSettings
    log: EventLog
    dispatcher: CallbackDispatcher

    @classmethod
    def build(cls, table_name: str, dynamodb: Any, serialize: bool, env: Mapping[str, str]) -> Webhooks:
        from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog

        return cls.with_log(DynamoWebhookLog(table_name, dynamodb, serialize_calls=serialize), env)

    @classmethod
    def with_log(cls, log: EventLog, env: Mapping[str, str]) -> Webhooks:
        settings = WebhookSettings.from_env(env)
        sender = CallbackSender(settings.signing_secrets, allow_local=settings.allow_local)
        return cls(settings, log, CallbackDispatcher(sender, log))
