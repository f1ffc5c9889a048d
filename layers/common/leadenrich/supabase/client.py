"""The Supabase connection: its settings from the environment, and one async client per event loop.

The `supabase` package is imported here, on first use, never at module import time of a handler. Like the
provider clients, a client is keyed by event loop: a Lambda runs `asyncio.run` per invocation, and pooled
connections must not cross loops. The Lambdas use the service role (it bypasses row-level security, so every
query names its workspace itself); the key never appears in logs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from leadenrich.settings_errors import SettingsError

if TYPE_CHECKING:
    from supabase import AsyncClient

_CLIENTS: dict[tuple[asyncio.AbstractEventLoop, str], AsyncClient] = {}


@dataclass(frozen=True)
class SupabaseSettings:
    url: str
    service_role_key: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SupabaseSettings | None:
        """None when `SUPABASE_URL` is not set; a SettingsError naming the variable when half set."""
        env = os.environ if env is None else env
        url = env.get("SUPABASE_URL", "").strip()
        key = env.get("SUPABASE_SERVICE_ROLE_KEY", "").strip()
        if not url and not key:
            return None
        if not url:
            raise SettingsError("SUPABASE_URL: required when SUPABASE_SERVICE_ROLE_KEY is set")
        if not key:
            raise SettingsError("SUPABASE_SERVICE_ROLE_KEY: required when SUPABASE_URL is set")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("SUPABASE_URL: must be an http(s) URL such as https://<project>.supabase.co")
        return cls(url.rstrip("/"), key)


async def supabase_client(settings: SupabaseSettings) -> AsyncClient:
    """The async client for `settings` on the running loop, made on first use."""
    loop = asyncio.get_running_loop()
    key = (loop, settings.url)
    client = _CLIENTS.get(key)
    if client is None:
        import httpx
        from supabase import AsyncClientOptions, acreate_client

        # Our own httpx client: the library's default one warns about deprecated timeout/verify options.
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        client = await acreate_client(
            settings.url, settings.service_role_key, options=AsyncClientOptions(httpx_client=http)
        )
        _CLIENTS[key] = client
    return client


async def close_supabase_clients() -> None:
    """Close the running loop's clients (the processor calls this before its loop ends)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _CLIENTS if k[0] is loop]:
        client = _CLIENTS.pop(key)
        await client.postgrest.aclose()
