"""Bounce feedback in: the adapters of the sending tools a workspace already uses (docs/bounces.md).

They extend the inbound mechanism of `leadenrich.webhooks.inbound` in one way, for one reason: a bounce
belongs to a workspace, and which workspace must come from something only that workspace's sending tool
holds. So a bounce adapter is made per request from the settings of the workspace the URL names
(`POST /webhooks/{provider}?workspace=<id>`), with the verification material those settings hold (SNS
topics, SendGrid's key, Postmark's password digest: `leadenrich.bounces.sources`), instead of from one
service-wide secret per provider: a request that the workspace's material does not verify is refused (401),
and one for a workspace that set nothing up for the provider is 404. A workspace can therefore neither
send bounces in another's name nor make another's bounces land on its own data.

Adding a sending tool is one module with an adapter class and one line in `BOUNCE_ADAPTERS`:

    class AcmeAdapter:
        name = "acme"

        @classmethod
        def for_settings(cls, settings, certificates) -> AcmeAdapter | None:  # None: not set up
            ...

        async def read(self, headers, body, now) -> BounceDelivery:
            ...  # verify over the raw body (raise common.Unverified), then parse (raise MalformedEvent)

plus, when it needs material of its own, a field in `WorkspaceSettings` (and in `WorkspaceSettingsChange`,
its view, and `enrich workspace settings set`), checked by a rule in `bounces.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from leadenrich.bounces.models import BounceDelivery
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.bounces.common import Unverified
from leadenrich.webhooks.bounces.postmark import PostmarkAdapter
from leadenrich.webhooks.bounces.sendgrid import SendGridAdapter
from leadenrich.webhooks.bounces.ses import SesAdapter
from leadenrich.webhooks.bounces.sns import CertificateSource


class BounceAdapter(Protocol):
    name: str

    async def read(self, headers: Mapping[str, str], body: bytes, now: float) -> BounceDelivery:
        """The request verified and read: raise `common.Unverified` (401) unless the workspace's sending
        tool sent it, `inbound.MalformedEvent` (400) when a verified body is not what it sends."""
        ...


AdapterFactory = Callable[[WorkspaceSettings, CertificateSource], BounceAdapter | None]

# provider -> the adapter for a workspace's settings (None: the workspace did not set the provider up)
BOUNCE_ADAPTERS: dict[str, AdapterFactory] = {
    "ses": SesAdapter.for_settings,
    "sendgrid": SendGridAdapter.for_settings,
    "postmark": PostmarkAdapter.for_settings,
}


def bounce_adapter(
    provider: str, settings: WorkspaceSettings, certificates: CertificateSource
) -> BounceAdapter | None:
    factory = BOUNCE_ADAPTERS.get(provider)
    return factory(settings, certificates) if factory is not None else None


__all__ = ["BOUNCE_ADAPTERS", "BounceAdapter", "Unverified", "bounce_adapter"]
