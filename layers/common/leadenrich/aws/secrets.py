"""Provider keys from Secrets Manager: read on first use, cached, never put in environment variables."""

from __future__ import annotations

from typing import Any

PROVIDER_KEYS = ("HUNTER_API_KEY", "PERPLEXITY_API_KEY")


def provider_keys(secret_id: str, max_age_seconds: int = 300) -> dict[str, str]:
    """The non-empty provider keys in the secret's JSON, e.g. {"HUNTER_API_KEY": "..."}.

    Powertools caches the value for `max_age_seconds`, so a warm Lambda does not call Secrets Manager on
    every invocation, and a rotated key is picked up within that time by new services.
    """
    from aws_lambda_powertools.utilities import parameters

    value: Any = parameters.get_secret(secret_id, transform="json", max_age=max_age_seconds)
    if not isinstance(value, dict):
        raise ValueError("PROVIDER_SECRET_ARN: the secret must be a JSON object of provider keys")
    return {name: value[name] for name in PROVIDER_KEYS if isinstance(value.get(name), str) and value[name]}
