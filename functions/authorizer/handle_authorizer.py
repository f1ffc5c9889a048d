"""Lambda authorizer of the HTTP API (payload format 2.0, simple responses): X-API-Key -> workspace.

API Gateway calls it with the request (identity source `$request.header.X-API-Key`; a request without the
header is answered 401 before it gets here) and caches the answer per key value for `ReauthorizeEvery`
seconds (300). It answers `{"isAuthorized": true, "context": {"workspace_id": ..., "key_id": ...}}` for
an active key and `{"isAuthorized": false}` (API Gateway answers 403) otherwise. The API handler reads the
workspace from `requestContext.authorizer.lambda.workspace_id`, and from nowhere else.

Only the key's id or display prefix is ever logged, never the key. It sends no body: API Gateway answers
the refusals itself, with bodies an HTTP API cannot customise: 401 `{"message":"Unauthorized"}` without the
header, 403 `{"message":"Forbidden"}` when refused (`GatewayError` in docs/openapi.json; the local gateway
sends the same bytes).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich import runtime
from leadenrich.auth.keys import authenticate, display, well_formed
from leadenrich.lambda_logging import route_package_logs

logger = Logger()
route_package_logs(logger)  # the package's log lines, with their `extra=` context, as this logger's JSON

API_KEY_HEADER = "x-api-key"


def presented_key(event: dict[str, Any]) -> str | None:
    """The key the request carries: the identity source, else the header (names are lower-case in 2.0)."""
    sources = event.get("identitySource") or []
    if sources and isinstance(sources[0], str) and sources[0]:
        return sources[0]
    value = (event.get("headers") or {}).get(API_KEY_HEADER)
    return value if isinstance(value, str) and value else None


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    candidate = presented_key(event)
    key = asyncio.run(authenticate(runtime.key_store(), candidate))
    if key is None:
        shown = display(candidate) if candidate and well_formed(candidate) else "malformed or missing"
        logger.info("api key refused", extra={"key": shown, "route": event.get("routeKey")})
        return {"isAuthorized": False}
    logger.info("api key accepted", extra={"key_id": key.key_id, "workspace_id": key.workspace_id})
    return {"isAuthorized": True, "context": {"workspace_id": key.workspace_id, "key_id": key.key_id}}
