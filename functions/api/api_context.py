"""What every route of the API Lambda shares: the caller's workspace and its request rate, the job service,
one event loop per call, and the JSON answer. No route builds a response any other way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel

from leadenrich import runtime
from leadenrich.auth.keys import well_formed
from leadenrich.http_errors import Problem, error_body
from leadenrich.jobs.service import JobService, RequestRejected
from leadenrich.jobs.views import dump
from leadenrich.supabase.client import close_supabase_clients

_T = TypeVar("_T")

# The operator console's page and files (`api_routes.console`): static, holding no data; the page sends the
# operator's key to the keyed routes. Served by exact name, so only these paths are public.
CONSOLE_DIR = Path(__file__).resolve().parent / "console"
CONSOLE_FILES = frozenset(
    path.name for path in CONSOLE_DIR.glob("*") if path.suffix in {".html", ".js", ".css", ".svg"}
)
# Routes without an API key: no workspace, and never counted against a workspace's request rate.
PUBLIC_ROUTES = frozenset(
    {("GET", "/health"), ("GET", "/console"), *(("GET", f"/console/{name}") for name in CONSOLE_FILES)}
)


class HeaderRejected(RequestRejected):
    """A header refused by the handler itself (422 naming `header.<name>`, like a validation error)."""

    location = "header"


class Unauthorized(Exception):
    """No authorizer context on a route that needs one (the API answers 401 as API Gateway would)."""


def new_router() -> APIGatewayHttpRouter:
    """A router of routes on the API's resolver (`handle_api` includes them)."""
    return APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools: untyped __init__


def run(work: Coroutine[Any, Any, _T]) -> _T:
    """One event loop per call; the Supabase clients made on it are closed with it."""

    async def scoped() -> _T:
        try:
            return await work
        finally:
            await close_supabase_clients()

    return asyncio.run(scoped())


def authorized_workspace(event: dict[str, Any]) -> str | None:
    """The workspace the Lambda authorizer resolved from the API key, from
    `requestContext.authorizer.lambda.workspace_id` and nowhere else (no header the caller sets)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    lambda_context = context.get("lambda") if isinstance(context, dict) else None
    workspace = lambda_context.get("workspace_id") if isinstance(lambda_context, dict) else None
    return workspace if isinstance(workspace, str) and workspace else None


def authorized_key_id(event: dict[str, Any]) -> str | None:
    """The id of the API key the authorizer accepted (`key_...`, from
    `requestContext.authorizer.lambda.key_id`): who acted, for the audit trail. The authorizer's context
    never holds the key itself; a value shaped like one is refused here all the same (None)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    lambda_context = context.get("lambda") if isinstance(context, dict) else None
    key_id = lambda_context.get("key_id") if isinstance(lambda_context, dict) else None
    if not isinstance(key_id, str) or not key_id or well_formed(key_id) or len(key_id) > 64:
        return None
    return key_id


def workspace(event: BaseProxyEvent) -> str:
    """The caller's workspace; Unauthorized (401) without one."""
    found = authorized_workspace(event.raw_event)
    if found is None:
        raise Unauthorized
    return found


def admit(event: BaseProxyEvent) -> None:
    """Take one request from the caller's workspace bucket (`leadenrich.auth.request_rate`; a 429 when it
    is empty). Public routes take nothing; so does a request without a workspace, which its route refuses
    (401) anyway."""
    if (event.http_method.upper(), event.path) in PUBLIC_ROUTES:
        return
    caller = authorized_workspace(event.raw_event)
    rate = runtime.request_rate()
    if caller is not None and rate is not None:
        run(rate.admit(caller))


def job_service() -> JobService:
    """The process's job service."""
    return runtime.job_service()


def answer(status: int, view: BaseModel, headers: dict[str, str] | None = None) -> Response[str]:
    """A success: the view as JSON (`leadenrich.jobs.views.dump`)."""
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=dump(view), headers=headers
    )


def error(
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[Problem] | None = None,
    **extra: object,
) -> Response[str]:
    """A 4xx/5xx in the API's one error model (`leadenrich.http_errors`)."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_body(message, field, errors) | extra),
        headers=headers,
    )
