"""The JWTs of a Supabase project, signed HS256 with the run's secret (what PostgREST verifies).

The API keys are long-lived JWTs whose `role` claim picks the database role (anon, service_role); a signed-in
user's access token has role authenticated, the user's id in `sub`, and app_metadata, which only the service
can write: our row-level security reads the workspace from there.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt

_API_KEY_LIFETIME = 10 * 365 * 24 * 3600  # Supabase's keys last ten years


def new_jwt_secret() -> str:
    return secrets.token_urlsafe(48)  # 64 characters; PostgREST wants at least 32


def mint(secret: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def api_key(secret: str, role: str, *, now: int | None = None) -> str:
    issued = int(time.time()) if now is None else now
    return mint(secret, {"iss": "supabase", "role": role, "iat": issued, "exp": issued + _API_KEY_LIFETIME})


def user_token(
    secret: str,
    workspace_id: str,
    *,
    user_id: str | None = None,
    expires_in: int = 3600,
    now: int | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": "supabase",
        "aud": "authenticated",
        "role": "authenticated",
        "sub": user_id or str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + expires_in,
        "app_metadata": {"provider": "email", "providers": ["email"], "workspace_id": workspace_id},
        "user_metadata": {},
    }
    claims.update(extra_claims or {})
    return mint(secret, claims)
