"""Secrets from Secrets Manager: read on first use, cached, never put in environment variables.

Two JSON secrets, each read only by the functions that need it:
- `PROVIDER_SECRET_ARN`: `HUNTER_API_KEY`, `PERPLEXITY_API_KEY`, the provider keys (the processor only);
- `APP_SECRET_ARN`, the service's own secrets:
- `SUPABASE_SERVICE_ROLE_KEY`: the Supabase key (API, processor, webhook function, when Supabase is used);
- `WEBHOOK_SIGNING_SECRETS`: a JSON object (or its text) `{"<workspace>": "whsec_..."}`, the per-workspace
  secrets that sign outbound callbacks (the processor);
- `WEBHOOK_PROVIDER_SECRETS`: a JSON object (or its text) `{"<provider>": "whsec_..."}`, the secrets that
  inbound provider webhooks are verified with (the webhook function).
Locally (no secret ARN) the same names come from the environment: `secret_env` merges the two.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

PROVIDER_KEYS = ("HUNTER_API_KEY", "PERPLEXITY_API_KEY")
SECRET_NAMES = (
    *PROVIDER_KEYS,
    "SUPABASE_SERVICE_ROLE_KEY",
    "WEBHOOK_SIGNING_SECRETS",
    "WEBHOOK_PROVIDER_SECRETS",
)


def _secret(secret_id: str, max_age_seconds: int) -> dict[str, Any]:
    from aws_lambda_powertools.utilities import parameters

    value: Any = parameters.get_secret(secret_id, transform="json", max_age=max_age_seconds)
    if not isinstance(value, dict):
        # Never the value itself: it is the secret.
        raise ValueError("PROVIDER_SECRET_ARN: the secret must be a JSON object of named secrets")
    return value


def secret_values(
    secret_id: str, names: tuple[str, ...] = SECRET_NAMES, max_age_seconds: int = 300
) -> dict[str, str]:
    """The non-empty values of `names` in the secret's JSON; a nested object is returned as its JSON text
    (so `WEBHOOK_SIGNING_SECRETS` reads the same from the secret as from an environment variable).

    Powertools caches the value for `max_age_seconds`, so a warm Lambda does not call Secrets Manager on
    every invocation, and a rotated value is picked up within that time by new services.
    """
    value = _secret(secret_id, max_age_seconds)
    found: dict[str, str] = {}
    for name in names:
        item = value.get(name)
        if isinstance(item, dict):
            found[name] = json.dumps(item)
        elif isinstance(item, str) and item:
            found[name] = item
    return found


def provider_keys(secret_id: str, max_age_seconds: int = 300) -> dict[str, str]:
    """The non-empty provider keys in the secret's JSON, e.g. {"HUNTER_API_KEY": "..."}."""
    return secret_values(secret_id, PROVIDER_KEYS, max_age_seconds)


def secret_env(secret_id: str | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with the secret's values over it (AWS); the environment alone when no secret
    (locally: SUPABASE_SERVICE_ROLE_KEY, WEBHOOK_SIGNING_SECRETS... are plain environment variables)."""
    merged = dict(os.environ if env is None else env)
    if secret_id:
        merged.update(secret_values(secret_id))
    return merged
