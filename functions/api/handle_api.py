"""HTTP API Lambda: refuse what cannot be routed, then resolve. Nothing else lives here.

The resolver and its error handlers are `api_app`, the routes `api_routes` (one router per concern), what
they share `api_context`, and the responses each declares for `docs/openapi.json` `api_responses`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from api_app import allowed_methods, app, logger, takes_body
from api_context import PUBLIC_ROUTES, authorized_workspace
from api_routes import ROUTERS
from leadenrich import jsonguard
from leadenrich.http_errors import error_body

for _router in ROUTERS:
    app.include_router(_router)

# The largest request body read: what a synchronous Lambda invocation accepts at most (6 MB), so a body
# that could never reach the deployed function is refused locally too, before anything parses it. The
# largest job (10,000 leads with a company name and a person each) is about 2 MB.
MAX_BODY_BYTES = 6 * 1024 * 1024
# What Powertools would parse as a form rather than refuse (415) like any other type that is not JSON.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def body_problem(event: dict[str, Any]) -> tuple[int, str, str] | None:
    """What makes a request body unreadable before Powertools parses it, as (status, message, field): a
    base64 body that is not UTF-8 (Powertools would raise while decoding it), one over `MAX_BODY_BYTES`
    (413), one nested past `jsonguard.MAX_DEPTH` (the parser's RecursionError was a 500), or a form or
    multipart body where JSON is read (415: Powertools would parse it as a form, and a multipart type
    without a boundary was a 500). None when it may be parsed."""
    body = event.get("body")
    if not body:
        return None
    if _form_where_json_is_read(event):
        return 415, "the request body must be JSON (Content-Type: application/json)", "header.content-type"
    text = str(body)
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return 422, "the request body is not UTF-8 encoded JSON", "body"
    if len(text) > MAX_BODY_BYTES or len(text.encode("utf-8")) > MAX_BODY_BYTES:
        return 413, f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB", "body"
    try:
        jsonguard.check_depth(text)
    except jsonguard.JsonTooDeep as exc:
        return 422, f"the request body is {exc}", "body"
    return None


def _form_where_json_is_read(event: dict[str, Any]) -> bool:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if not content_type.startswith(FORM_TYPES):
        return False
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    return takes_body(method, str(event.get("rawPath") or ""))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if (method, event.get("rawPath")) not in PUBLIC_ROUTES and authorized_workspace(event) is None:
        # Defence in depth: API Gateway's authorizer lets nothing through without a workspace.
        return _plain_json(401, error_body("Unauthorized"))
    problem = body_problem(event)
    if problem is not None:
        status, message, field = problem
        return _plain_json(status, error_body(message, field))
    return app.resolve(event, context)


def _plain_json(status: int, body: object) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


__all__ = ["MAX_BODY_BYTES", "allowed_methods", "app", "authorized_workspace", "body_problem", "handler"]
